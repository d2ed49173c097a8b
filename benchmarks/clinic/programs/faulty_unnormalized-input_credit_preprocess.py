"""Credit-default MLP on a mixed numeric/categorical table whose hand-written preprocessing computes the standardized numeric block but concatenates the raw one.
expect: unnormalized-input
allow: loss-not-decreasing, learning-rate-too-high

`preprocess()` follows the usual recipe: numeric columns are standardized with training-set
statistics, categorical columns are one-hot encoded with numpy, and the blocks are hstacked.
The hstack, though, uses `num` (the raw slice) instead of `num_z`, so the network sees annual
income ~5e4, loan amount ~1e4, credit score ~600, tenure in months next to 0/1 one-hot columns.
The first layer's pre-activations are in the thousands, dominated by income and loan amount;
the logits saturate, the BCE swings between ~1 and ~10, and the informative small-scale
signals (credit score deviations, the ratio loan/income, the one-hots) are drowned out, so the
held-out AUC is far below the standardized version. Fix: `np.hstack([num_z] + onehots)`.
Measured: faulty val_auc=0.5396 vs fixed val_auc=0.8833   (seeds 1/2: 0.708 vs 0.888, 0.618 vs 0.891)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

rng = np.random.default_rng(SEED)
N = 5000
age = rng.uniform(21, 70, N)
income = rng.lognormal(10.8, 0.45, N)
loan = rng.lognormal(9.2, 0.6, N)
score = np.clip(rng.normal(650, 70, N), 300, 850)
tenure = rng.integers(0, 240, N).astype(float)
purpose = rng.integers(0, 5, N)
region = rng.integers(0, 8, N)
z = (-1.0 + 2.2 * np.log(loan / income * 10) / 1.0 - 0.025 * (score - 650)
     - 0.004 * (tenure - 120) + 0.02 * (age - 45) ** 2 / 10 - 0.03 * (age - 45)
     + np.array([0.0, 0.6, -0.4, 0.9, -0.8])[purpose] + rng.normal(0, 0.3, 8)[region])
default = (rng.random(N) < 1 / (1 + np.exp(-z))).astype(np.float32)
table = np.column_stack([age, income, loan, score, tenure, purpose, region])

NUM_COLS = [0, 1, 2, 3, 4]
CAT_COLS = {5: 5, 6: 8}  # column -> cardinality


def preprocess(table, stats=None):
    num = table[:, NUM_COLS].astype(np.float64)
    if stats is None:
        stats = (num.mean(axis=0), num.std(axis=0) + 1e-8)
    num_z = (num - stats[0]) / stats[1]  # noqa: F841
    onehots = [np.eye(card)[table[:, c].astype(int)] for c, card in CAT_COLS.items()]
    return np.hstack([num] + onehots).astype(np.float32), stats


perm = rng.permutation(N)
tr, va = perm[:4000], perm[4000:]
X_tr, stats = preprocess(table[tr])
X_va, _ = preprocess(table[va], stats)
X_tr, X_va = torch.from_numpy(X_tr), torch.from_numpy(X_va)
y_tr, y_va = torch.from_numpy(default[tr]), torch.from_numpy(default[va])

model = nn.Sequential(nn.Linear(X_tr.shape[1], 64), nn.ReLU(),
                      nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.BCEWithLogitsLoss()

BATCH = 128
for epoch in range(25):
    model.train()
    order = torch.randperm(len(X_tr))
    for i in range(0, len(X_tr), BATCH):
        b = order[i:i + BATCH]
        loss = loss_fn(model(X_tr[b]).squeeze(-1), y_tr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 5 == 4:
        model.eval()
        with torch.no_grad():
            va_logit = model(X_va).squeeze(-1)
            va_loss = loss_fn(va_logit, y_va).item()
        auc = roc_auc_score(y_va.numpy(), va_logit.numpy())
        print(f"epoch {epoch + 1}: train_loss {loss.item():.4f} val_loss {va_loss:.4f} val_auc {auc:.4f}")

print(f"NNDOCTOR_METRIC val_auc={auc:.4f} higher")
