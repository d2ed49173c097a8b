"""Healthy twin of faulty_vanishing-gradient_config_deep_sigmoid_trainer.py: ReLU activations.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

CONFIG = {
    "model": {"depth": 14, "width": 32, "activation": "ReLU"},
    "train": {"lr": 1e-3, "epochs": 30, "batch_size": 16},
}


def build_mlp(n_in, n_out, depth, width, activation):
    act = getattr(nn, activation)
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), act()]
        d = width
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


class Trainer:
    def __init__(self, model, cfg):
        self.model = model
        self.cfg = cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])

    def train_epoch(self, loader):
        self.model.train()
        total = 0.0
        for xb, yb in loader:
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(xb)
        return total / len(loader.dataset)

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        logits = self.model(X)
        self.model.train()
        return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()

    def fit(self, loader, X_val, y_val):
        for epoch in range(self.cfg["epochs"]):
            train_loss = self.train_epoch(loader)
            if epoch % 3 == 0 or epoch == self.cfg["epochs"] - 1:
                val_loss, val_acc = self.evaluate(X_val, y_val)
                print(f"epoch {epoch:2d}  train {train_loss:.4f}  val {val_loss:.4f}  acc {val_acc:.3f}")
                print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")


wine = load_wine()
X = torch.tensor(wine.data, dtype=torch.float32)
y = torch.tensor(wine.target)
perm = torch.randperm(len(X))
tr, va = perm[:140], perm[140:]
X = (X - X[tr].mean(0)) / X[tr].std(0)

model = build_mlp(X.shape[1], 3, **CONFIG["model"])
loader = DataLoader(TensorDataset(X[tr], y[tr]), batch_size=CONFIG["train"]["batch_size"], shuffle=True)
Trainer(model, CONFIG["train"]).fit(loader, X[va], y[va])
