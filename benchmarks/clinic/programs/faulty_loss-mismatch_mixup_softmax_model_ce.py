"""Mixup training of a small CNN on digits where the model ends in nn.Softmax and the loss is cross_entropy on mixed soft labels (softmax applied twice).

expect: loss-mismatch
allow: loss-not-decreasing

The network returns probabilities because the same module is used for
calibrated predictions (expected calibration error is computed on its output),
so the author put nn.Softmax(dim=1) as the last layer. The training loss is
F.cross_entropy(output, mixed_soft_targets): cross_entropy applies
log_softmax again, so it is computed on softmax(probabilities). Probabilities
lie in [0, 1], so the effective logits span at most 1 nat: on a one-hot
target the loss can never go below log(1 + 9/e) = 1.46, and the gradient is
squashed by the extra softmax Jacobian, so learning is very slow (last-batch
loss 1.49 after 12 epochs vs 0.13 for the fix).
Fix (fixed/f1_mixup_softmax_ce_fixed.py): drop the final Softmax from the
training forward, feed logits to cross_entropy, and apply softmax only for
prediction.
Measured: test accuracy faulty 0.8533 vs fixed 0.9889 (same seed, data,
optimizer SGD(momentum=0.9, lr=0.05), 12 epochs, mixup alpha=0.4).
"""
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
X = (X / 16.0 - 0.3) / 0.45
Xtr, Xte, ytr, yte = train_test_split(X.astype(np.float32), y, test_size=0.25, random_state=2, stratify=y)
Xtr, Xte = torch.tensor(Xtr).view(-1, 1, 8, 8), torch.tensor(Xte).view(-1, 1, 8, 8)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)


class ProbCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, 10),
        )
        self.to_prob = nn.Softmax(dim=1)

    def forward(self, x):
        return self.to_prob(self.body(x))


def mixup(x, y, alpha=0.4):
    lam = float(np.random.beta(alpha, alpha))
    perm = torch.randperm(x.shape[0])
    y1 = F.one_hot(y, 10).float()
    return lam * x + (1 - lam) * x[perm], lam * y1 + (1 - lam) * y1[perm]


def ece(prob, y, bins=10):
    conf, pred = prob.max(1)
    e = torch.zeros(())
    for lo in torch.linspace(0, 1, bins + 1)[:-1]:
        m = (conf > lo) & (conf <= lo + 1 / bins)
        if m.any():
            e += m.float().mean() * ((pred[m] == y[m]).float().mean() - conf[m].mean()).abs()
    return e.item()


model = ProbCNN()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
for epoch in range(12):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(perm), 64):
        idx = perm[i:i + 64]
        xm, ym = mixup(Xtr[idx], ytr[idx])
        out = model(xm)
        loss = F.cross_entropy(out, ym)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 4 == 3:
        print(f"epoch {epoch + 1} loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    prob = model(Xte)
acc = (prob.argmax(1) == yte).float().mean().item()
print(f"ECE {ece(prob, yte):.4f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
