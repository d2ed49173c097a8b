"""CORAL ordinal regression (shared weight vector, K-1 ordered biases) on a synthetic 6-level severity score, with the binary cross-entropy over the cumulative logits written by hand as y*log(p)+(1-y)*log(1-p).
expect: non-finite
allow: loss-mismatch

The cumulative probabilities p_k = sigmoid(g(x) + b_k) are computed first and the loss takes
torch.log(p) and torch.log(1 - p).  The severity levels are nearly separable, so the network becomes
confident: once g(x) + b_k passes ~17 in float32, sigmoid returns exactly 1.0, log(1 - p) is -inf and
(1 - y) * -inf = 0 * -inf = NaN.  The NaN loss produces NaN gradients, Adam writes NaN into every
weight and all later predictions collapse to level 0.  The fix is F.logsigmoid (or
binary_cross_entropy_with_logits) on the logits.
Measured: faulty val_mae=2.5233 vs fixed val_mae=0.1600 (seed 0); seeds 1/2: 2.5283 vs 0.1883, 2.5217 vs 0.1600
(first NaN at step 445, max |logit| 16.9, a level-1 target with p == 1.0 exactly)
"""
import time
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

# ------------------------------------------------------------- synthetic ordinal data
rng = np.random.default_rng(SEED)
K = 6
n, d = 3000, 10
X = rng.normal(size=(n, d)).astype(np.float32)
w_true = rng.normal(size=d)
latent = X @ w_true + 0.8 * np.sin(2 * X[:, 0]) + rng.normal(0, 0.05, n)
cuts = np.quantile(latent, np.linspace(0, 1, K + 1)[1:-1])
y = np.searchsorted(cuts, latent).astype(np.int64)     # 0..K-1

perm = rng.permutation(n)
tr, va = perm[:2400], perm[2400:]
Xtr, Xva = torch.from_numpy(X[tr]), torch.from_numpy(X[va])
ytr, yva = torch.from_numpy(y[tr]), torch.from_numpy(y[va])


class CoralNet(nn.Module):
    def __init__(self, d_in, K):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.fc = nn.Linear(64, 1, bias=False)
        self.biases = nn.Parameter(torch.linspace(1.0, -1.0, K - 1))

    def forward(self, x):
        return self.fc(self.body(x)) + self.biases        # [B, K-1] cumulative logits


def levels_from_labels(y, K):
    # y=3, K=6 -> [1, 1, 1, 0, 0]
    return (y[:, None] > torch.arange(K - 1)[None, :]).float()


def coral_loss(logits, levels):
    p = torch.sigmoid(logits)
    ll = levels * torch.log(p) + (1 - levels) * torch.log(1 - p)
    return -ll.sum(1).mean()


model = CoralNet(d, K)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
bs = 64
step = 0
for epoch in range(25):
    p = torch.randperm(len(Xtr))
    for b in range(0, len(p), bs):
        i = p[b:b + bs]
        loss = coral_loss(model(Xtr[i]), levels_from_labels(ytr[i], K))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    if epoch % 5 == 0 or epoch == 24:
        print(f"epoch {epoch:2d} step {step} loss={loss.item():.4f}")

with torch.no_grad():
    pred = (torch.sigmoid(model(Xva)) > 0.5).sum(1)
val_mae = (pred - yva).abs().float().mean().item()
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_mae={val_mae:.4f} lower")
