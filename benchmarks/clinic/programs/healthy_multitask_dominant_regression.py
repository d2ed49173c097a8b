"""Two-head multi-task MLP (regression MSE + binary BCE, summed): the regression term dominates the total loss.

expect: healthy
trap: the summed loss is 97% regression MSE on the first batch (MSE ~23 on a target with variance ~24 vs BCE
      0.69) and still ~76% of it at the end, so the total-loss curve is essentially the regression curve and the
      classification loss is a small ripple on it; a naive monitor could decide the classification head is not
      learning, that its gradient is drowned out, or that the loss scale is broken. Both heads train well: the
      small task has its own head parameters and enough signal, and Adam's per-parameter scaling keeps its
      updates healthy.

Synthetic data from make_friedman1 (10 uniform features, 6000 samples): task A is the Friedman-1 target (noise 1,
variance ~24.3), centred with the train mean but deliberately left unscaled; task B is an XOR-like label
sign((x5-0.5)(x6-0.5)) on two features the regression ignores, with 5% of labels flipped. Inputs are
standardised. A shared 10-128-128 ReLU trunk feeds a 1-unit regression head and a 1-unit logit head; loss = MSE +
BCEWithLogits (unweighted sum, as many first multi-task attempts do). Adam(lr 3e-3) with per-step cosine decay,
batch 128, 30 epochs = 1140 steps, with a home-made Trainer, dataclass config and callbacks that log each
task's loss. Measured when run: MSE 23.5 (first batch) -> 11.3 (epoch 0 mean) -> 1.68 (epoch 5) -> 0.96; BCE
0.695 -> 0.49 (epoch 5) -> 0.30 (train, with flipped labels; the floor is ~0.2); val_mse falls monotonically
6.4 -> 1.29 (noise floor 1.0, variance ~24), val_bce 0.25, val_acc on task B 0.927 (max ~0.95 with 5% flipped
labels). Runtime ~3.4 s.
"""
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(11)
np.random.seed(11)


@dataclass
class MTConfig:
    n_samples: int = 6000
    trunk_width: int = 128
    lr: float = 3e-3
    batch_size: int = 128
    epochs: int = 30
    label_flip: float = 0.05
    seed: int = 11


class MultiTaskNet(nn.Module):
    def __init__(self, cfg: MTConfig, d_in: int = 10):
        super().__init__()
        w = cfg.trunk_width
        self.trunk = nn.Sequential(nn.Linear(d_in, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU())
        self.reg_head = nn.Linear(w, 1)
        self.cls_head = nn.Linear(w, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.reg_head(h).squeeze(-1), self.cls_head(h).squeeze(-1)

    def losses(self, batch) -> Dict[str, torch.Tensor]:
        x, y_reg, y_cls = batch
        pred_reg, logit = self(x)
        return {"mse": F.mse_loss(pred_reg, y_reg),
                "bce": F.binary_cross_entropy_with_logits(logit, y_cls)}

    @torch.no_grad()
    def evaluate(self, batch) -> Dict[str, float]:
        x, y_reg, y_cls = batch
        pred_reg, logit = self(x)
        return {"val_mse": F.mse_loss(pred_reg, y_reg).item(),
                "val_bce": F.binary_cross_entropy_with_logits(logit, y_cls).item(),
                "val_acc": ((logit > 0).float() == y_cls).float().mean().item()}


class Callback:
    def on_batch_end(self, trainer, parts: Dict[str, float]): pass
    def on_epoch_end(self, trainer, val: Dict[str, float]): pass


class TaskLossLogger(Callback):
    def __init__(self, every_epochs=5):
        self.every = every_epochs
        self.buf: Dict[str, List[float]] = {}
        self.first = None

    def on_batch_end(self, trainer, parts):
        if self.first is None:
            self.first = dict(parts)
            total = sum(parts.values())
            print(f"first batch: mse {parts['mse']:.2f} bce {parts['bce']:.3f} "
                  f"(regression share {parts['mse'] / total:.1%})")
        for k, v in parts.items():
            self.buf.setdefault(k, []).append(v)

    def on_epoch_end(self, trainer, val):
        if trainer.epoch % self.every == 0 or trainer.epoch == trainer.cfg.epochs - 1:
            mse, bce = np.mean(self.buf["mse"]), np.mean(self.buf["bce"])
            print(f"epoch {trainer.epoch:2d}  mse {mse:8.3f}  bce {bce:.4f}  share {mse / (mse + bce):.1%}  | "
                  f"val_mse {val['val_mse']:.3f}  val_bce {val['val_bce']:.4f}  val_acc {val['val_acc']:.4f}")
        self.buf = {}


class Trainer:
    def __init__(self, cfg: MTConfig, callbacks: List[Callback]):
        self.cfg, self.callbacks = cfg, callbacks
        self.epoch = 0

    def fit(self, model: MultiTaskNet, train: tuple, val: tuple) -> Dict[str, float]:
        opt = torch.optim.Adam(model.parameters(), lr=self.cfg.lr)
        n = len(train[0])
        steps_per_epoch = (n + self.cfg.batch_size - 1) // self.cfg.batch_size
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs * steps_per_epoch)
        g = torch.Generator().manual_seed(self.cfg.seed)
        metrics = {}
        for self.epoch in range(self.cfg.epochs):
            model.train()
            perm = torch.randperm(n, generator=g)
            for i in range(0, n, self.cfg.batch_size):
                idx = perm[i:i + self.cfg.batch_size]
                parts = model.losses(tuple(t[idx] for t in train))
                loss = parts["mse"] + parts["bce"]
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                for cb in self.callbacks:
                    cb.on_batch_end(self, {k: v.item() for k, v in parts.items()})
            model.eval()
            metrics = model.evaluate(val)
            for cb in self.callbacks:
                cb.on_epoch_end(self, metrics)
        return metrics


def build_data(cfg: MTConfig):
    X, y_reg = make_friedman1(n_samples=cfg.n_samples, n_features=10, noise=1.0, random_state=cfg.seed)
    rng = np.random.RandomState(cfg.seed)
    y_cls = (((X[:, 5] - 0.5) * (X[:, 6] - 0.5)) > 0).astype(np.float32)
    flip = rng.rand(len(y_cls)) < cfg.label_flip
    y_cls[flip] = 1 - y_cls[flip]
    X_tr, X_va, r_tr, r_va, c_tr, c_va = train_test_split(X, y_reg, y_cls, test_size=0.2, random_state=cfg.seed)
    mu, sd = X_tr.mean(0), X_tr.std(0)
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd
    r_mean = r_tr.mean()  # centre the regression target (kept in its own units, not rescaled)
    r_tr, r_va = r_tr - r_mean, r_va - r_mean
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    print(f"task A target: mean {r_tr.mean():.2f}, var {r_tr.var():.2f}; task B positives {c_tr.mean():.2f}")
    return (f(X_tr), f(r_tr), f(c_tr)), (f(X_va), f(r_va), f(c_va))


def main():
    cfg = MTConfig()
    train, val = build_data(cfg)
    model = MultiTaskNet(cfg)
    metrics = Trainer(cfg, [TaskLossLogger()]).fit(model, train, val)
    print(f"final val_mse {metrics['val_mse']:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={metrics['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
