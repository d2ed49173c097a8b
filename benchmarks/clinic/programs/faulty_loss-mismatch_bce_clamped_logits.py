"""Two-moons binary classifier: F.binary_cross_entropy applied to the raw logits, clamped into (0, 1).

expect: loss-mismatch

The model has no sigmoid, so binary_cross_entropy complained that its input was not in [0, 1];
the "fix" was to clamp the logits. Every logit outside (1e-6, 1 - 1e-6) is cut to the boundary
with zero gradient, so a sample only teaches the model while its raw score happens to lie
inside (0, 1); samples with a clamped wrong-side score cost ~13.8 and give nothing back. The
loss swings between 0.15 and 7 and the boundary is never fitted properly.
Fixed (F.binary_cross_entropy_with_logits on the raw logits, threshold at 0):
test acc 0.980 vs 0.885 here.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_moons

torch.manual_seed(0)

X, y = make_moons(n_samples=1000, noise=0.15, random_state=0)
X = torch.tensor(X, dtype=torch.float32)
y = torch.tensor(y, dtype=torch.float32)
X_train, y_train, X_test, y_test = X[:800], y[:800], X[800:], y[800:]


class MoonNet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                    nn.Linear(hidden, 1))

    def forward(self, x):
        return self.layers(x).squeeze(-1)


model = MoonNet()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
EPS = 1e-6

for step in range(400):
    idx = torch.randint(0, len(X_train), (64,))
    out = model(X_train[idx])
    # binary_cross_entropy raised "all elements of input should be between 0 and 1", so keep it in range
    loss = F.binary_cross_entropy(out.clamp(EPS, 1 - EPS), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 399:
        with torch.no_grad():
            acc = ((model(X_test) > 0.5).float() == y_test).float().mean().item()
        print(f"step {step:3d}  loss {loss.item():.4f}  test acc {acc:.3f}")
