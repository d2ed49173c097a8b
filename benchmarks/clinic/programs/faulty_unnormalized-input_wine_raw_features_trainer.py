"""Wine cultivar classification with an MLP fed the raw chemical measurements.

expect: unnormalized-input
allow: dead-relu, loss-not-decreasing

The author comes from gradient-boosting work, where feature scaling never matters, and
passes sklearn's wine measurements to the network as they are: proline sits in the
hundreds to ~1700, magnesium around 100, alcalinity around 20, while hue, nonflavanoid
phenols and the like are fractions of 1. Proline dominates the first layer's
pre-activations, the SGD step size that suits the small features is far too large for the
proline weights, the net ends up mostly reading proline alone, and a large share of the
hidden ReLUs die along the way (about 69% of both hidden layers at the end, so dead-relu is
an acceptable secondary finding).

Measured (OMP_NUM_THREADS=1): faulty val_acc = 0.6111, fixed (StandardScaler fitted on
the training split, fixed/f_wine_raw_features_fixed.py) val_acc = 1.0000.
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
