"""Tiny Transformer over the 8 pixel rows of a digit, with a warmup+polynomial LambdaLR whose lambda returns an absolute LR instead of a multiplier.

expect: learning-rate-too-low
allow: loss-not-decreasing

Each 8x8 digit is read as a sequence of 8 row tokens (8 features each),
projected to d_model=48 with a learned positional embedding and a CLS token,
one pre-norm nn.TransformerEncoderLayer (4 heads), classification from the CLS
token with label smoothing 0.1. The schedule was written HF-style as
    LambdaLR(opt, lambda s: peak_lr * min(1, (s+1)/warmup) * (1 - s/total)**2)
while the optimizer was already created with lr=peak_lr. LambdaLR multiplies
the optimizer's base LR by the lambda's value, so the effective LR is
peak_lr**2 * schedule = 9e-6 at the peak (peak_lr = 3e-3) and less
afterwards: AdamW moves each weight by <1e-5 per step and the model hardly
leaves its initialization in 400 steps.
Fix (fixed/f5_poly_lambda_lr_fixed.py): the lambda returns only the multiplier
min(1, (s+1)/warmup) * (1 - s/total)**2.
Measured: test accuracy faulty 0.1978 vs fixed 0.9622 (train loss at step
300: 2.24 vs 0.61; same seed, 400 AdamW steps, batch 64).
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
X = (X / 16.0).astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=5, stratify=y)
mu, sd = Xtr.mean(), Xtr.std()
Xtr = torch.tensor((Xtr - mu) / sd).view(-1, 8, 8)
Xte = torch.tensor((Xte - mu) / sd).view(-1, 8, 8)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)


class RowTransformer(nn.Module):
    def __init__(self, d=48):
        super().__init__()
        self.inp = nn.Linear(8, d)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(0.02 * torch.randn(1, 9, d))
        self.block = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=96, dropout=0.1,
                                                batch_first=True, norm_first=True)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 10)

    def forward(self, rows):
        h = self.inp(rows)
        h = torch.cat([self.cls.expand(h.shape[0], -1, -1), h], dim=1) + self.pos
        h = self.block(h)
        return self.head(self.norm(h[:, 0]))


model = RowTransformer()
peak_lr, warmup, total, bs = 3e-3, 40, 400, 64
opt = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=0.05)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: peak_lr * min(1.0, (s + 1) / warmup) * (1 - s / total) ** 2)

step = 0
while step < total:
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(perm) - bs + 1, bs):
        idx = perm[i:i + bs]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx], label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {sched.get_last_lr()[0]:.2e}")
        if step >= total:
            break

model.eval()
with torch.no_grad():
    acc = (model(Xte).argmax(1) == yte).float().mean().item()
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
