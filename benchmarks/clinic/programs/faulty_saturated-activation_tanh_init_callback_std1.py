"""Tanh MLP regression on sklearn diabetes, weights set by an init callback with N(0, 1); hidden tanh units sit in their tails.
expect: saturated-activation
allow: poor-initialization, vanishing-gradient, overfitting

The Learner runs callbacks at `before_fit`; `InitWeights` re-initialises every Linear with
`nn.init.normal_(w, 0, cfg["init_std"])` (the output layer is zero-initialised), and the
config has `init_std=1.0` (copied from a tutorial that used it for a 2-input toy net).
With 10 inputs and 128-wide hidden layers the second and third layers' pre-activations have std ~11: at init ~36% / 78% / 81% of the
three tanh layers' outputs have |tanh| > 0.99 (vs ~0% with Xavier).  Their derivative is ~0,
so the hidden layers hardly learn and act as fixed random +-1 "hash" features; only the
output layer fits them, which memorises the 330 training rows (train mse 0.10) while the
validation mse gets worse every epoch instead of reaching the ~0.5 of the fixed run.  The
fix is fan-in aware init: `init_std=None` -> `nn.init.xavier_normal_`.
Measured: faulty val_mse=0.6467 vs fixed val_mse=0.5322   (seed 1: 0.5741 vs 0.4992; seed 2: 0.6267 vs 0.5244; the damage is moderate, ~15-20%, but holds at every seed)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

cfg = {"hidden": 128, "depth": 3, "lr": 1e-3, "bs": 32, "epochs": 15, "init_std": 1.0}


class Callback:
    def __call__(self, event, learn):
        getattr(self, event, lambda l: None)(learn)


class InitWeights(Callback):
    def __init__(self, std):
        self.std = std

    def before_fit(self, learn):
        linears = [m for m in learn.model.modules() if isinstance(m, nn.Linear)]
        for m in linears:
            if m is linears[-1]:
                nn.init.zeros_(m.weight)        # start from the mean prediction
            elif self.std is None:
                nn.init.xavier_normal_(m.weight)
            else:
                nn.init.normal_(m.weight, 0.0, self.std)
            nn.init.zeros_(m.bias)


class LossTracker(Callback):
    def before_fit(self, learn):
        self.epoch_losses = []

    def before_epoch(self, learn):
        self.sum, self.n = 0.0, 0

    def after_batch(self, learn):
        self.sum += learn.loss.item() * len(learn.yb)
        self.n += len(learn.yb)

    def after_epoch(self, learn):
        self.epoch_losses.append(self.sum / self.n)
        if (learn.epoch + 1) % 5 == 0:
            print(f"epoch {learn.epoch+1}  train_mse {self.epoch_losses[-1]:.4f}  val_mse {learn.validate():.4f}")


class Learner:
    def __init__(self, model, train, valid, cbs=()):
        self.model, self.train_ds, self.valid = model, train, valid
        self.cbs = list(cbs)
        self.loss_func = nn.MSELoss()

    def _cb(self, event):
        for c in self.cbs:
            c(event, self)

    def validate(self):
        self.model.eval()
        with torch.no_grad():
            mse = self.loss_func(self.model(self.valid[0]), self.valid[1]).item()
        self.model.train()
        return mse

    def fit(self, epochs, lr, bs):
        self._cb("before_fit")
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(SEED)
        X, y = self.train_ds
        self.model.train()
        for self.epoch in range(epochs):
            self._cb("before_epoch")
            perm = torch.randperm(len(X), generator=g)
            for i in range(0, len(X), bs):
                idx = perm[i:i + bs]
                self.xb, self.yb = X[idx], y[idx]
                self.loss = self.loss_func(self.model(self.xb), self.yb)
                self.opt.zero_grad()
                self.loss.backward()
                self.opt.step()
                self._cb("after_batch")
            self._cb("after_epoch")
        return self.validate()


def tanh_mlp(n_in, hidden, depth):
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.Tanh()]
        d = hidden
    return nn.Sequential(*layers, nn.Linear(d, 1))


def main():
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED)
    xm, xs = Xtr.mean(0), Xtr.std(0)
    ym, ys = ytr.mean(), ytr.std()
    t = lambda a: torch.tensor(a, dtype=torch.float32)
    train = (t((Xtr - xm) / xs), t((ytr - ym) / ys)[:, None])
    valid = (t((Xva - xm) / xs), t((yva - ym) / ys)[:, None])

    model = tanh_mlp(10, cfg["hidden"], cfg["depth"])
    learn = Learner(model, train, valid, cbs=[InitWeights(cfg["init_std"]), LossTracker()])
    mse = learn.fit(cfg["epochs"], cfg["lr"], cfg["bs"])
    print(f"NNDOCTOR_METRIC val_mse={mse:.4f} lower")


if __name__ == "__main__":
    main()
