"""Trainer-class (dataclass config) ReLU MLP on breast_cancer, SGD Nesterov momentum 0.9, lr=0.02.
expect: healthy

Twin of the lr=0.5 Trainer program; only Config.lr changed (0.5 -> 0.02). Loss decreases smoothly, no
spikes, over 280 steps. val_acc = 0.9441 / 0.9650 / 0.9720 at seeds 0 / 1 / 2 (spread ~0.03; the
validation split has 143 samples, so one sample is 0.007); the faulty program gets 0.3706.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@dataclass
class Config:
    seed: int = 0
    hidden: tuple = (64, 64, 32)
    lr: float = 0.02
    momentum: float = 0.9
    nesterov: bool = True
    batch_size: int = 32
    epochs: int = 20
    val_fraction: float = 0.25


class MLP(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        dims = (n_in,) + tuple(hidden)
        blocks = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.ReLU()]
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(dims[-1], 1)

    def forward(self, x):
        return self.head(self.body(x)).squeeze(-1)


class Trainer:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed)
        self._load_data()
        self.model = MLP(self.X_train.shape[1], cfg.hidden)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov
        )
        self.criterion = nn.BCEWithLogitsLoss()
        self.history = []

    def _load_data(self):
        data = load_breast_cancer()
        Xtr, Xva, ytr, yva = train_test_split(
            data.data, data.target, test_size=self.cfg.val_fraction,
            random_state=self.cfg.seed, stratify=data.target,
        )
        sc = StandardScaler().fit(Xtr)
        f = lambda a: torch.tensor(a, dtype=torch.float32)
        self.X_train, self.X_val = f(sc.transform(Xtr)), f(sc.transform(Xva))
        self.y_train, self.y_val = f(ytr), f(yva)

    def train_step(self, xb, yb):
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        logits = self.model(self.X_val)
        loss = self.criterion(logits, self.y_val).item()
        acc = ((logits > 0).float() == self.y_val).float().mean().item()
        return {"val_loss": loss, "val_acc": acc}

    def fit(self):
        n = len(self.X_train)
        for epoch in range(self.cfg.epochs):
            perm = torch.randperm(n)
            losses = [
                self.train_step(self.X_train[perm[i:i + self.cfg.batch_size]],
                                self.y_train[perm[i:i + self.cfg.batch_size]])
                for i in range(0, n, self.cfg.batch_size)
            ]
            metrics = self.evaluate()
            metrics["train_loss"] = float(np.mean(losses))
            self.history.append(metrics)
            print(f"epoch {epoch + 1:2d} " + " ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
        return self.history[-1]


if __name__ == "__main__":
    torch.set_num_threads(1)
    final = Trainer(Config()).fit()
    print(f"NNDOCTOR_METRIC val_acc={final['val_acc']:.4f} higher")
