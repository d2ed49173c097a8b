"""Semi-supervised mean-teacher CNN on 8x8 digits (150 labels): an EMA teacher gives consistency targets under no_grad.
expect: healthy
trap: the teacher is a deepcopy of the student whose parameters still have requires_grad=True but never get a .grad and are in no optimizer (updated by lerp_ in no_grad); the consistency weight ramps up from exactly 0, so for the first steps the unlabeled branch contributes nothing; the objective itself changes as the weight ramps (total loss not comparable across steps); the teacher's accuracy lags the student's early on; minibatch loss is noisy (32 labels per step, random shifts + noise)

Mean teacher (Tarvainen & Valpola): the student is trained with cross-entropy on the few labeled images
plus an MSE consistency term between its softmax on a noisy/shifted view of unlabeled images and the
teacher's softmax on another view.  The teacher is an exponential moving average of the student
(decay 0.99, warmed up as 1-1/(t+1)), updated after every optimizer step with torch.no_grad()+lerp_; its forward pass also runs
under no_grad, so its parameters -- which still say requires_grad=True because copy.deepcopy keeps the flag
-- never enter any graph.  This is by design: the teacher is a target network.  The consistency weight
follows a sigmoid ramp-up from 0 over the first 40% of training.  The teacher is the model we evaluate.
Measured: val_acc=0.9574 (teacher; student 0.9407)
"""
import copy
import math
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X.astype(np.float32) / 16.0 - 0.3) / 0.4
X_pool, X_val, y_pool, y_val = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
X_lab, X_unl, y_lab, _ = train_test_split(X_pool, y_pool, train_size=150, random_state=SEED, stratify=y_pool)
as_img = lambda a: torch.tensor(a).view(-1, 1, 8, 8)
X_lab, X_unl, X_val = as_img(X_lab), as_img(X_unl), as_img(X_val)
y_lab, y_val = torch.tensor(y_lab), torch.tensor(y_val)


def augment(x):
    """random +-1 pixel translation and gaussian noise"""
    dx, dy = np.random.randint(-1, 2, size=2)
    x = torch.roll(x, shifts=(int(dx), int(dy)), dims=(2, 3))
    return x + 0.15 * torch.randn_like(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(32, 32, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 4, 10))

    def forward(self, x):
        return self.f(x)


student = CNN()
teacher = copy.deepcopy(student)           # same init; requires_grad flags are copied (left as-is)
opt = torch.optim.Adam(student.parameters(), lr=2e-3)

STEPS, BS_L, BS_U, EMA = 400, 32, 64, 0.99
MAX_W, RAMP = 4.0, int(0.4 * STEPS)


def cons_weight(step):
    t = min(step, RAMP) / RAMP
    return MAX_W * math.exp(-5.0 * (1.0 - t) ** 2) if step > 0 else 0.0


@torch.no_grad()
def update_teacher(alpha):
    for t_p, s_p in zip(teacher.parameters(), student.parameters()):
        t_p.lerp_(s_p, 1.0 - alpha)


@torch.no_grad()
def acc(net):
    net.eval()
    a = (net(X_val).argmax(1) == y_val).float().mean().item()
    net.train()
    return a


t0 = time.time()
for step in range(STEPS):
    il = torch.randint(0, len(X_lab), (BS_L,))
    iu = torch.randint(0, len(X_unl), (BS_U,))
    x_all = torch.cat([X_lab[il], X_unl[iu]])
    s_logits = student(augment(x_all))
    with torch.no_grad():
        t_logits = teacher(augment(x_all))
    class_loss = F.cross_entropy(s_logits[:BS_L], y_lab[il])
    cons_loss = F.mse_loss(s_logits.softmax(1), t_logits.softmax(1), reduction="sum") / x_all.size(0)
    w = cons_weight(step)
    loss = class_loss + w * cons_loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    update_teacher(min(1.0 - 1.0 / (step + 1), EMA))      # warm-up of the EMA decay
    if step % 50 == 0 or step == STEPS - 1:
        print(f"step {step:3d} w {w:.2f} class {class_loss.item():.4f} cons {cons_loss.item():.4f} "
              f"student_acc {acc(student):.4f} teacher_acc {acc(teacher):.4f}")

val_acc = acc(teacher)
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
