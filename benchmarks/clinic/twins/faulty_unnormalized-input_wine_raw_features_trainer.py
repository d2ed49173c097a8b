"""Wine classification with StandardScaler fitted on the training split.

expect: healthy
trap: reference fix of ../f_wine_raw_features.py; only the bug is changed, see that file for both metrics.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_wine(return_X_y=True)
X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
from sklearn.preprocessing import StandardScaler
scaler = StandardScaler().fit(X_tr)
X_tr, X_va = scaler.transform(X_tr), scaler.transform(X_va)

train_ds = TensorDataset(torch.tensor(X_tr, dtype=torch.float32), torch.tensor(y_tr))
val_X = torch.tensor(X_va, dtype=torch.float32)
val_y = torch.tensor(y_va)
loader = DataLoader(train_ds, batch_size=16, shuffle=True,
                    generator=torch.Generator().manual_seed(0))

model = nn.Sequential(
    nn.Linear(13, 32), nn.ReLU(),
    nn.Linear(32, 32), nn.ReLU(),
    nn.Linear(32, 3),
)
opt = torch.optim.SGD(model.parameters(), lr=3e-4, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()


def evaluate():
    model.eval()
    with torch.no_grad():
        logits = model(val_X)
        loss = loss_fn(logits, val_y).item()
        acc = (logits.argmax(1) == val_y).float().mean().item()
    model.train()
    return loss, acc


for epoch in range(180):
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    if epoch % 30 == 0 or epoch == 179:
        vl, va = evaluate()
        print(f"epoch {epoch:3d} train_loss {loss.item():.4f} val_loss {vl:.4f} val_acc {va:.3f}")

_, val_acc = evaluate()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
