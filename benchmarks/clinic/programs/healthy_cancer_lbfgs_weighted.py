"""Breast-cancer screening model fitted full-batch with L-BFGS and a class-weighted BCE loss.

expect: healthy
trap: L-BFGS evaluates the closure (zero_grad + forward + backward) several times per optimizer.step(), so backward passes outnumber steps; after 9 outer steps L-BFGS has met its tolerance and each further step() evaluates the closure once and leaves the weights exactly unchanged (a converged full-batch fit, not optimizer-step-missing, vanishing-gradient or learning-rate-too-low); tanh hidden units; pos_weight != 1.

sklearn's breast-cancer data (569 cases, 30 features), malignant taken as the positive class
(212 vs 357, so BCEWithLogitsLoss gets pos_weight = n_neg / n_pos ~ 1.68). Features are
standardized on the training split; the model is a 30-16-1 tanh MLP fitted on the whole
training set at once by torch.optim.LBFGS with strong-Wolfe line search, with an explicit
L2 penalty (1e-1 on the weights) inside the closure. 30 outer steps of up to 5 inner
iterations each (75 closure evaluations in total); the objective is flat from step 5 and the
weights stop moving after step 8. Evaluation uses a threshold of 0.5 on the sigmoid.

Measured (OMP_NUM_THREADS=1): val_balanced_acc = 0.9579 (class-balanced sklearn
LogisticRegression on the same split: 0.9439-0.9532 for C in 0.1..10).
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)   # L-BFGS line search is happier in double

data = load_breast_cancer()
X = data.data
y = 1 - data.target                       # 1 = malignant
X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
mu, sd = X_tr.mean(0), X_tr.std(0)
Xt = torch.tensor((X_tr - mu) / sd)
Xv = torch.tensor((X_va - mu) / sd)
yt = torch.tensor(y_tr, dtype=torch.float64).unsqueeze(1)
yv = torch.tensor(y_va, dtype=torch.float64).unsqueeze(1)

n_pos = float(yt.sum())
n_neg = float(len(yt) - n_pos)
criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([n_neg / n_pos]))
l2 = 1e-1

model = nn.Sequential(nn.Linear(30, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=5, history_size=10,
                        line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    logits = model(Xt)
    loss = criterion(logits, yt)
    loss = loss + l2 * sum((w ** 2).sum() for name, w in model.named_parameters()
                           if name.endswith("weight"))
    loss.backward()
    return loss


def balanced_acc(logits, target):
    pred = (torch.sigmoid(logits) > 0.5).double()
    tpr = ((pred == 1) & (target == 1)).sum().item() / (target == 1).sum().item()
    tnr = ((pred == 0) & (target == 0)).sum().item() / (target == 0).sum().item()
    return 0.5 * (tpr + tnr)


for step in range(30):
    loss = opt.step(closure)
    if step % 5 == 0 or step == 29:
        with torch.no_grad():
            lv = model(Xv)
            print(f"step {step:2d} train_obj {loss.item():.5f} "
                  f"val_bce {criterion(lv, yv).item():.4f} val_bacc {balanced_acc(lv, yv):.4f}")

with torch.no_grad():
    bacc = balanced_acc(model(Xv), yv)
print(f"NNDOCTOR_METRIC val_balanced_acc={bacc:.4f} higher")
