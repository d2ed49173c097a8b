"""Digits MLP with SGD and a StepLR meant per epoch; the scheduler callback steps it after every batch, so the LR collapses.
expect: learning-rate-too-low
allow: loss-not-decreasing, optimizer-step-missing

The config describes the schedule in epochs (`StepLR(step_size=4, gamma=0.5)`: halve the
LR every 4 epochs over 20 epochs, as in the fixed run).  The generic `ParamScheduler`
callback, borrowed from another project that used per-iteration schedulers (OneCycle),
calls `sched.step()` in `after_batch`.  With 23 batches per epoch the LR halves every 4
*batches*: it is 0.05/2**5 ~ 1.6e-3 after one epoch and ~6e-9 by epoch 4, so SGD
effectively freezes the network early in training and it never gets close to the
accuracy of the fixed run (`after_epoch`).
Measured: faulty val_acc=0.5528 vs fixed val_acc=0.9667   (seed 1: 0.3333 vs 0.9722; seed 2: 0.4278 vs 0.9667)
"""
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

CFG = {"lr": 0.05, "momentum": 0.9, "epochs": 20, "bs": 64,
       "sched": {"step_size": 4, "gamma": 0.5}}


class Callback:
    def before_fit(self, learn): pass
    def after_batch(self, learn): pass
    def after_epoch(self, learn): pass


class ParamScheduler(Callback):
    """Wraps a torch lr_scheduler; records the lr it sets."""

    def __init__(self, make_sched):
        self.make_sched = make_sched

    def before_fit(self, learn):
        self.sched = self.make_sched(learn.opt)
        learn.recorder.setdefault("lr", [])

    def after_epoch(self, learn):
        self.sched.step()
        learn.recorder["lr"].append(learn.opt.param_groups[0]["lr"])


class ProgressPrinter(Callback):
    def after_epoch(self, learn):
        if (learn.epoch + 1) % 4 == 0:
            vl, va = learn.validate()
            print(f"epoch {learn.epoch+1:2d}  train_loss {np.mean(learn.recorder['loss'][-10:]):.4f}  "
                  f"val_loss {vl:.4f}  val_acc {va:.4f}  lr {learn.opt.param_groups[0]['lr']:.2e}")


class Learner:
    def __init__(self, model, train_dl, valid, opt, cbs):
        self.model, self.train_dl, self.valid, self.opt, self.cbs = model, train_dl, valid, opt, cbs
        self.recorder = {"loss": []}

    def _cb(self, name):
        for c in self.cbs:
            getattr(c, name)(self)

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        x, y = self.valid
        out = self.model(x)
        self.model.train()
        return F.cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()

    def fit(self, epochs):
        self._cb("before_fit")
        self.model.train()
        for self.epoch in range(epochs):
            for xb, yb in self.train_dl:
                loss = F.cross_entropy(self.model(xb), yb)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                self.recorder["loss"].append(loss.item())
                self._cb("after_batch")
            self._cb("after_epoch")
        return self.validate()


def main():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0 - 0.3) / 0.4
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)
    f32 = lambda a: torch.tensor(a, dtype=torch.float32)
    g = torch.Generator().manual_seed(SEED)
    train_dl = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(f32(Xtr), torch.tensor(ytr)), batch_size=CFG["bs"],
        shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=CFG["momentum"])
    sched = lambda o: torch.optim.lr_scheduler.StepLR(o, **CFG["sched"])
    learn = Learner(model, train_dl, (f32(Xva), torch.tensor(yva)), opt,
                    cbs=[ParamScheduler(sched), ProgressPrinter()])
    _, acc = learn.fit(CFG["epochs"])
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
