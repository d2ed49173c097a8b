"""Feature distillation (FitNets-style) on digits where the student-to-teacher adapter is left out of the optimizer.

expect: parameter-not-optimized
allow: loss-not-decreasing, gradient-not-zeroed

A wide teacher is trained first. The small student is then trained with cross-entropy plus
a hint loss that matches its 32-d hidden features to the teacher's 256-d hidden features
through a linear `adapter` (32 -> 256). The adapter is created as a separate module next
to the student, but the optimizer is built from `student.parameters()` only. The adapter
requires grad and receives a gradient at every backward() (and, never zeroed by the
student's optimizer, its .grad just keeps growing), yet it stays at its random
initialisation, so the hint term never does its job: the hint loss goes from 1.68 at
step 0 to 1.82 at step 299, where with the adapter in the optimizer it falls to ~0.035
(50x lower). Test accuracy comes from the cross-entropy term alone (~0.89 either way):
the distillation signal the run was set up for is simply lost.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)

HINT_WEIGHT = 1.0


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        h = self.body(x)
        return self.head(h), h


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_te, y_te = X[:1400], y[:1400], X[1400:], y[1400:]

teacher = Net(256)
t_opt = torch.optim.Adam(teacher.parameters(), lr=1e-3)
for step in range(200):
    idx = torch.randint(0, len(X_tr), (64,))
    t_opt.zero_grad()
    F.cross_entropy(teacher(X_tr[idx])[0], y_tr[idx]).backward()
    t_opt.step()
teacher.eval()

student = Net(32)
adapter = nn.Linear(32, 256)
optimizer = torch.optim.Adam(student.parameters(), lr=2e-3)

for step in range(300):
    idx = torch.randint(0, len(X_tr), (64,))
    xb, yb = X_tr[idx], y_tr[idx]
    with torch.no_grad():
        _, t_feat = teacher(xb)
    logits, s_feat = student(xb)
    ce = F.cross_entropy(logits, yb)
    hint = F.mse_loss(adapter(s_feat), t_feat)
    loss = ce + HINT_WEIGHT * hint
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 299:
        with torch.no_grad():
            acc = (student(X_te)[0].argmax(1) == y_te).float().mean().item()
        print(f"step {step:3d}  ce {ce.item():.4f}  hint {hint.item():.4f}  student test acc {acc:.3f}")
        print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
