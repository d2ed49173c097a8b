"""1200-step SGD run, warmup + per-step cosine decay to ~0: the last few hundred steps barely move.

expect: healthy
trap: in the last 200 steps the learning rate is below 8% of its peak, below 1% in the last ~70 steps (the final
      step runs at ~2e-7), and the update/weight ratio falls by orders of magnitude, so the loss is flat and
      parameters hardly change; a naive monitor could call this a learning rate that is too low, a plateau, or even
      a missing optimizer step. It is the deliberate end of a cosine schedule on a run that has already converged.

make_classification (10000 samples, 20 features, 12 informative, 4 classes, 2 clusters per class, 3% label
noise), standardised with train statistics. A 20-128-128-4 ReLU MLP with dropout 0.1 is trained by a home-made
Trainer driven by a dataclass config and callbacks (LR monitor, periodic validation, final summary); SGD(lr 0.1,
momentum 0.9, nesterov, wd 5e-4), 100 linear warmup steps, then cosine to eta_min=0 stepped every batch, 1200
steps in total. Measured when run: train loss ~1.4 -> 0.21 (50-step mean), val_loss falls monotonically 0.453
(step 200) -> 0.309 and is nearly flat over the last 200 steps, lr at step 1000 is 7.9e-3 and at the last step
2.0e-7; median update/weight ratio 5.6e-3 mid-run vs 1.2e-5 over the last 50 steps. val_acc 0.918 (sklearn's
HistGradientBoostingClassifier gets 0.848 on the same split; the 3% flipped labels cap accuracy). Runtime
~3.9 s.
"""
import math
from dataclasses import dataclass, asdict
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(7)
np.random.seed(7)


@dataclass
class RunConfig:
    n_samples: int = 10000
    hidden: int = 128
    dropout: float = 0.1
    peak_lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 128
    total_steps: int = 1200
    warmup_steps: int = 100
    eval_every: int = 200
    seed: int = 7


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class Net(nn.Module):
    def __init__(self, d_in: int, n_cls: int, cfg: RunConfig):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(d_in, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, n_cls),
        )

    def forward(self, x):
        return self.layers(x)


class Callback:
    def on_step(self, tr: "Trainer", loss: float) -> None: ...
    def on_eval(self, tr: "Trainer", metrics: Dict[str, float]) -> None: ...
    def on_end(self, tr: "Trainer") -> None: ...


class LRMonitor(Callback):
    def __init__(self):
        self.lrs: List[float] = []

    def on_step(self, tr, loss):
        self.lrs.append(tr.optimizer.param_groups[0]["lr"])

    def on_end(self, tr):
        print(f"lr: peak {max(self.lrs):.3g}, at step {len(self.lrs) - 200} {self.lrs[-200]:.3g}, "
              f"last {self.lrs[-1]:.3g}")


class EvalPrinter(Callback):
    def __init__(self):
        self.window: List[float] = []

    def on_step(self, tr, loss):
        self.window = (self.window + [loss])[-50:]

    def on_eval(self, tr, metrics):
        print(f"step {tr.step:5d}  lr {tr.optimizer.param_groups[0]['lr']:.2e}  "
              f"train_loss(50) {np.mean(self.window):.4f}  val_loss {metrics['val_loss']:.4f}  "
              f"val_acc {metrics['val_acc']:.4f}")


class Trainer:
    def __init__(self, model: nn.Module, cfg: RunConfig, callbacks: List[Callback]):
        self.model, self.cfg, self.callbacks = model, cfg, callbacks
        self.optimizer = torch.optim.SGD(model.parameters(), lr=cfg.peak_lr, momentum=cfg.momentum,
                                         nesterov=True, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: warmup_cosine(s, cfg.warmup_steps, cfg.total_steps))
        self.step = 0
        self.metrics: Dict[str, float] = {}

    def emit(self, event: str, *args):
        for cb in self.callbacks:
            getattr(cb, event)(self, *args)

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        logits = self.model(X)
        self.model.train()
        return {"val_loss": F.cross_entropy(logits, y).item(),
                "val_acc": (logits.argmax(1) == y).float().mean().item()}

    def fit(self, X, y, Xv, yv):
        g = torch.Generator().manual_seed(self.cfg.seed)
        self.model.train()
        while self.step < self.cfg.total_steps:
            perm = torch.randperm(len(X), generator=g)
            for i in range(0, len(X) - self.cfg.batch_size + 1, self.cfg.batch_size):
                idx = perm[i:i + self.cfg.batch_size]
                loss = F.cross_entropy(self.model(X[idx]), y[idx])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.emit("on_step", loss.item())
                self.scheduler.step()
                self.step += 1
                if self.step % self.cfg.eval_every == 0:
                    self.metrics = self.evaluate(Xv, yv)
                    self.emit("on_eval", self.metrics)
                if self.step >= self.cfg.total_steps:
                    break
        self.emit("on_end")
        return self.metrics


def main():
    cfg = RunConfig()
    print("config:", asdict(cfg))
    X, y = make_classification(n_samples=cfg.n_samples, n_features=20, n_informative=12, n_redundant=4,
                               n_classes=4, n_clusters_per_class=2, flip_y=0.03, class_sep=1.0,
                               random_state=cfg.seed)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, stratify=y, random_state=cfg.seed)
    mu, sd = X_tr.mean(0), X_tr.std(0)
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    Xt, Xv, yt, yv = f(X_tr), f(X_va), torch.tensor(y_tr), torch.tensor(y_va)

    model = Net(20, 4, cfg)
    metrics = Trainer(model, cfg, [LRMonitor(), EvalPrinter()]).fit(Xt, yt, Xv, yv)
    print(f"NNDOCTOR_METRIC val_acc={metrics['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
