"""Imbalanced digits classifier with label smoothing 0.2 and inverse-frequency class weights; the loss floors near 1.2.

expect: healthy
trap: the training cross-entropy never gets anywhere near zero: with label_smoothing=0.2 over 10 classes plus
      class weights (PyTorch weights the smoothing term by class too) the smallest achievable loss on this
      training set is ~1.21 nats, so the curve sits flat at ~1.25 from epoch 5 on while accuracy is already
      ~95-96%; a naive monitor could call that a plateau / "loss not decreasing" or an LR that is too low, but it
      is the floor set by the loss itself (the script computes it exactly and prints it).

load_digits with classes 0, 1 and 2 thinned to 20% in the training split (a deliberately skewed sample,
e.g. a rare-class setting); the validation split is left balanced. Pixels are scaled to [0, 1] (divide by 16)
and then standardised with train statistics. A small MLP (LayerNorm + GELU) is trained with AdamW
(lr 2e-3, wd 1e-2) and a linear-warmup/cosine schedule (400 steps) by a hand-written Trainer with hooks; the
loss is CrossEntropyLoss(weight=inverse class frequency, label_smoothing=0.2). Measured when run: train loss
2.53 (first epoch mean) -> 1.24-1.27 (floor 1.213), val accuracy 0.963, val balanced accuracy 0.963 (a plain
unweighted MLP on full digits gets ~0.96-0.98, so this is good). Runtime ~3.4 s.
"""
import math
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(1)
np.random.seed(1)


@dataclass
class HParams:
    hidden: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-2
    label_smoothing: float = 0.2
    batch_size: int = 64
    epochs: int = 25
    warmup_steps: int = 50
    rare_classes: tuple = (0, 1, 2)
    rare_keep: float = 0.2


class Hook:
    """Base class: every method is optional."""
    def before_fit(self, trainer): pass
    def after_step(self, trainer, out: Dict[str, float]): pass
    def after_epoch(self, trainer, metrics: Dict[str, float]): pass


class PrintHook(Hook):
    def after_epoch(self, trainer, metrics):
        if trainer.epoch % 5 == 0 or trainer.epoch == trainer.hp.epochs - 1:
            print(f"ep {trainer.epoch:2d} step {trainer.step:4d} "
                  f"train_loss {metrics['train_loss']:.4f} val_acc {metrics['val_acc']:.4f} "
                  f"val_bal_acc {metrics['val_bal_acc']:.4f} lr {trainer.sched.get_last_lr()[0]:.2e}")


class DigitsNet(nn.Module):
    def __init__(self, hp: HParams, class_weights: torch.Tensor):
        super().__init__()
        self.hp = hp
        self.body = nn.Sequential(
            nn.Linear(64, hp.hidden), nn.LayerNorm(hp.hidden), nn.GELU(),
            nn.Linear(hp.hidden, hp.hidden), nn.LayerNorm(hp.hidden), nn.GELU(),
        )
        self.head = nn.Linear(hp.hidden, 10)
        self.register_buffer("class_weights", class_weights)

    def forward(self, x):
        return self.head(self.body(x))

    def compute_loss(self, logits, y):
        return F.cross_entropy(logits, y, weight=self.class_weights,
                               label_smoothing=self.hp.label_smoothing)

    @torch.no_grad()
    def evaluate(self, x, y):
        pred = self(x).argmax(1)
        acc = (pred == y).float().mean().item()
        per_class = [(pred[y == c] == c).float().mean().item() for c in range(10)]
        return acc, float(np.mean(per_class))


class Trainer:
    def __init__(self, model: DigitsNet, hp: HParams, hooks: List[Hook]):
        self.model, self.hp, self.hooks = model, hp, hooks
        self.opt = torch.optim.AdamW(model.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        self.step, self.epoch = 0, 0
        self.sched = None

    def _make_schedule(self, total):
        w = self.hp.warmup_steps

        def lr_lambda(s):
            if s < w:
                return (s + 1) / w
            return 0.5 * (1 + math.cos(math.pi * (s - w) / max(1, total - w)))
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lr_lambda)

    def fit(self, Xtr, ytr, Xva, yva):
        n = len(Xtr)
        steps_per_epoch = math.ceil(n / self.hp.batch_size)
        self._make_schedule(steps_per_epoch * self.hp.epochs)
        for h in self.hooks:
            h.before_fit(self)
        g = torch.Generator().manual_seed(1)
        for self.epoch in range(self.hp.epochs):
            self.model.train()
            perm = torch.randperm(n, generator=g)
            running = []
            for i in range(0, n, self.hp.batch_size):
                idx = perm[i:i + self.hp.batch_size]
                loss = self.model.compute_loss(self.model(Xtr[idx]), ytr[idx])
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                self.sched.step()
                self.step += 1
                running.append(loss.item())
                for h in self.hooks:
                    h.after_step(self, {"loss": running[-1]})
            self.model.eval()
            acc, bal = self.model.evaluate(Xva, yva)
            metrics = {"train_loss": float(np.mean(running)), "val_acc": acc, "val_bal_acc": bal}
            for h in self.hooks:
                h.after_epoch(self, metrics)
        return metrics


def main():
    hp = HParams()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.3, stratify=y, random_state=1)
    rng = np.random.RandomState(1)
    keep = np.array([(c not in hp.rare_classes) or (rng.rand() < hp.rare_keep) for c in y_tr])
    X_tr, y_tr = X_tr[keep], y_tr[keep]
    counts = np.bincount(y_tr, minlength=10)
    print("train class counts:", counts.tolist())
    mu, sd = X_tr.mean(0), X_tr.std(0)
    sd = np.where(sd < 1e-3, 1.0, sd)  # constant border pixels: leave unscaled
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd

    weights = torch.tensor(len(y_tr) / (10 * counts), dtype=torch.float32)
    Xtr, Xva = torch.tensor(X_tr, dtype=torch.float32), torch.tensor(X_va, dtype=torch.float32)
    ytr, yva = torch.tensor(y_tr), torch.tensor(y_va)

    # Smallest loss any model could reach: per sample the weighted, smoothed target a_c is matched by p = a / sum(a).
    eps, K = hp.label_smoothing, 10
    a = eps / K * weights.expand(len(ytr), K).clone()
    a[torch.arange(len(ytr)), ytr] += (1 - eps) * weights[ytr]
    floor = (-(a * torch.log(a / a.sum(1, keepdim=True))).sum() / weights[ytr].sum()).item()
    print(f"loss floor set by smoothing + weights: {floor:.3f}")

    model = DigitsNet(hp, weights)
    metrics = Trainer(model, hp, [PrintHook()]).fit(Xtr, ytr, Xva, yva)
    print(f"NNDOCTOR_METRIC val_bal_acc={metrics['val_bal_acc']:.4f} higher")


if __name__ == "__main__":
    main()
