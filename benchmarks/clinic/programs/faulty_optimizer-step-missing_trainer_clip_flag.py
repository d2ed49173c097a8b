"""Breast-cancer Trainer whose optimizer.step() sits inside the gradient-clipping branch, behind a misnamed config key.

expect: optimizer-step-missing
allow: loss-not-decreasing

The Trainer reads `cfg.get("max_grad_norm")` but the config spells the key "clip_norm", so
self.max_grad_norm is None. In train_epoch() the `self.optimizer.step()` line ended up
indented under `if self.max_grad_norm is not None:` together with clip_grad_norm_, so it is
never executed. zero_grad(), forward, backward and the validation pass all run normally
every epoch; the parameters never move from their initialisation and the train/val loss
stays at 0.709/0.710 (val acc 0.29) for all 15 epochs, where the same Trainer reading the
right key reaches val loss ~0.07 (acc 0.97).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

CONFIG = {"lr": 1e-3, "clip_norm": 1.0, "epochs": 15, "batch_size": 32}


class Trainer:
    def __init__(self, model, cfg):
        self.model = model
        self.cfg = cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.criterion = nn.BCEWithLogitsLoss()
        self.max_grad_norm = cfg.get("max_grad_norm")

    def train_epoch(self, loader):
        self.model.train()
        total = 0.0
        for xb, yb in loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(xb).squeeze(-1), yb)
            loss.backward()
            if self.max_grad_norm is not None:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
                self.optimizer.step()
            total += loss.item() * len(xb)
        return total / len(loader.dataset)

    @torch.no_grad()
    def evaluate(self, loader):
        self.model.eval()
        total, correct = 0.0, 0
        for xb, yb in loader:
            logits = self.model(xb).squeeze(-1)
            total += self.criterion(logits, yb).item() * len(xb)
            correct += ((logits > 0).float() == yb).sum().item()
        self.model.train()
        return total / len(loader.dataset), correct / len(loader.dataset)

    def fit(self, train_loader, val_loader):
        for epoch in range(self.cfg["epochs"]):
            train_loss = self.train_epoch(train_loader)
            val_loss, val_acc = self.evaluate(val_loader)
            print(f"epoch {epoch:2d}  train {train_loss:.4f}  val {val_loss:.4f}  acc {val_acc:.3f}")


data = load_breast_cancer()
X = torch.tensor(data.data, dtype=torch.float32)
y = torch.tensor(data.target, dtype=torch.float32)
perm = torch.randperm(len(X))
tr, va = perm[:450], perm[450:]
X = (X - X[tr].mean(0)) / X[tr].std(0)

model = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
trainer = Trainer(model, CONFIG)
trainer.fit(DataLoader(TensorDataset(X[tr], y[tr]), batch_size=CONFIG["batch_size"], shuffle=True),
            DataLoader(TensorDataset(X[va], y[va]), batch_size=256))
