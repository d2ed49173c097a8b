"""Fixed version of f7_digits_bn_eval.py: call model.train() at the start of every epoch.

expect: healthy


Measured: val_acc=0.9899
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

CONFIG = dict(depth=6, width=64, batch_size=64, epochs=10, lr=0.05, momentum=0.9, weight_decay=5e-4)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)  # pixel intensities 0..16 -> [0, 1]
perm = np.random.permutation(len(X))
tr, va = perm[:1400], perm[1400:]
X_tr, y_tr = torch.from_numpy(X[tr]), torch.from_numpy(y[tr])
X_va, y_va = torch.from_numpy(X[va]), torch.from_numpy(y[va])


class Block(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        self.bn = nn.BatchNorm1d(d_out)

    def forward(self, x):
        return F.relu(self.bn(self.fc(x)))


class DeepBNNet(nn.Module):
    def __init__(self, d_in, width, depth, n_classes):
        super().__init__()
        dims = [d_in] + [width] * depth
        self.blocks = nn.ModuleList(Block(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(width, n_classes)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


model = DeepBNNet(64, CONFIG["width"], CONFIG["depth"], 10)
optimizer = torch.optim.SGD(model.parameters(), lr=CONFIG["lr"], momentum=CONFIG["momentum"],
                            weight_decay=CONFIG["weight_decay"])
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=CONFIG["epochs"])

print(f"untrained val_acc {evaluate(model, X_va, y_va):.4f}")
for epoch in range(CONFIG["epochs"]):
    model.train()
    order = torch.randperm(len(X_tr))
    total = 0.0
    for s in range(0, len(X_tr), CONFIG["batch_size"]):
        idx = order[s:s + CONFIG["batch_size"]]
        loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    scheduler.step()
    print(f"epoch {epoch} train_loss {total / len(X_tr):.4f}")

val_acc = evaluate(model, X_va, y_va)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
