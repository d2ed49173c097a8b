"""Digits MLP trained to convergence with Keras-style ReduceLROnPlateau and EarlyStopping(restore_best_weights).
expect: healthy
trap: pixels scaled to [0,1] with several always-zero pixel columns (per-feature std 0, means 0..0.8); train loss flattens at ~0.34 (label-smoothing floor + dropout) while val loss is far lower; late updates are tiny because the plateau callback cuts the LR 10x three times; weights jump back to the best epoch at the end (load_state_dict)

A healthy recipe for sklearn digits: x/16 scaling (the standard image practice, not
per-pixel standardization, so the corner pixels that are always 0 stay constant), a
3-layer ReLU MLP with dropout, Adam, and two Keras-like callbacks.  ReduceLROnPlateau cuts
the LR by 10x when the validation loss stalls for 3 epochs (late small updates are the
schedule, not learning-rate-too-low), and EarlyStopping stops after 6 stale epochs and
restores the best weights (a one-off parameter jump after the last step).  Label smoothing
(0.05) plus dropout put a floor of ~0.34 under the training loss, which is reached early and
then stays flat (not loss-not-decreasing), and sits above the plain-CE validation loss
(not a train/val problem: the two losses are measured differently).
Measured: test_acc=0.9867   (seed 1: 0.9689; seed 2: 0.9822)
"""
import copy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class Callback:
    def on_train_begin(self, fitter): pass
    def on_epoch_end(self, fitter, logs): pass
    def on_train_end(self, fitter): pass


class ReduceLROnPlateau(Callback):
    def __init__(self, monitor="val_loss", factor=0.1, patience=3, min_lr=1e-6):
        self.monitor, self.factor, self.patience, self.min_lr = monitor, factor, patience, min_lr

    def on_train_begin(self, f):
        self.best, self.wait = float("inf"), 0

    def on_epoch_end(self, f, logs):
        if logs[self.monitor] < self.best - 1e-4:
            self.best, self.wait = logs[self.monitor], 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            for g in f.opt.param_groups:
                g["lr"] = max(g["lr"] * self.factor, self.min_lr)
            print(f"  ReduceLROnPlateau: lr -> {f.opt.param_groups[0]['lr']:.1e}")
            self.wait = 0


class EarlyStopping(Callback):
    def __init__(self, monitor="val_loss", patience=6, restore_best_weights=True):
        self.monitor, self.patience, self.restore = monitor, patience, restore_best_weights

    def on_train_begin(self, f):
        self.best, self.wait, self.best_state = float("inf"), 0, None

    def on_epoch_end(self, f, logs):
        if logs[self.monitor] < self.best:
            self.best, self.wait = logs[self.monitor], 0
            self.best_state = copy.deepcopy(f.model.state_dict())
        else:
            self.wait += 1
            if self.wait >= self.patience:
                f.stop_training = True

    def on_train_end(self, f):
        if self.restore and self.best_state is not None:
            f.model.load_state_dict(self.best_state)
            print(f"  EarlyStopping: restored weights with {self.monitor}={self.best:.4f}")


class Fitter:
    def __init__(self, model, opt, label_smoothing=0.05):
        self.model, self.opt, self.ls = model, opt, label_smoothing

    def loss(self, logits, y):
        return F.cross_entropy(logits, y, label_smoothing=self.ls)

    @torch.no_grad()
    def evaluate(self, x, y):
        self.model.eval()
        logits = self.model(x)
        out = F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()
        self.model.train()
        return out

    def fit(self, x, y, val, epochs, bs, callbacks):
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin(self)
        g = torch.Generator().manual_seed(SEED)
        for epoch in range(epochs):
            self.model.train()
            perm = torch.randperm(len(x), generator=g)
            losses = []
            for i in range(0, len(x), bs):
                idx = perm[i:i + bs]
                loss = self.loss(self.model(x[idx]), y[idx])
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                losses.append(loss.item())
            vl, va = self.evaluate(*val)
            logs = {"loss": float(np.mean(losses)), "val_loss": vl, "val_acc": va}
            if epoch % 5 == 0:
                print(f"epoch {epoch:2d}  loss {logs['loss']:.4f}  val_loss {vl:.4f}  val_acc {va:.4f}")
            for cb in callbacks:
                cb.on_epoch_end(self, logs)
            if self.stop_training:
                print(f"  early stop at epoch {epoch}")
                break
        for cb in callbacks:
            cb.on_train_end(self)


def main():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtmp, Xte, ytmp, yte = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
    Xtr, Xva, ytr, yva = train_test_split(Xtmp, ytmp, test_size=0.2, random_state=SEED, stratify=ytmp)
    t = torch.from_numpy
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    fitter = Fitter(model, opt)
    fitter.fit(t(Xtr), t(ytr), (t(Xva), t(yva)), epochs=40, bs=64,
               callbacks=[ReduceLROnPlateau(patience=3), EarlyStopping(patience=6)])
    te_loss, te_acc = fitter.evaluate(t(Xte), t(yte))
    print(f"test_nll {te_loss:.4f}")
    print(f"NNDOCTOR_METRIC test_acc={te_acc:.4f} higher")


if __name__ == "__main__":
    main()
