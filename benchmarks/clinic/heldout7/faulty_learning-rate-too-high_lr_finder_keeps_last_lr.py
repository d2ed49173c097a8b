"""MLP on sklearn digits, tuned with a hand-written LR range test whose final (exploding) LR is never reset before training.
expect: learning-rate-too-high
allow: exploding-gradient, non-finite, loss-not-decreasing, dead-relu

Trainer.tune() builds the optimizer, runs an LR range test (LR swept geometrically from 1e-5 upward
until the loss exceeds 4x its best), restores the model weights and wipes the optimizer's momentum,
then writes the suggested LR into module.hparams. But the optimizer was already configured by tune()
and fit() reuses it, so the suggestion is never applied: every param_group keeps the LR of the last
sweep step, i.e. the LR at which the loss had just blown up. Training proper therefore runs ~30x
above the suggested LR (Adam at 0.27 instead of 0.0094) and the loss oscillates at a high level. Fix: restore the param_group LRs
(or rebuild the optimizer from the updated hparams) at the end of the range test.
Measured: faulty val_acc=0.1389 vs fixed val_acc=0.9750 (seeds 1,2: 0.1667/0.0972 vs 0.9611/0.9778)
"""
import copy
import math
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class LitModule(nn.Module):
    def __init__(self, **hparams):
        super().__init__()
        self.hparams = dict(hparams)
        self.metrics = {}

    def log(self, k, v):
        self.metrics[k] = float(v)


class Trainer:
    def __init__(self, max_epochs):
        self.max_epochs = max_epochs
        self.optimizer = None
        self.history = []

    def _setup_optimizers(self, module):
        if self.optimizer is None:
            self.optimizer = module.configure_optimizers()

    # ---- LR range test (Smith 2015), written after the pytorch-lightning tuner
    def tune(self, module, loader, min_lr=1e-5, max_lr=10.0, num_training=120, diverge_factor=4.0):
        self._setup_optimizers(module)
        opt = self.optimizer
        init_state = copy.deepcopy(module.state_dict())
        lrs, losses = [], []
        best, avg, beta = math.inf, 0.0, 0.9
        it = iter(loader)
        module.train()
        for step in range(num_training):
            try:
                batch = next(it)
            except StopIteration:
                it = iter(loader)
                batch = next(it)
            lr = min_lr * (max_lr / min_lr) ** (step / (num_training - 1))
            for g in opt.param_groups:
                g["lr"] = lr
            loss = module.training_step(batch, step)
            opt.zero_grad()
            loss.backward()
            opt.step()
            avg = beta * avg + (1 - beta) * loss.item()
            smoothed = avg / (1 - beta ** (step + 1))
            lrs.append(lr)
            losses.append(smoothed)
            best = min(best, smoothed)
            if step > 10 and (smoothed > diverge_factor * best or not math.isfinite(smoothed)):
                print(f"lr_find: stopping early at lr={lr:.3g}, loss diverged ({smoothed:.3f})")
                break
        # restore the model to where it was before the sweep
        module.load_state_dict(init_state)
        opt.state = defaultdict(dict)
        # suggestion: steepest negative slope of the smoothed loss curve
        grads = np.gradient(np.array(losses[5:-1]), np.log10(np.array(lrs[5:-1])))
        suggestion = lrs[5 + int(np.argmin(grads))]
        module.hparams["lr"] = suggestion
        print(f"lr_find: suggested lr = {suggestion:.4g}")
        return suggestion

    def fit(self, module, train_loader, val_loader):
        self._setup_optimizers(module)
        for epoch in range(self.max_epochs):
            module.train()
            for i, batch in enumerate(train_loader):
                loss = module.training_step(batch, i)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            self.validate(module, val_loader)
            self.history.append(dict(module.metrics))
            if epoch % 2 == 0 or epoch == self.max_epochs - 1:
                print(f"epoch {epoch:2d} lr {self.optimizer.param_groups[0]['lr']:.4g} "
                      f"train_loss {module.metrics['train_loss']:.4f} val_loss {module.metrics['val_loss']:.4f} "
                      f"val_acc {module.metrics['val_acc']:.4f}")

    @torch.no_grad()
    def validate(self, module, loader):
        module.eval()
        for i, batch in enumerate(loader):
            module.validation_step(batch, i)
        module.train()


class DigitsNet(LitModule):
    def __init__(self, lr=1e-3, weight_decay=1e-4):
        super().__init__(lr=lr, weight_decay=weight_decay)
        self.body = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        return self.head(self.body(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        out = self(x)
        self.log("val_loss", F.cross_entropy(out, y).item())
        self.log("val_acc", (out.argmax(-1) == y).float().mean().item())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams["lr"], weight_decay=self.hparams["weight_decay"])


def main():
    t0 = time.time()
    X, y = load_digits(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)
    sc = StandardScaler().fit(Xtr)
    tr = TensorDataset(torch.tensor(sc.transform(Xtr), dtype=torch.float32), torch.tensor(ytr))
    va = TensorDataset(torch.tensor(sc.transform(Xva), dtype=torch.float32), torch.tensor(yva))
    train_loader = DataLoader(tr, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(SEED))
    val_loader = DataLoader(va, batch_size=len(va))

    model = DigitsNet()
    trainer = Trainer(max_epochs=8)
    trainer.tune(model, train_loader)
    trainer.fit(model, train_loader, val_loader)
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC val_acc={trainer.history[-1]['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
