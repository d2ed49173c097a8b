"""A 4-block BatchNorm CNN on 8x8 digits is trained entirely in eval mode because a pre-training sanity evaluation switches the model to eval() and nothing switches it back.
expect: train-mode-off
allow: vanishing-gradient
The script measures the untrained model's validation accuracy with evaluate(), which calls
model.eval(), and the epoch loop never calls model.train(). Every optimizer step therefore runs
with BatchNorm using its initial running statistics (mean 0, var 1, never updated) instead of
batch statistics, and with Dropout disabled. The BatchNorm layers degenerate into plain affine
maps, so the 4-conv stack trains like an unnormalized net with default init: the signal shrinks
through depth, optimization is much slower and the final accuracy is far lower.
Measured: faulty val_acc=0.6559 vs fixed val_acc=0.9779
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset, DataLoader
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
perm = np.random.permutation(len(X))
tr, va = perm[:1300], perm[1300:]


class Digits(Dataset):
    def __init__(self, X, y):
        self.X = torch.from_numpy(X)
        self.y = torch.from_numpy(y).long()

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


train_loader = DataLoader(Digits(X[tr], y[tr]), batch_size=64, shuffle=True, num_workers=0)
val_loader = DataLoader(Digits(X[va], y[va]), batch_size=512, num_workers=0)


def block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]


model = nn.Sequential(
    *block(1, 8), *block(8, 16), nn.MaxPool2d(2),
    *block(16, 16), *block(16, 32),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3),
    nn.Linear(32, 10),
)
opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
loss_fn = nn.CrossEntropyLoss()


def evaluate():
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in val_loader:
            correct += (model(xb).argmax(1) == yb).sum().item()
    return correct / len(va)


print(f"untrained val_acc {evaluate():.4f}")
for epoch in range(4):
    for xb, yb in train_loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    print(f"epoch {epoch} last-batch loss {loss.item():.4f}")

val_acc = evaluate()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
