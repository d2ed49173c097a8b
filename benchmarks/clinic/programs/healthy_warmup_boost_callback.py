"""BatchNorm MLP on a synthetic 4-class problem; a Trainer callback raises the LR 10x once warm-up ends.

expect: healthy
trap: the LR jumps UP from 0.01 to 0.1 (SGD, momentum 0.9) after the 2nd epoch; the first
stretch was trained at a 10x smaller LR, so judged alone it looks like "LR too low", and the
jump makes the per-step loss noisier for a while (epoch loss 0.57 -> 0.55, then falls), which
a rule that only looks at the losses since the LR last changed could misread.  The loss
keeps falling after the jump.

Measured: val_acc = 0.9360 (make_classification, 4 classes, 20 features, class_sep 1.0);
epoch loss 0.97 -> 0.10 over 16 epochs; ~3.5 s wall including imports.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(4)
np.random.seed(4)


@dataclass
class RunConfig:
    warmup_lr: float = 0.01
    boost_factor: float = 10.0
    warmup_epochs: int = 2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 64
    epochs: int = 16
    hidden: int = 128


class Callback:
    def on_epoch_start(self, trainer, epoch): ...
    def on_epoch_end(self, trainer, epoch, logs): ...


class WarmupThenBoost(Callback):
    """Train gently for `warmup_epochs`, then raise every group's LR by `factor` -- once."""

    def __init__(self, warmup_epochs, factor):
        self.warmup_epochs, self.factor, self.done = warmup_epochs, factor, False

    def on_epoch_end(self, trainer, epoch, logs):
        if not self.done and epoch + 1 == self.warmup_epochs:
            for g in trainer.optimizer.param_groups:
                g["lr"] *= self.factor
            self.done = True
            print(f"  [WarmupThenBoost] lr -> {trainer.optimizer.param_groups[0]['lr']:.3g}")


class ConsoleLogger(Callback):
    def on_epoch_end(self, trainer, epoch, logs):
        print(f"epoch {epoch:2d} loss={logs['loss']:.4f} val_acc={logs['val_acc']:.4f}")


class Trainer:
    def __init__(self, model, optimizer, callbacks):
        self.model, self.optimizer, self.callbacks = model, optimizer, callbacks

    def _emit(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name)(self, *args)

    def train_one_epoch(self, X, y, batch_size):
        self.model.train()
        perm = torch.randperm(len(X))
        tot = 0.0
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(X[idx]), y[idx])
            loss.backward()
            self.optimizer.step()
            tot += loss.item() * len(idx)
        return tot / len(X)

    @torch.no_grad()
    def accuracy(self, X, y):
        self.model.eval()
        return (self.model(X).argmax(1) == y).float().mean().item()

    def fit(self, train, val, epochs, batch_size):
        for epoch in range(epochs):
            self._emit("on_epoch_start", epoch)
            loss = self.train_one_epoch(*train, batch_size)
            self._emit("on_epoch_end", epoch, {"loss": loss, "val_acc": self.accuracy(*val)})


def build_mlp(d_in, hidden, n_out):
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, n_out),
    )


def get_data():
    X, y = make_classification(n_samples=4000, n_features=20, n_informative=12, n_redundant=4,
                               n_classes=4, n_clusters_per_class=2, class_sep=1.0,
                               random_state=4)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=4, stratify=y)
    sc = StandardScaler().fit(Xtr)
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    return (f(sc.transform(Xtr)), torch.tensor(ytr)), (f(sc.transform(Xva)), torch.tensor(yva))


def main():
    cfg = RunConfig()
    train, val = get_data()
    model = build_mlp(train[0].shape[1], cfg.hidden, 4)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.warmup_lr, momentum=cfg.momentum,
                          weight_decay=cfg.weight_decay)
    trainer = Trainer(model, opt, [WarmupThenBoost(cfg.warmup_epochs, cfg.boost_factor),
                                   ConsoleLogger()])
    trainer.fit(train, val, cfg.epochs, cfg.batch_size)
    v = trainer.accuracy(*val)
    print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")


if __name__ == "__main__":
    main()
