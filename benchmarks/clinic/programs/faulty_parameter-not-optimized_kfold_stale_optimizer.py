"""5-fold CV of an MLP on breast_cancer where the model is rebuilt per fold but the optimizer was created once, before the loop.
expect: parameter-not-optimized
allow: optimizer-step-missing, gradient-not-zeroed, loss-not-decreasing

The CV loop was grown from a single train/val script: model and optimizer are built once above
the loop, and at the end of every fold the developer re-instantiates `model = make_model(...)`
"so the next fold does not start from this fold's weights" -- but not the optimizer. Fold 1
trains normally; from fold 2 on the optimizer still holds the fold-1 network's parameters. The
new network's parameters require grad and receive gradients from loss.backward(), but belong
to no optimizer, so folds 2..5 are evaluated at their random initialization (and
optimizer.zero_grad() only clears the old network, so the new grads also pile up). Mean CV
accuracy collapses. Fix: re-create the optimizer together with the model.
Measured: faulty cv_acc=0.5253 vs fixed cv_acc=0.9737   (seeds 1/2: 0.557 vs 0.979, 0.670 vs 0.968)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_breast_cancer(return_X_y=True)
X = X.astype(np.float32)
y = y.astype(np.float32)

N_FOLDS = 5
EPOCHS = 30
BATCH = 64
LR = 1e-3


def make_model(d_in, hidden=64, p_drop=0.2):
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(p_drop),
        nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Dropout(p_drop),
        nn.Linear(hidden // 2, 1),
    )


def evaluate(model, X_t, y_t):
    model.eval()
    with torch.no_grad():
        logits = model(X_t).squeeze(1)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y_t).item()
        acc = ((logits > 0).float() == y_t).float().mean().item()
    return loss, acc


model = make_model(X.shape[1])
optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4)
criterion = nn.BCEWithLogitsLoss()

skf = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
fold_scores = []
for fold, (tr_idx, va_idx) in enumerate(skf.split(X, y)):
    scaler = StandardScaler().fit(X[tr_idx])
    X_tr = torch.tensor(scaler.transform(X[tr_idx]), dtype=torch.float32)
    X_va = torch.tensor(scaler.transform(X[va_idx]), dtype=torch.float32)
    y_tr = torch.tensor(y[tr_idx])
    y_va = torch.tensor(y[va_idx])

    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(X_tr))
        for i in range(0, len(X_tr), BATCH):
            b = perm[i:i + BATCH]
            optimizer.zero_grad()
            loss = criterion(model(X_tr[b]).squeeze(1), y_tr[b])
            loss.backward()
            optimizer.step()
    va_loss, va_acc = evaluate(model, X_va, y_va)
    fold_scores.append(va_acc)
    print(f"fold {fold}: train_loss={loss.item():.4f} val_loss={va_loss:.4f} val_acc={va_acc:.4f}")
    # re-initialise so the next fold does not start from this fold's weights
    model = make_model(X.shape[1])

cv_acc = float(np.mean(fold_scores))
print(f"CV accuracy {cv_acc:.4f} +- {np.std(fold_scores):.4f}")
print(f"NNDOCTOR_METRIC cv_acc={cv_acc:.4f} higher")
