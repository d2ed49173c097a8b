"""Keras-style compile()/fit() wrapper training a digits MLP; the config's lr (tuned for SGD) is reused after switching to Adam.
expect: learning-rate-too-high
allow: dead-relu, loss-not-decreasing, exploding-gradient

`RunConfig` was written for `optimizer="sgd"` with lr=0.1, which is a sane SGD value.
The experiment switched to `optimizer="adam"` by changing one field and kept lr=0.1.
Adam's per-parameter step is ~lr regardless of the gradient scale, so every weight moves by
~0.1 per step: the loss jumps around at a high level, many ReLU units get knocked dead, and the
classifier ends far below the fixed run (lr=1e-3, the usual Adam value).
Measured: faulty val_acc=0.4022 vs fixed val_acc=0.9756   (seed 1: 0.4400 vs 0.9689; seed 2: 0.2644 vs 0.9711)
"""
from dataclasses import dataclass, asdict
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


@dataclass
class RunConfig:
    optimizer: str = "adam"
    lr: float = 0.1
    batch_size: int = 32
    epochs: int = 8
    hidden: int = 128


OPTIMIZERS = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
}


LOSSES = {
    "sparse_categorical_crossentropy": nn.functional.cross_entropy,
    "mse": nn.functional.mse_loss,
}


class History:
    def __init__(self):
        self.history = {}

    def log(self, **kw):
        for k, v in kw.items():
            self.history.setdefault(k, []).append(v)


class Sequential(nn.Sequential):
    """nn.Sequential with a Keras-like compile/fit/evaluate."""

    def compile(self, optimizer, lr, loss, metrics=("accuracy",)):
        self.optimizer = OPTIMIZERS[optimizer](self.parameters(), lr)
        self.loss_fn = LOSSES[loss]
        self.metrics = metrics

    def fit(self, x, y, batch_size, epochs, validation_data=None, verbose=1):
        hist = History()
        g = torch.Generator().manual_seed(SEED)
        n = len(x)
        for epoch in range(epochs):
            self.train()
            perm = torch.randperm(n, generator=g)
            losses = []
            for i in range(0, n, batch_size):
                idx = perm[i:i + batch_size]
                out = self(x[idx])
                loss = self.loss_fn(out, y[idx])
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
            logs = {"loss": float(np.mean(losses))}
            if validation_data is not None:
                logs.update({"val_" + k: v for k, v in self.evaluate(*validation_data).items()})
            hist.log(**logs)
            if verbose:
                print(f"Epoch {epoch+1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        return hist

    @torch.no_grad()
    def evaluate(self, x, y):
        self.eval()
        out = self(x)
        res = {"loss": self.loss_fn(out, y).item()}
        if "accuracy" in self.metrics:
            res["accuracy"] = (out.argmax(1) == y).float().mean().item()
        return res


def main():
    cfg = RunConfig()
    print("config:", asdict(cfg))
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0) + 0.1
    Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd
    xt = lambda a: torch.tensor(a, dtype=torch.float32)
    yt = lambda a: torch.tensor(a, dtype=torch.long)

    model = Sequential(nn.Linear(64, cfg.hidden), nn.ReLU(),
                       nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(),
                       nn.Linear(cfg.hidden, 10))
    model.compile(optimizer=cfg.optimizer, lr=cfg.lr, loss="sparse_categorical_crossentropy")
    hist = model.fit(xt(Xtr), yt(ytr), batch_size=cfg.batch_size, epochs=cfg.epochs,
                     validation_data=(xt(Xva), yt(yva)))
    print(f"NNDOCTOR_METRIC val_acc={hist.history['val_accuracy'][-1]:.4f} higher")


if __name__ == "__main__":
    main()
