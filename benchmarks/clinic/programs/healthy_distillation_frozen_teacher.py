"""Knowledge distillation on digits: a wide teacher is trained, then a small student learns from its soft targets.

expect: healthy
trap: a teacher "frozen" only by torch.no_grad() and teacher.eval() -- its parameters still have requires_grad=True, belong to no optimizer in the distillation phase and get no gradient there (its own optimizer is finished); a finished first phase (the teacher's optimizer is never stepped again); KL-divergence on temperature-softened logits mixed with hard-label cross-entropy
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)

T, ALPHA = 4.0, 0.7


def mlp(width, depth, p_drop=0.0):
    layers, n_in = [], 64
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), nn.ReLU(), nn.Dropout(p_drop)]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, 10))


@torch.no_grad()
def accuracy(model, X, y):
    was_training = model.training
    model.eval()
    acc = (model(X).argmax(1) == y).float().mean().item()
    model.train(was_training)
    return acc


def distillation_loss(student_logits, teacher_logits, labels):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher_logits / T, dim=1),
                    reduction="batchmean") * T * T
    hard = F.cross_entropy(student_logits, labels)
    return ALPHA * soft + (1 - ALPHA) * hard


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_te, y_te = X[:1400], y[:1400], X[1400:], y[1400:]

# Phase 1: the teacher.
teacher = mlp(256, 2, p_drop=0.2)
t_opt = torch.optim.Adam(teacher.parameters(), lr=1e-3)
for step in range(250):
    idx = torch.randint(0, len(X_tr), (64,))
    t_opt.zero_grad()
    F.cross_entropy(teacher(X_tr[idx]), y_tr[idx]).backward()
    t_opt.step()
print(f"teacher test acc {accuracy(teacher, X_te, y_te):.3f}")

# Phase 2: the student learns from the teacher's softened outputs.
teacher.eval()
student = mlp(32, 1)
s_opt = torch.optim.Adam(student.parameters(), lr=3e-3)
for step in range(300):
    idx = torch.randint(0, len(X_tr), (64,))
    xb, yb = X_tr[idx], y_tr[idx]
    with torch.no_grad():
        t_logits = teacher(xb)
    loss = distillation_loss(student(xb), t_logits, yb)
    s_opt.zero_grad()
    loss.backward()
    s_opt.step()
    if step % 50 == 0 or step == 299:
        print(f"step {step:3d}  distill loss {loss.item():.4f}  student test acc {accuracy(student, X_te, y_te):.3f}")
