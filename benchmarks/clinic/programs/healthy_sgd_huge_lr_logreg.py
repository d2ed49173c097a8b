"""Logistic regression with plain SGD at lr=5.0 on standardized, well-conditioned features: converges in a few steps.

expect: healthy
trap: lr=5.0 for SGD looks absurdly high (100-1000x typical MLP values) and the first update drops the loss from 0.77 to 0.07 in one step; the logistic loss is convex and its curvature is 0.25*lambda_max(cov)=0.94 only near init where all logits are ~0; the first step makes the margins large, and at the solution the top Hessian eigenvalue is ~0.04 (2/L ~ 50 >> 5), so the iteration is stable and lands on the sklearn optimum

A single nn.Linear(30, 1) trained with BCEWithLogitsLoss and torch.optim.SGD(lr=5.0), no momentum, batch
250, 12 epochs (180 steps), weight_decay=1/n_train (sklearn's default C=1 penalty). Features come from make_classification (30 informative, no redundant
features, class_sep=1.5) and are standardized with training-set statistics, so the problem is well
conditioned (feature-covariance eigenvalues 0.14..3.8). For comparison the script also fits sklearn's
LogisticRegression. Measured: batch loss 0.77 -> 0.07 after one step, val_loss 0.071 after epoch 1 and flat at
~0.063 from epoch 3 on, val_acc 0.9888, identical to sklearn's LogisticRegression (0.9888).
"""
import os
os.environ["OMP_NUM_THREADS"] = "1"  # keep sklearn/BLAS single-threaded too
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

ap = argparse.ArgumentParser()
ap.add_argument("--lr", type=float, default=5.0)
ap.add_argument("--bs", type=int, default=250)
ap.add_argument("--epochs", type=int, default=12)
args = ap.parse_args()

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)

X, y = make_classification(n_samples=5000, n_features=30, n_informative=30, n_redundant=0,
                           n_clusters_per_class=1, flip_y=0.01, class_sep=1.5, random_state=0)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=0)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd

ref = LogisticRegression(max_iter=2000).fit(Xtr, ytr)
print("sklearn LogisticRegression val acc", round(ref.score(Xva, yva), 4))

Xtr = torch.tensor(Xtr, dtype=torch.float32)
Xva = torch.tensor(Xva, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yva = torch.tensor(yva, dtype=torch.float32)

clf = nn.Linear(30, 1)
# weight_decay ~ 1/(C*n_train) matches sklearn's default L2 penalty (C=1)
opt = torch.optim.SGD(clf.parameters(), lr=args.lr, weight_decay=1.0 / len(Xtr))

step = 0
for ep in range(args.epochs):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), args.bs):
        idx = perm[i:i + args.bs]
        logits = clf(Xtr[idx]).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits, ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step < 4:
            print(f"step {step} loss {loss.item():.4f}")
        step += 1
    with torch.no_grad():
        vlog = clf(Xva).squeeze(1)
        vloss = F.binary_cross_entropy_with_logits(vlog, yva).item()
        vacc = ((vlog > 0).float() == yva).float().mean().item()
    if ep % 3 == 2:
        print(f"epoch {ep+1} val_loss {vloss:.4f} val_acc {vacc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={vacc:.4f} higher")
