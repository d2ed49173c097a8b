"""Mean-teacher training on wine: a student with dropout and input noise, an EMA teacher updated in place under no_grad.

expect: healthy
trap: a second model whose parameters require no grad and change every step outside any optimizer (the EMA), a consistency loss against its no_grad outputs, and a training loss that reaches 0.0 (accuracy 1.0)
"""
import copy, torch, torch.nn as nn, torch.nn.functional as F
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler
torch.manual_seed(1)
X, y = load_wine(return_X_y=True)
X = torch.tensor(StandardScaler().fit_transform(X), dtype=torch.float32); y = torch.tensor(y)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(13, 64), nn.GELU(), nn.Dropout(0.2), nn.Linear(64, 64), nn.GELU())
        self.head = nn.Linear(64, 3)
    def forward(self, x):
        return self.head(self.body(x))
student = Net(); teacher = copy.deepcopy(student)
for p in teacher.parameters(): p.requires_grad_(False)
opt = torch.optim.AdamW(student.parameters(), lr=3e-3)
for step in range(400):
    idx = torch.randint(0, len(X), (32,))
    xb, yb = X[idx], y[idx]
    noisy = xb + 0.1 * torch.randn_like(xb)
    s = student(noisy)
    with torch.no_grad():
        t = teacher(xb)
    loss = F.cross_entropy(s, yb) + 0.5 * F.mse_loss(s.softmax(-1), t.softmax(-1))
    opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        for pt, ps in zip(teacher.parameters(), student.parameters()):
            pt.mul_(0.99).add_(ps, alpha=0.01)
    if step % 100 == 0:
        print(step, round(loss.item(), 4))
teacher.eval()
print("acc", (teacher(X).argmax(1) == y).float().mean().item())
