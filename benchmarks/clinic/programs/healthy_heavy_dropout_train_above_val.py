"""Digits MLP with heavy dropout (input 0.4, hidden 0.6) and weight decay: train loss stays ~3x above val loss.

expect: healthy
trap: the training loss (measured in train mode, with dropout active) stays high and noisy, several times
      the validation loss for the whole run, and flattens out far from zero; a naive monitor could read
      "training loss stuck high" as underfitting, a too-low learning rate or a plateau, or read the inverted
      train/val gap as a bug (e.g. a train/eval mode mix-up). It is the expected effect of strong
      regularisation: at eval time dropout is off and the ensemble-like network is accurate.

load_digits scaled to [0, 1] and standardised with train statistics (constant pixels left at 0). Model: input
dropout 0.4, two 256-unit ReLU layers each followed by dropout 0.6, linear head. AdamW(lr 2e-3, weight_decay
0.05 on weights, 0 on biases), batch 64, 25 epochs = 550 steps, written as a Lightning-like module plus a
from-scratch Trainer with a callback registry (metric logger, early-stopping watcher that never triggers here).
The module goes to .train() before every epoch and .eval() for validation. Measured when run: train loss (train
mode, epoch mean) 1.88 in epoch 0 -> 0.56 (epoch 5) -> 0.34-0.39 over epochs 15-24, val loss 1.08 -> 0.17 ->
0.125, so train/val ~2.7x at the end; val_acc 0.962 (a plain MLP on digits gets ~0.96-0.98). Runtime ~3.7 s.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(5)
np.random.seed(5)


@dataclass
class Hyper:
    width: int = 256
    p_in: float = 0.4
    p_hidden: float = 0.6
    lr: float = 2e-3
    weight_decay: float = 0.05
    batch_size: int = 64
    epochs: int = 25
    patience: int = 10


class RegularizedMLP(nn.Module):
    def __init__(self, hp: Hyper):
        super().__init__()
        self.hp = hp
        self.net = nn.Sequential(
            nn.Dropout(hp.p_in),
            nn.Linear(64, hp.width), nn.ReLU(), nn.Dropout(hp.p_hidden),
            nn.Linear(hp.width, hp.width), nn.ReLU(), nn.Dropout(hp.p_hidden),
            nn.Linear(hp.width, 10),
        )

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch):
        x, y = batch
        return F.cross_entropy(self(x), y)

    @torch.no_grad()
    def validation_step(self, batch):
        x, y = batch
        out = self(x)
        return {"val_loss": F.cross_entropy(out, y).item(), "val_acc": (out.argmax(1) == y).float().mean().item()}

    def configure_optimizers(self):
        decay, no_decay = [], []
        for name, p in self.named_parameters():
            (no_decay if name.endswith("bias") else decay).append(p)
        return torch.optim.AdamW([{"params": decay, "weight_decay": self.hp.weight_decay},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=self.hp.lr)


class CallbackRegistry:
    def __init__(self):
        self._hooks: Dict[str, List[Callable]] = {}

    def register(self, event: str, fn: Callable):
        self._hooks.setdefault(event, []).append(fn)

    def fire(self, event: str, **kw):
        for fn in self._hooks.get(event, []):
            fn(**kw)


class EarlyStoppingWatcher:
    def __init__(self, patience: int):
        self.patience, self.best, self.bad, self.should_stop = patience, float("inf"), 0, False

    def __call__(self, epoch, logs, **_):
        if logs["val_loss"] < self.best - 1e-4:
            self.best, self.bad = logs["val_loss"], 0
        else:
            self.bad += 1
            self.should_stop = self.bad >= self.patience


def print_logs(epoch, logs, **_):
    if epoch % 5 == 0 or epoch == 24:
        print(f"epoch {epoch:2d}  train_loss {logs['train_loss']:.4f}  val_loss {logs['val_loss']:.4f}  "
              f"val_acc {logs['val_acc']:.4f}")


class Trainer:
    def __init__(self, hp: Hyper, callbacks: CallbackRegistry, stopper: EarlyStoppingWatcher):
        self.hp, self.callbacks, self.stopper = hp, callbacks, stopper

    def fit(self, module: RegularizedMLP, train_ds, val_batch):
        opt = module.configure_optimizers()
        g = torch.Generator().manual_seed(5)
        loader = torch.utils.data.DataLoader(train_ds, batch_size=self.hp.batch_size, shuffle=True, generator=g)
        logs = {}
        for epoch in range(self.hp.epochs):
            module.train()
            losses = []
            for batch in loader:
                opt.zero_grad()
                loss = module.training_step(batch)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            module.eval()
            logs = {"train_loss": float(np.mean(losses)), **module.validation_step(val_batch)}
            self.callbacks.fire("epoch_end", epoch=epoch, logs=logs)
            if self.stopper.should_stop:
                print(f"early stop at epoch {epoch}")
                break
        return logs


def main():
    hp = Hyper()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, stratify=y, random_state=5)
    mu, sd = X_tr.mean(0), X_tr.std(0)
    sd[sd < 1e-3] = 1.0
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd
    t = lambda a: torch.tensor(a, dtype=torch.float32)
    train_ds = torch.utils.data.TensorDataset(t(X_tr), torch.tensor(y_tr))
    val_batch = (t(X_va), torch.tensor(y_va))

    registry = CallbackRegistry()
    stopper = EarlyStoppingWatcher(hp.patience)
    registry.register("epoch_end", print_logs)
    registry.register("epoch_end", stopper)
    logs = Trainer(hp, registry, stopper).fit(RegularizedMLP(hp), train_ds, val_batch)
    print(f"final: train_loss/val_loss = {logs['train_loss'] / logs['val_loss']:.1f}")
    print(f"NNDOCTOR_METRIC val_acc={logs['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
