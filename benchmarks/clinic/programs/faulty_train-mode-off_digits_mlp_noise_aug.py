"""Digits MLP (noise augmentation) with BatchNorm input normalisation + dropout; a pre-training eval() is never undone.
expect: train-mode-off
allow: unnormalized-input

The notebook normalises the raw 0..16 pixel values with an input `nn.BatchNorm1d` layer instead of
standardising the arrays, and has an `evaluate()` helper that calls `model.eval()`.  It prints the
accuracy of the untrained model as a sanity check before the loop, and since `model.train()` is never
called (the author relied on the default mode) the whole run trains in eval mode: every BatchNorm uses
its initial running statistics (mean 0, var 1), so the input layer passes the raw 0..16 pixels
straight through, the hidden BatchNorm does not normalise either, and Dropout is off.  SGD tuned for
normalised activations then trains much worse.  Fix: call `model.train()` at the top of each epoch.
Measured: faulty val_acc=0.9416 vs fixed val_acc=0.9638 (seed 1: 0.9694 vs 0.9764; seed 2: 0.9541 vs 0.9777; damage is consistent but modest, 1-2.5 points)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

# ---- data (raw pixel intensities 0..16, the input BatchNorm takes care of scaling) ----
digits = load_digits()
X = digits.images.reshape(len(digits.images), -1).astype(np.float32)
y = digits.target
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.4, random_state=SEED, stratify=y)
Xtr, Xva = torch.tensor(Xtr), torch.tensor(Xva)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)


def augment(xb):
    # pixel noise (in raw intensity units) + random pixel dropout
    keep = (torch.rand_like(xb) > 0.1).float()
    return xb * keep + 1.0 * torch.randn_like(xb)


model = nn.Sequential(
    nn.BatchNorm1d(64),
    nn.Linear(64, 128),
    nn.BatchNorm1d(128),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.Linear(128, 64),
    nn.BatchNorm1d(64),
    nn.ReLU(),
    nn.Linear(64, 10),
)


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


print(f"untrained val_acc {evaluate(model, Xva, yva):.4f}")

opt = torch.optim.SGD(model.parameters(), lr=0.07, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
BS = 64
EPOCHS = 10

for epoch in range(EPOCHS):
    perm = torch.randperm(len(Xtr))
    tot = 0.0
    for i in range(0, len(Xtr), BS):
        idx = perm[i:i + BS]
        xb, yb = augment(Xtr[idx]), ytr[idx]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        tot += loss.item() * len(idx)
    acc = evaluate(model, Xva, yva)
    if epoch % 3 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:2d}  train_loss {tot / len(Xtr):.4f}  val_acc {acc:.4f}")

val_acc = evaluate(model, Xva, yva)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
