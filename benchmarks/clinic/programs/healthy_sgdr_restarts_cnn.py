"""Small CNN on digits (1x8x8) with SGDR: CosineAnnealingWarmRestarts, 5 warm restarts.

expect: healthy
trap: the LR is reset from ~1e-4 straight back UP to 0.1 every 2 epochs (5 restarts, SGD
nesterov m=0.9, scheduler stepped per batch); right after each restart the per-step loss
rises again (last-batch loss 0.10 at the end of cycle 1 -> 0.13 mid cycle 2) -- looks like
the onset of divergence to a rule that judges only the losses since the LR last changed, and the
low-LR tail of each cycle looks like "LR too low".  The optimizer's LR after the very last
step is back at 0.1 (a restart boundary), which is by design.

Measured: val_acc = 0.9917 on load_digits (20% held out); last-batch loss 0.12 -> 0.005;
restarts=5; ~4.5 s wall including imports.
"""
from dataclasses import dataclass, field

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
class OptimConfig:
    max_lr: float = 0.1
    min_lr: float = 1e-4
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    restart_every_epochs: int = 2   # T_0, in epochs; the scheduler is stepped per batch


@dataclass
class Config:
    batch_size: int = 32
    epochs: int = 10
    optim: OptimConfig = field(default_factory=OptimConfig)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                                    nn.MaxPool2d(2))
        self.block3 = nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                                    nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        return self.head(self.block3(self.block2(self.block1(x))).flatten(1))


class StepHook:
    def after_step(self, trainer, step, loss): ...


class LRTrace(StepHook):
    def __init__(self):
        self.lrs, self.losses = [], []

    def after_step(self, trainer, step, loss):
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])
        self.losses.append(loss)


class SGDRTrainer:
    def __init__(self, model, cfg: Config, hooks=()):
        self.model, self.cfg, self.hooks = model, cfg, list(hooks)
        oc = cfg.optim
        self.optimizer = torch.optim.SGD(model.parameters(), lr=oc.max_lr, momentum=oc.momentum,
                                         nesterov=oc.nesterov, weight_decay=oc.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            self.optimizer, T_0=oc.restart_every_epochs, T_mult=1, eta_min=oc.min_lr)
        self.step = 0

    def _loader(self, X, y):
        perm = torch.randperm(len(X))
        return [(X[perm[s:s + self.cfg.batch_size]], y[perm[s:s + self.cfg.batch_size]])
                for s in range(0, len(X), self.cfg.batch_size)]

    def fit(self, X, y, Xv, yv):
        for epoch in range(self.cfg.epochs):
            self.model.train()
            batches = self._loader(X, y)
            for i, (xb, yb) in enumerate(batches):
                self.optimizer.zero_grad()
                loss = F.cross_entropy(self.model(xb), yb)
                loss.backward()
                self.optimizer.step()
                self.scheduler.step(epoch + (i + 1) / len(batches))
                self.step += 1
                for h in self.hooks:
                    h.after_step(self, self.step, loss.item())
            print(f"epoch {epoch:2d} lr_now={self.optimizer.param_groups[0]['lr']:.4f} "
                  f"last_loss={loss.item():.4f} val_acc={self.evaluate(Xv, yv):.4f}")
        return self

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        return (self.model(X).argmax(1) == y).float().mean().item()


def prepare():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0 - 0.3) / 0.4
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=5, stratify=y)
    img = lambda a: torch.tensor(a, dtype=torch.float32).view(-1, 1, 8, 8)
    return img(Xtr), torch.tensor(ytr), img(Xva), torch.tensor(yva)


def main():
    cfg = Config()
    Xtr, ytr, Xva, yva = prepare()
    trace = LRTrace()
    trainer = SGDRTrainer(ConvNet(), cfg, hooks=[trace]).fit(Xtr, ytr, Xva, yva)
    n_restarts = sum(1 for a, b in zip(trace.lrs, trace.lrs[1:]) if b > 2 * a)
    print(f"restarts={n_restarts} lr range=[{min(trace.lrs):.2e}, {max(trace.lrs):.2e}]")
    v = trainer.evaluate(Xva, yva)
    print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")


if __name__ == "__main__":
    main()
