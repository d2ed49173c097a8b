"""Healthy twin of faulty_parameter-not-optimized_distill_feature_adapter.py: the adapter in the optimizer.
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
optimizer = torch.optim.Adam(list(student.parameters()) + list(adapter.parameters()), lr=2e-3)

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
