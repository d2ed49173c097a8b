"""Digits MLP: pretrain on parity, then swap in a 10-class head on the same Learner; the optimizer still holds the old head.
expect: healthy
trap: the fixed version of a faulty held-out program

Learner builds its optimizer once, in __init__, from `model.parameters()`.  The script
first pretrains the body on an easy auxiliary task (even/odd digit), then, in the usual
transfer-learning way, replaces `learn.model.head` with a fresh `nn.Linear(hidden, 10)` and
calls `learn.fine_tune()` (fit the head with the body frozen, then unfreeze at lr/10).
The new head's weight and bias require grad and receive gradients every step, but they are
not in any optimizer param group (the optimizer still points at the discarded 2-class
head), so the classifier layer stays at its random init: in the frozen phase nothing learns
at all, and in the short unfrozen phase only the body moves, at a low lr.  The fix is to
rebuild the optimizer after swapping the head (`learn.create_opt()`).
Measured: faulty val_acc=0.5630 vs fixed val_acc=0.8500   (seed 1: 0.5537 vs 0.8389; seed 2: 0.5556 vs 0.8407)
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

CONFIG = dict(lr=3e-3, wd=1e-4, bs=64, hidden=32, pre_epochs=6, freeze_epochs=6, epochs=3)


class Body(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, 128), nn.ReLU(),
                                 nn.Linear(128, hidden), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class Net(nn.Module):
    def __init__(self, n_in, hidden, n_out):
        super().__init__()
        self.body = Body(n_in, hidden)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.head(self.body(x))


class AvgMetric:
    def __init__(self, name):
        self.name = name
        self.reset()

    def reset(self):
        self.total, self.count = 0.0, 0

    def accumulate(self, value, n):
        self.total += value * n
        self.count += n

    @property
    def value(self):
        return self.total / max(self.count, 1)


class Learner:
    def __init__(self, model, dls, loss_func, lr, wd, opt_func=torch.optim.AdamW):
        self.model, self.dls, self.loss_func = model, dls, loss_func
        self.lr, self.wd, self.opt_func = lr, wd, opt_func
        self.create_opt()
        self.train_loss, self.valid_acc = AvgMetric("train_loss"), AvgMetric("valid_acc")

    def freeze(self):
        for p in self.model.body.parameters():
            p.requires_grad_(False)

    def unfreeze(self):
        for p in self.model.parameters():
            p.requires_grad_(True)

    def fine_tune(self, epochs, base_lr, freeze_epochs):
        self.freeze()
        self.fit(freeze_epochs)
        self.unfreeze()
        for g in self.opt.param_groups:
            g["lr"] = base_lr / 10
        return self.fit(epochs)

    def create_opt(self):
        self.opt = self.opt_func(self.model.parameters(), lr=self.lr, weight_decay=self.wd)

    def one_batch(self, xb, yb):
        loss = self.loss_func(self.model(xb), yb)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.train_loss.accumulate(loss.item(), len(xb))

    def validate(self):
        self.model.eval()
        self.valid_acc.reset()
        with torch.no_grad():
            for xb, yb in self.dls["valid"]:
                acc = (self.model(xb).argmax(1) == yb).float().mean().item()
                self.valid_acc.accumulate(acc, len(xb))
        self.model.train()
        return self.valid_acc.value

    def fit(self, n_epoch):
        for epoch in range(n_epoch):
            self.model.train()
            self.train_loss.reset()
            for xb, yb in self.dls["train"]:
                self.one_batch(xb, yb)
            acc = self.validate()
            print(f"epoch {epoch}  train_loss {self.train_loss.value:.4f}  valid_acc {acc:.4f}")
        return acc


def loaders(X, y, bs):
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
    to_x = lambda a: torch.tensor(a, dtype=torch.float32)
    to_y = lambda a: torch.tensor(a, dtype=torch.long)
    g = torch.Generator().manual_seed(SEED)
    tr = torch.utils.data.TensorDataset(to_x(Xtr), to_y(ytr))
    va = torch.utils.data.TensorDataset(to_x(Xva), to_y(yva))
    return {"train": torch.utils.data.DataLoader(tr, bs, shuffle=True, generator=g),
            "valid": torch.utils.data.DataLoader(va, 256)}


def main():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X = (X - X.mean(0)) / (X.std(0) + 1e-3)

    # stage 1: pretrain the body on parity (2 classes)
    model = Net(64, CONFIG["hidden"], 2)
    learn = Learner(model, loaders(X, y % 2, CONFIG["bs"]), F.cross_entropy,
                    lr=CONFIG["lr"], wd=CONFIG["wd"])
    print("-- pretrain on parity")
    learn.fit(CONFIG["pre_epochs"])

    # stage 2: new head for the 10 digit classes, fine-tune everything
    learn.dls = loaders(X, y, CONFIG["bs"])
    learn.model.head = nn.Linear(CONFIG["hidden"], 10)
    learn.create_opt()
    print("-- fine-tune on 10 classes (head first, then everything)")
    acc = learn.fine_tune(CONFIG["epochs"], CONFIG["lr"], CONFIG["freeze_epochs"])
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
