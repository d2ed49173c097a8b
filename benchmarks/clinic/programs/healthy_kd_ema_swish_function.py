"""Knowledge distillation of a small CNN teacher into a Swish student, with an EMA copy of the student.

expect: healthy
trap: frozen teacher (requires_grad=False, eval mode, no_grad) and an EMA copy that is in no optimizer; the KD loss (KL on soft targets, T^2 scaled) plus label-smoothed CE never goes to zero

Phase 1 trains a small conv teacher on sklearn digits (8x8) with label-smoothed
cross-entropy. Phase 2 freezes the teacher (requires_grad_(False), .eval(),
forward under torch.no_grad()) and distils it into a narrower student whose
activation is a memory-efficient Swish written as a custom autograd.Function.
Student loss = alpha * T^2 * KL(student/T || teacher/T) + (1 - alpha) * CE with
label smoothing 0.1 (two losses summed). An exponential moving average of the
student weights (a deepcopy with requires_grad=False, updated in-place under
no_grad, never handed to an optimizer) is evaluated at the end. Nothing here is
broken: the label-smoothed CE floor and the KL to soft targets keep the loss
well above zero by design.
Measured (plain run): teacher test acc 0.9978, student 0.9867, EMA student
0.9844 (NNDOCTOR_METRIC test_acc).
"""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
Xtr = torch.tensor(Xtr).view(-1, 1, 8, 8)
Xte = torch.tensor(Xte).view(-1, 1, 8, 8)
ytr = torch.tensor(ytr)
yte = torch.tensor(yte)
mean, std = Xtr.mean(), Xtr.std()
Xtr = (Xtr - mean) / std
Xte = (Xte - mean) / std


class SwishFn(torch.autograd.Function):
    """x * sigmoid(x) that saves only the input (recomputes sigmoid in backward)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad_out * (s * (1 + x * (1 - s)))


class Swish(nn.Module):
    def forward(self, x):
        return SwishFn.apply(x)


def teacher_net():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    )


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 12, 3, padding=1)
        self.norm = nn.GroupNorm(4, 12)
        self.act = Swish()
        self.fc1 = nn.Linear(12 * 16, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        h = F.avg_pool2d(self.act(self.norm(self.conv(x))), 2)
        return self.fc2(self.act(self.fc1(h.flatten(1))))


def batches(n, bs):
    perm = torch.randperm(n)
    for i in range(0, n, bs):
        yield perm[i:i + bs]


@torch.no_grad()
def accuracy(model, X, y):
    model.eval()
    acc = (model(X).argmax(1) == y).float().mean().item()
    return acc


# ---- phase 1: teacher -----------------------------------------------------
teacher = teacher_net()
opt_t = torch.optim.AdamW(teacher.parameters(), lr=2e-3, weight_decay=1e-4)
for epoch in range(6):
    teacher.train()
    for idx in batches(len(Xtr), 64):
        loss = F.cross_entropy(teacher(Xtr[idx]), ytr[idx], label_smoothing=0.1)
        opt_t.zero_grad(set_to_none=True)
        loss.backward()
        opt_t.step()
teacher_acc = accuracy(teacher, Xte, yte)
print(f"teacher acc {teacher_acc:.4f}")

# ---- phase 2: distillation ------------------------------------------------
teacher.requires_grad_(False)
teacher.eval()

student = Student()
ema = copy.deepcopy(student).requires_grad_(False)
ema_decay = 0.98
opt_s = torch.optim.Adam(student.parameters(), lr=3e-3)
T, alpha = 4.0, 0.7


def kd_loss(s_logits, t_logits, target):
    soft = F.kl_div(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1),
                    reduction="batchmean") * (T * T)
    hard = F.cross_entropy(s_logits, target, label_smoothing=0.1)
    return alpha * soft + (1 - alpha) * hard


step = 0
for epoch in range(10):
    student.train()
    for idx in batches(len(Xtr), 64):
        xb, yb = Xtr[idx], ytr[idx]
        with torch.no_grad():
            t_logits = teacher(xb)
        loss = kd_loss(student(xb), t_logits, yb)
        opt_s.zero_grad(set_to_none=True)
        loss.backward()
        opt_s.step()
        step += 1
        with torch.no_grad():
            d = min(ema_decay, (1 + step) / (10 + step))
            for pe, ps in zip(ema.parameters(), student.parameters()):
                pe.mul_(d).add_(ps.detach(), alpha=1 - d)
    if epoch % 5 == 4:
        print(f"epoch {epoch} loss {loss.item():.4f} student acc {accuracy(student, Xte, yte):.4f}")

acc = accuracy(ema, Xte, yte)
print(f"student acc {accuracy(student, Xte, yte):.4f} ema acc {acc:.4f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
