"""Digits MLP trained with a home-made Lightning-style Trainer that is preempted and resumed; resume rebuilds the module but the optimizer still holds the old one's parameters.
expect: parameter-not-optimized
allow: optimizer-step-missing, gradient-not-zeroed

The Trainer builds its optimizer from the module it was handed (configure_optimizers) and only then
restores the checkpoint. Restoring uses the Lightning-like classmethod `load_from_checkpoint`, which
constructs a NEW module instance and loads the weights into it; the trainer swaps `self.module` to that
instance and loads the optimizer state. From then on every training_step runs the new module (its
parameters get gradients), but the optimizer's param_groups still point at the parameters of the
throw-away module passed to fit(), which never receive gradients. Nothing in the resumed run learns,
so the final model is the 3-epoch checkpoint. Fix: restore first, then call configure_optimizers on
the module that is actually trained.
Measured: faulty val_acc=0.7306 vs fixed val_acc=0.9694 (seeds 1,2: 0.6806/0.6250 vs 0.9583/0.9778)
"""
import os
import tempfile
import time

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


# --------------------------------------------------------------------------- mini framework
class LitModule(nn.Module):
    """Tiny stand-in for pl.LightningModule."""

    def __init__(self, **hparams):
        super().__init__()
        self.hparams = dict(hparams)
        self.logged = {}

    def log(self, name, value):
        self.logged[name] = float(value)

    def training_step(self, batch, batch_idx):
        raise NotImplementedError

    def validation_step(self, batch, batch_idx):
        pass

    def configure_optimizers(self):
        raise NotImplementedError

    @classmethod
    def load_from_checkpoint(cls, path):
        ckpt = torch.load(path)
        model = cls(**ckpt["hyper_parameters"])
        model.load_state_dict(ckpt["state_dict"])
        return model


class ModelCheckpoint:
    def __init__(self, dirpath):
        self.dirpath = dirpath
        self.last_model_path = os.path.join(dirpath, "last.ckpt")

    def on_train_epoch_end(self, trainer):
        torch.save({
            "epoch": trainer.current_epoch,
            "global_step": trainer.global_step,
            "state_dict": trainer.module.state_dict(),
            "optimizer_states": trainer.optimizer.state_dict(),
            "hyper_parameters": trainer.module.hparams,
        }, self.last_model_path)


class Trainer:
    def __init__(self, max_epochs, callbacks=()):
        self.max_epochs = max_epochs
        self.callbacks = list(callbacks)
        self.current_epoch = 0
        self.global_step = 0

    def fit(self, module, train_loader, val_loader, ckpt_path=None):
        self.module = module
        self.optimizer = module.configure_optimizers()
        start_epoch = 0
        if ckpt_path is not None:
            ckpt = torch.load(ckpt_path)
            self.module = type(module).load_from_checkpoint(ckpt_path)
            self.optimizer.load_state_dict(ckpt["optimizer_states"])
            start_epoch = ckpt["epoch"] + 1
            self.global_step = ckpt["global_step"]
            print(f"resumed from {os.path.basename(ckpt_path)} at epoch {start_epoch}")

        for epoch in range(start_epoch, self.max_epochs):
            self.current_epoch = epoch
            self.module.train()
            for batch_idx, batch in enumerate(train_loader):
                loss = self.module.training_step(batch, batch_idx)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.global_step += 1
            self.validate(val_loader)
            print(f"epoch {epoch:2d} train_loss {self.module.logged['train_loss']:.4f} "
                  f"val_loss {self.module.logged['val_loss']:.4f} val_acc {self.module.logged['val_acc']:.4f}")
            for cb in self.callbacks:
                cb.on_train_epoch_end(self)

    @torch.no_grad()
    def validate(self, val_loader):
        self.module.eval()
        for batch_idx, batch in enumerate(val_loader):
            self.module.validation_step(batch, batch_idx)
        self.module.train()


# --------------------------------------------------------------------------- user code
class DigitsClassifier(LitModule):
    def __init__(self, hidden=128, lr=0.02, momentum=0.9):
        super().__init__(hidden=hidden, lr=lr, momentum=momentum)
        self.net = nn.Sequential(
            nn.Linear(64, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 10),
        )

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y).item())
        self.log("val_acc", (logits.argmax(1) == y).float().mean().item())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams["lr"], momentum=self.hparams["momentum"])


def main():
    t0 = time.time()
    X, y = load_digits(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)
    sc = StandardScaler().fit(Xtr)
    Xtr, Xva = sc.transform(Xtr), sc.transform(Xva)
    tr = TensorDataset(torch.tensor(Xtr, dtype=torch.float32), torch.tensor(ytr))
    va = TensorDataset(torch.tensor(Xva, dtype=torch.float32), torch.tensor(yva))
    g = torch.Generator().manual_seed(SEED)
    train_loader = DataLoader(tr, batch_size=256, shuffle=True, generator=g)
    val_loader = DataLoader(va, batch_size=len(va))

    with tempfile.TemporaryDirectory() as d:
        ckpt_cb = ModelCheckpoint(d)
        # first job: killed after 3 epochs (simulated preemption)
        Trainer(max_epochs=3, callbacks=[ckpt_cb]).fit(DigitsClassifier(), train_loader, val_loader)
        # second job: same script relaunched with --resume
        trainer = Trainer(max_epochs=25, callbacks=[ckpt_cb])
        trainer.fit(DigitsClassifier(), train_loader, val_loader, ckpt_path=ckpt_cb.last_model_path)

    trainer.validate(val_loader)
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC val_acc={trainer.module.logged['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
