"""Imbalanced binary task (breast cancer, the malignant class subsampled to ~10%) with BCEWithLogitsLoss(pos_weight) and ReduceLROnPlateau on a validation loss computed under no_grad.

expect: healthy
trap: class imbalance handled by pos_weight (the loss starts far from ln 2), ReduceLROnPlateau cutting the LR (0.05 -> 0.015) once the validation loss flattens, validation every epoch

Held out (second batch, written before reading the rules' thresholds).
Trains well: validation balanced accuracy 0.995, val loss 0.027.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_breast_cancer(return_X_y=True)
y = 1 - y                                   # 1 = malignant
keep = (y == 0) | (torch.rand(len(y)).numpy() < 0.18)
X, y = X[keep], y[keep]
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yva = torch.tensor(yva, dtype=torch.float32)

model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 1))
pos_weight = (ytr == 0).sum() / (ytr == 1).sum()
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.3, patience=3)

for epoch in range(40):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(Xtr[idx]).squeeze(1), ytr[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(Xva).squeeze(1)
        val_loss = criterion(logits, yva)
        pred = (logits > 0).float()
        bal = 0.5 * ((pred[yva == 1] == 1).float().mean() + (pred[yva == 0] == 0).float().mean())
    scheduler.step(val_loss)
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1}  lr {optimizer.param_groups[0]['lr']:.4f}  val loss {val_loss.item():.4f}  balanced acc {bal.item():.3f}")
