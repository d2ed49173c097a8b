"""Stratified 5-fold CV of a class-weighted MLP on the wine data, re-initialized per fold, with patience-based early stopping that restores the best weights.
expect: healthy
trap: the training loss curve resets to ~1.1 five times (fresh model + optimizer per fold); early stopping restores an earlier state_dict with copy.deepcopy, so parameters jump back and the post-restore train loss is higher than the last step's; the val loss measured under no_grad drifts up after its minimum in every fold (that is what early stopping is for, and those epochs are discarded); small full-ish batches and a weighted CrossEntropyLoss.

Each fold builds a new scaler, network and AdamW optimizer, trains with inverse-frequency class
weights, evaluates a validation loss in eval mode every epoch and stops after `PATIENCE` epochs
without improvement, then loads the best weights back. A monitor that strings the folds
together sees a loss that jumps up at every fold boundary and parameters that are replaced
wholesale; a monitor that watches val loss sees it rise at the end of each fold before the
restore. None of this is a problem: every fold ends at its best epoch and CV accuracy is high.
Measured: cv_acc=0.9776
"""
import copy

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_wine
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_wine(return_X_y=True)
N_CLASSES = 3
MAX_EPOCHS, PATIENCE, BATCH = 150, 12, 32


def build_model(d_in):
    return nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, N_CLASSES))


def class_weights(labels):
    counts = np.bincount(labels, minlength=N_CLASSES)
    w = len(labels) / (N_CLASSES * counts)
    return torch.tensor(w, dtype=torch.float32)


def fit_fold(X_tr, y_tr, X_va, y_va):
    model = build_model(X_tr.shape[1])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    crit = nn.CrossEntropyLoss(weight=class_weights(y_tr.numpy()))
    best_val, best_state, best_epoch, bad = float("inf"), None, -1, 0
    for epoch in range(MAX_EPOCHS):
        model.train()
        perm = torch.randperm(len(X_tr))
        for i in range(0, len(X_tr), BATCH):
            b = perm[i:i + BATCH]
            loss = crit(model(X_tr[b]), y_tr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val_loss = crit(model(X_va), y_va).item()
        if val_loss < best_val - 1e-4:
            best_val, best_epoch, bad = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if bad >= PATIENCE:
                break
    last_train_loss = loss.item()
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        restored_train_loss = crit(model(X_tr), y_tr).item()
        acc = (model(X_va).argmax(1) == y_va).float().mean().item()
    return acc, best_epoch, epoch, last_train_loss, restored_train_loss, best_val


skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
accs = []
for fold, (tr, va) in enumerate(skf.split(X, y)):
    sc = StandardScaler().fit(X[tr])
    X_tr = torch.tensor(sc.transform(X[tr]), dtype=torch.float32)
    X_va = torch.tensor(sc.transform(X[va]), dtype=torch.float32)
    y_tr, y_va = torch.tensor(y[tr]), torch.tensor(y[va])
    acc, best_ep, stop_ep, last_l, rest_l, bv = fit_fold(X_tr, y_tr, X_va, y_va)
    accs.append(acc)
    print(f"fold {fold}: stopped at epoch {stop_ep}, best epoch {best_ep}, best val_loss {bv:.4f}, "
          f"last train loss {last_l:.4f} -> restored {rest_l:.4f}, val_acc {acc:.4f}")

cv_acc = float(np.mean(accs))
print(f"NNDOCTOR_METRIC cv_acc={cv_acc:.4f} higher")
