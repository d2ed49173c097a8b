"""Breast-cancer MLP trained by a small callback Trainer; passing a custom callbacks list drops the default ZeroGrad callback.
expect: gradient-not-zeroed
allow: learning-rate-too-high, exploding-gradient

The Trainer keeps its housekeeping (zeroing gradients after each optimizer step) in a
default callback list.  The user script passes `callbacks=[MetricTracker(), PrintEvery(5)]`
to get metric logging, which *replaces* the defaults instead of extending them, so
`opt.zero_grad()` is never called.  Gradients accumulate across every step: the effective
step grows linearly with the step count, training oscillates and the classifier ends far
worse than the fixed version (which passes `callbacks=DEFAULT_CBS + [...]`).
Measured: faulty val_acc=0.6257 vs fixed val_acc=0.9474   (seed 1: 0.3743 vs 0.9532; seed 2: 0.6257 vs 0.9766)
"""
import dataclasses
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


@dataclasses.dataclass
class Config:
    lr: float = 0.05
    momentum: float = 0.9
    epochs: int = 20
    bs: int = 32
    hidden: int = 32


class Callback:
    order = 0

    def __call__(self, event, trainer):
        fn = getattr(self, event, None)
        if fn is not None:
            fn(trainer)


class ZeroGrad(Callback):
    order = 100

    def after_step(self, t):
        t.opt.zero_grad()


class MetricTracker(Callback):
    def before_epoch(self, t):
        self.losses = []

    def after_batch(self, t):
        self.losses.append(t.loss.item())

    def after_epoch(self, t):
        t.history.append(float(np.mean(self.losses)))


class PrintEvery(Callback):
    order = 10

    def __init__(self, every):
        self.every = every

    def after_epoch(self, t):
        if (t.epoch + 1) % self.every == 0:
            print(f"epoch {t.epoch+1:3d}  train_loss {t.history[-1]:.4f}")


DEFAULT_CBS = [ZeroGrad(), MetricTracker()]


class Trainer:
    def __init__(self, model, loss_fn, opt, train_dl, callbacks=None):
        self.model, self.loss_fn, self.opt, self.train_dl = model, loss_fn, opt, train_dl
        self.cbs = sorted(callbacks if callbacks is not None else DEFAULT_CBS, key=lambda c: c.order)
        self.history = []

    def cb(self, event):
        for c in self.cbs:
            c(event, self)

    def fit(self, epochs):
        self.model.train()
        for self.epoch in range(epochs):
            self.cb("before_epoch")
            for self.xb, self.yb in self.train_dl:
                self.pred = self.model(self.xb)
                self.loss = self.loss_fn(self.pred, self.yb)
                self.loss.backward()
                self.opt.step()
                self.cb("after_step")
                self.cb("after_batch")
            self.cb("after_epoch")


def make_loader(x, y, bs, shuffle):
    g = torch.Generator().manual_seed(SEED)
    ds = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=shuffle, generator=g)


def main():
    cfg = Config()
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
    Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd
    to_t = lambda a: torch.tensor(a, dtype=torch.float32)
    train_dl = make_loader(to_t(Xtr), to_t(ytr)[:, None], cfg.bs, True)

    model = nn.Sequential(nn.Linear(30, cfg.hidden), nn.ReLU(),
                          nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(),
                          nn.Linear(cfg.hidden, 1))
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), opt, train_dl,
                      callbacks=DEFAULT_CBS + [PrintEvery(5)])
    trainer.fit(cfg.epochs)

    model.eval()
    with torch.no_grad():
        logits = model(to_t(Xva))
        acc = ((logits[:, 0] > 0).float() == to_t(yva)).float().mean().item()
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
