"""Wide dropout+BatchNorm MLP on a small noisy tabular task; the validation callback leaves the model in eval mode after epoch 1.
expect: healthy
trap: the fixed version of a faulty held-out program

The home-made Trainer calls `model.train()` once in `before_fit`.  Validation lives in a
callback that switches to `model.eval()` at the end of every epoch and never switches back
(the author assumed the Trainer resets the mode at the start of each epoch).  From epoch 2
on, every training step runs with dropout disabled and BatchNorm using its frozen running
statistics (which also stop updating), so the heavily over-parameterised network memorises
the 300 noisy training rows and its held-out NLL gets much worse.  The fix is a
`model.train()` at the end of the callback's `after_epoch` (or in `before_epoch`).
Measured: faulty test_nll=0.9552 vs fixed test_nll=0.6083   (seed 1: 0.9762 vs 0.6325; seed 2: 0.8336 vs 0.6145)
"""
from dataclasses import dataclass
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


@dataclass
class HParams:
    hidden: int = 256
    p_drop: float = 0.5
    lr: float = 1e-3
    bs: int = 32
    epochs: int = 30


class Callback:
    def before_fit(self, trainer): pass
    def before_epoch(self, trainer): pass
    def after_batch(self, trainer): pass
    def after_epoch(self, trainer): pass


class Recorder(Callback):
    def before_fit(self, t):
        self.train_losses, self.val_losses = [], []

    def after_batch(self, t):
        self.train_losses.append(t.loss.item())


class ValidationCallback(Callback):
    def __init__(self, x, y, every=5):
        self.x, self.y, self.every = x, y, every

    def after_epoch(self, t):
        t.model.eval()
        with torch.no_grad():
            logits = t.model(self.x)
            t.val_loss = F.cross_entropy(logits, self.y).item()
            t.val_acc = (logits.argmax(1) == self.y).float().mean().item()
        rec = t.get_cb(Recorder)
        if rec is not None:
            rec.val_losses.append(t.val_loss)
        if (t.epoch + 1) % self.every == 0:
            print(f"epoch {t.epoch+1:3d}  val_loss {t.val_loss:.4f}  val_acc {t.val_acc:.4f}")
        t.model.train()


class Trainer:
    def __init__(self, model, opt, train_dl, callbacks=()):
        self.model, self.opt, self.train_dl, self.callbacks = model, opt, train_dl, list(callbacks)

    def get_cb(self, kind):
        return next((c for c in self.callbacks if isinstance(c, kind)), None)

    def _run(self, name):
        for cb in self.callbacks:
            getattr(cb, name)(self)

    def fit(self, epochs):
        self.model.train()
        self._run("before_fit")
        for self.epoch in range(epochs):
            self._run("before_epoch")
            for xb, yb in self.train_dl:
                self.loss = F.cross_entropy(self.model(xb), yb)
                self.opt.zero_grad()
                self.loss.backward()
                self.opt.step()
                self._run("after_batch")
            self._run("after_epoch")


def mlp(n_in, n_out, hp):
    return nn.Sequential(
        nn.Linear(n_in, hp.hidden), nn.BatchNorm1d(hp.hidden), nn.ReLU(), nn.Dropout(hp.p_drop),
        nn.Linear(hp.hidden, hp.hidden), nn.BatchNorm1d(hp.hidden), nn.ReLU(), nn.Dropout(hp.p_drop),
        nn.Linear(hp.hidden, n_out))


def main():
    hp = HParams()
    X, y = make_classification(n_samples=1300, n_features=40, n_informative=8, n_redundant=4,
                               n_classes=3, flip_y=0.05, class_sep=1.6, random_state=SEED)
    Xtr, ytr = X[:300], y[:300]
    Xva, yva = X[300:500], y[300:500]
    Xte, yte = X[500:], y[500:]
    sc = StandardScaler().fit(Xtr)
    tx = lambda a: torch.tensor(sc.transform(a), dtype=torch.float32)
    ty = lambda a: torch.tensor(a, dtype=torch.long)

    g = torch.Generator().manual_seed(SEED)
    train_dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tx(Xtr), ty(ytr)),
                                           batch_size=hp.bs, shuffle=True, drop_last=True, generator=g)
    model = mlp(40, 3, hp)
    opt = torch.optim.Adam(model.parameters(), lr=hp.lr)
    trainer = Trainer(model, opt, train_dl,
                      callbacks=[Recorder(), ValidationCallback(tx(Xva), ty(yva), every=10)])
    trainer.fit(hp.epochs)

    model.eval()
    with torch.no_grad():
        nll = F.cross_entropy(model(tx(Xte)), ty(yte)).item()
        acc = (model(tx(Xte)).argmax(1) == ty(yte)).float().mean().item()
    print(f"test_acc {acc:.4f}")
    print(f"NNDOCTOR_METRIC test_nll={nll:.4f} lower")


if __name__ == "__main__":
    main()
