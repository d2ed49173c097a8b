"""Digits classifier trained through a small Trainer class; the warmup lambda zeroes the LR.

expect: optimizer-step-missing
allow: loss-not-decreasing, learning-rate-too-low

The warmup factor is written with integer division, `step // warmup_steps`, instead of
`step / warmup_steps`. For every step before warmup_steps the factor is 0, and the
config's warmup (1000 steps, copied from a longer run) is longer than this whole run, so
AdamW is stepped 150 times with lr = 0.0: it runs, but no parameter ever changes.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

CONFIG = {"lr": 3e-3, "weight_decay": 1e-2, "batch_size": 64, "epochs": 6, "warmup_steps": 1000}


class Trainer:
    def __init__(self, model, config):
        self.model = model
        self.config = config
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"]
        )
        warmup = config["warmup_steps"]
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: min(1.0, step // warmup)
        )
        self.criterion = nn.CrossEntropyLoss()

    def train_step(self, xb, yb):
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss.item()

    @torch.no_grad()
    def accuracy(self, X, y):
        self.model.eval()
        return (self.model(X).argmax(1) == y).float().mean().item()

    def fit(self, X, y):
        bs = self.config["batch_size"]
        for epoch in range(self.config["epochs"]):
            perm = torch.randperm(len(X))[:1600]
            losses = [self.train_step(X[perm[i:i + bs]], y[perm[i:i + bs]]) for i in range(0, len(perm), bs)]
            print(f"epoch {epoch}: loss {sum(losses) / len(losses):.4f}  acc {self.accuracy(X, y):.3f}"
                  f"  lr {self.scheduler.get_last_lr()[0]:.2e}")


if __name__ == "__main__":
    torch.manual_seed(0)
    digits = load_digits()
    X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    Trainer(net, CONFIG).fit(X, y)
