"""Multi-task model built from a config whose task heads live in a plain dict instead of nn.ModuleDict.

expect: parameter-not-optimized
allow: loss-not-decreasing, gradient-not-zeroed

Breast-cancer data with two tasks: diagnosis (classification) and tumour area (regression,
the `mean area` feature and its correlates held out of the inputs). The model builds its
heads from a config into `self.heads = {}` -- a plain Python dict, which nn.Module does not
register. The heads are used in forward(), require grad and get a gradient at every
backward(), but model.parameters() (hence the optimizer, and optimizer.zero_grad()) only
contains the trunk: the heads stay at their random initialisation (and their .grad keeps
accumulating). The trunk partly compensates for the frozen random heads, but learning is
much slower: val accuracy is stuck at 0.61 (the majority class) until epoch 8 and reaches
0.97 only at epoch 16, where the same model with nn.ModuleDict is at 0.97 by epoch 4.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

CONFIG = {
    "trunk": [64, 32],
    "heads": {
        "diagnosis": {"out": 2, "hidden": 16, "loss": "ce", "weight": 1.0},
        "area": {"out": 1, "hidden": 16, "loss": "mse", "weight": 1.0},
    },
}


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class MultiHead(nn.Module):
    def __init__(self, n_in, cfg):
        super().__init__()
        self.trunk = nn.Sequential(mlp([n_in] + cfg["trunk"]), nn.ReLU())
        self.heads = {}
        for name, spec in cfg["heads"].items():
            self.heads[name] = mlp([cfg["trunk"][-1], spec["hidden"], spec["out"]])

    def forward(self, x):
        h = self.trunk(x)
        return {name: head(h) for name, head in self.heads.items()}


def multitask_loss(out, targets, cfg):
    total, parts = 0.0, {}
    for name, spec in cfg["heads"].items():
        if spec["loss"] == "ce":
            parts[name] = F.cross_entropy(out[name], targets[name])
        else:
            parts[name] = F.mse_loss(out[name].squeeze(-1), targets[name])
        total = total + spec["weight"] * parts[name]
    return total, parts


data = load_breast_cancer()
feats = torch.tensor(data.data, dtype=torch.float32)
names = list(data.feature_names)
held_out = [i for i, n in enumerate(names) if any(k in n for k in ("area", "radius", "perimeter"))]
keep = [i for i in range(len(names)) if i not in held_out]
X = feats[:, keep]
area = torch.log(feats[:, names.index("mean area")])
diag = torch.tensor(data.target)
perm = torch.randperm(len(X))
tr, va = perm[:450], perm[450:]
X = (X - X[tr].mean(0)) / X[tr].std(0)
area = (area - area[tr].mean()) / area[tr].std()

loader = DataLoader(TensorDataset(X[tr], diag[tr], area[tr]), batch_size=32, shuffle=True)
model = MultiHead(X.shape[1], CONFIG)
print("registered parameter tensors:", len(list(model.parameters())))
opt = torch.optim.Adam(model.parameters(), lr=2e-3)

for epoch in range(20):
    model.train()
    for xb, yd, ya in loader:
        opt.zero_grad()
        loss, parts = multitask_loss(model(xb), {"diagnosis": yd, "area": ya}, CONFIG)
        loss.backward()
        opt.step()
    if epoch % 4 == 0 or epoch == 19:
        model.eval()
        with torch.no_grad():
            out = model(X[va])
            _, vparts = multitask_loss(out, {"diagnosis": diag[va], "area": area[va]}, CONFIG)
            acc = (out["diagnosis"].argmax(1) == diag[va]).float().mean().item()
        print(f"epoch {epoch:2d}  loss {loss.item():.4f}  val ce {vparts['diagnosis'].item():.4f}  "
              f"val acc {acc:.3f}  val area mse {vparts['area'].item():.4f}")
        print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")
