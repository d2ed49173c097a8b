"""5-class MLP on a synthetic make_classification task; ReduceLROnPlateau(mode="min") is told to monitor val_acc, so every gain in accuracy counts as "no improvement" and the LR is cut to nothing.
expect: learning-rate-too-low
allow: loss-not-decreasing

configure_optimizers returns a Lightning-style lr_scheduler dict with "monitor": "val_acc" (copied from
the ModelCheckpoint config, which does monitor accuracy with mode="max"), while the scheduler keeps the
default mode="min". The Trainer steps the scheduler once per epoch with the monitored value. Accuracy
rises, which a mode="min" plateau detector reads as a plateau, so the LR is multiplied by 0.3 every
2 epochs: after 10 epochs it is ~1/400 of the intended value, after 20 ~1e-5, and the net stops learning
long before it has converged. Fix: monitor "val_loss" (or set mode="max").
Measured: faulty val_acc=0.5867 vs fixed val_acc=0.8350 (seeds 1,2: 0.5967/0.6150 vs 0.8017/0.8233)
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class LightningModuleLite(nn.Module):
    def __init__(self):
        super().__init__()
        self.callback_metrics = {}

    def log(self, name, value):
        self.callback_metrics[name] = float(value)


class BestCheckpoint:
    """keeps the best weights in memory (monitor/mode like pl.callbacks.ModelCheckpoint)"""

    def __init__(self, monitor="val_acc", mode="max"):
        self.monitor, self.mode = monitor, mode
        self.best, self.best_state = None, None

    def on_validation_end(self, trainer, module):
        v = module.callback_metrics[self.monitor]
        better = self.best is None or (v > self.best if self.mode == "max" else v < self.best)
        if better:
            self.best = v
            self.best_state = {k: t.detach().clone() for k, t in module.state_dict().items()}


class Trainer:
    def __init__(self, max_epochs, callbacks=()):
        self.max_epochs = max_epochs
        self.callbacks = list(callbacks)

    def fit(self, module, train_loader, val_loader):
        cfg = module.configure_optimizers()
        opt = cfg["optimizer"]
        sched_cfg = cfg.get("lr_scheduler")
        for epoch in range(self.max_epochs):
            module.train()
            tot, n = 0.0, 0
            for i, batch in enumerate(train_loader):
                loss = module.training_step(batch, i)
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot += loss.item() * len(batch[0])
                n += len(batch[0])
            module.log("train_loss", tot / n)
            module.eval()
            with torch.no_grad():
                for i, batch in enumerate(val_loader):
                    module.validation_step(batch, i)
            for cb in self.callbacks:
                cb.on_validation_end(self, module)
            if sched_cfg is not None:
                sched = sched_cfg["scheduler"]
                if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    sched.step(module.callback_metrics[sched_cfg["monitor"]])
                else:
                    sched.step()
            m = module.callback_metrics
            if epoch % 5 == 0 or epoch == self.max_epochs - 1:
                print(f"epoch {epoch:2d} lr {opt.param_groups[0]['lr']:.2e} train_loss {m['train_loss']:.4f} "
                      f"val_loss {m['val_loss']:.4f} val_acc {m['val_acc']:.4f}")


class Classifier(LightningModuleLite):
    def __init__(self, n_in, n_classes, lr=0.05):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(
            nn.Linear(n_in, 128), nn.ReLU(),
            nn.Linear(128, 128), nn.ReLU(),
            nn.Linear(128, n_classes),
        )

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, nesterov=True)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.3, patience=1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_acc"}}


def main():
    t0 = time.time()
    X, y = make_classification(n_samples=3000, n_features=30, n_informative=15, n_redundant=5,
                               n_classes=5, n_clusters_per_class=2, class_sep=1.0, random_state=SEED)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=SEED)
    sc = StandardScaler().fit(Xtr)
    tr = TensorDataset(torch.tensor(sc.transform(Xtr), dtype=torch.float32), torch.tensor(ytr))
    va = TensorDataset(torch.tensor(sc.transform(Xva), dtype=torch.float32), torch.tensor(yva))
    train_loader = DataLoader(tr, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(SEED))
    val_loader = DataLoader(va, batch_size=len(va))

    model = Classifier(30, 5, lr=0.01)
    ckpt = BestCheckpoint(monitor="val_acc", mode="max")
    Trainer(max_epochs=20, callbacks=[ckpt]).fit(model, train_loader, val_loader)
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC val_acc={model.callback_metrics['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
