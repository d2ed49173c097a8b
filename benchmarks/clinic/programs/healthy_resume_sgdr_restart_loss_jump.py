"""Digits MLP (dropout) with SGD + CosineAnnealingWarmRestarts in a home-made Lightning-style Trainer; the job is preempted, then resumed in a fresh module/optimizer from a full checkpoint exactly at a warm restart, so the loss jumps on resume.
expect: healthy
trap: train and (more) val loss jump up right after the resume because the LR snaps from ~1e-3 back to its 0.1 peak at a warm restart; the resumed run uses brand-new module/optimizer objects (new parameter tensors) loaded from torch.load; dropout makes the train loss sit above the val loss

The checkpoint stores model, optimizer (momentum buffers), scheduler and step counters; resuming builds
a new module, loads the weights into it, builds the optimizer from THAT module and loads the optimizer
and scheduler states, so training continues exactly where it stopped. The first SGDR cycle is 4 epochs
and the job is killed after epoch 4, so the first step of the resumed job is also the first step of
cycle 2: the LR goes from ~1e-3 back to 0.1; the per-step training loss spikes to ~3-4x its pre-kill
level (peak 0.42 vs mean 0.11 over the 20 steps before), the epoch-mean train loss goes up (0.112 ->
0.141) and the validation loss jumps by ~70% (0.140 -> 0.241) for two epochs (seed 0), then both settle
lower than before as the cosine decays. Val loss rising right after a resume looks like a botched restore or like overfitting;
it is the warm restart doing its job (train loss rises with it). The scheduler also reports lr=0.1 after
the last step of each cycle: that is the next cycle's first LR, not a step taken at it.
Measured: val_acc=0.9756 (seeds 1,2: 0.9778/0.9778)
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


class Preempted(Exception):
    pass


class LitModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.metrics = {}

    def log(self, k, v):
        self.metrics[k] = float(v)


class Checkpoint:
    def __init__(self, path):
        self.path = path

    def on_train_epoch_end(self, trainer, module):
        torch.save({
            "epoch": trainer.current_epoch,
            "global_step": trainer.global_step,
            "state_dict": module.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "lr_scheduler": trainer.scheduler.state_dict(),
        }, self.path)


class KillAfterEpoch:
    """simulates the cluster killing the job (wall-time limit)"""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, module):
        if trainer.current_epoch == self.epoch:
            raise Preempted(f"job killed after epoch {self.epoch}")


class Trainer:
    def __init__(self, max_epochs, callbacks=()):
        self.max_epochs = max_epochs
        self.callbacks = list(callbacks)
        self.global_step = 0
        self.current_epoch = 0

    def fit(self, module, train_loader, val_loader, ckpt_path=None):
        start_epoch = 0
        ckpt = None
        if ckpt_path is not None:
            ckpt = torch.load(ckpt_path)
            module.load_state_dict(ckpt["state_dict"])
        self.optimizer, self.scheduler = module.configure_optimizers(steps_per_epoch=len(train_loader))
        if ckpt is not None:
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.scheduler.load_state_dict(ckpt["lr_scheduler"])
            start_epoch, self.global_step = ckpt["epoch"] + 1, ckpt["global_step"]
            print(f"--- resumed from checkpoint: epoch {start_epoch}, step {self.global_step}, "
                  f"lr {self.optimizer.param_groups[0]['lr']:.3g}")
        for epoch in range(start_epoch, self.max_epochs):
            self.current_epoch = epoch
            module.train()
            losses = []
            for batch_idx, batch in enumerate(train_loader):
                loss = module.training_step(batch, batch_idx)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.scheduler.step()          # interval="step"
                self.global_step += 1
                losses.append(loss.item())
            module.eval()
            with torch.no_grad():
                for batch_idx, batch in enumerate(val_loader):
                    module.validation_step(batch, batch_idx)
            print(f"epoch {epoch:2d} lr(end) {self.optimizer.param_groups[0]['lr']:.4f} "
                  f"train_loss first/last batch {losses[0]:.3f}/{losses[-1]:.3f} mean {np.mean(losses):.3f} "
                  f"val_loss {module.metrics['val_loss']:.3f} val_acc {module.metrics['val_acc']:.4f}")
            for cb in self.callbacks:
                cb.on_train_epoch_end(self, module)


class DigitsMLP(LitModule):
    def __init__(self, lr=0.1, cycle_epochs=4):
        super().__init__()
        self.lr, self.cycle_epochs = lr, cycle_epochs
        self.net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        out = self(x)
        self.log("val_loss", F.cross_entropy(out, y))
        self.log("val_acc", (out.argmax(1) == y).float().mean())

    def configure_optimizers(self, steps_per_epoch):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            opt, T_0=self.cycle_epochs * steps_per_epoch, T_mult=2, eta_min=1e-4)
        return opt, sched


def main():
    t0 = time.time()
    X, y = load_digits(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
    sc = StandardScaler().fit(Xtr)
    tr = TensorDataset(torch.tensor(sc.transform(Xtr), dtype=torch.float32), torch.tensor(ytr))
    va = TensorDataset(torch.tensor(sc.transform(Xva), dtype=torch.float32), torch.tensor(yva))
    train_loader = DataLoader(tr, batch_size=64, shuffle=True, drop_last=True,
                              generator=torch.Generator().manual_seed(SEED))
    val_loader = DataLoader(va, batch_size=len(va))

    with tempfile.TemporaryDirectory() as d:
        ckpt = Checkpoint(os.path.join(d, "last.ckpt"))
        try:
            Trainer(max_epochs=12, callbacks=[ckpt, KillAfterEpoch(3)]).fit(DigitsMLP(), train_loader, val_loader)
        except Preempted as e:
            print(f"!!! {e}")
        # the relaunched job: fresh process state, fresh objects, resume from last.ckpt
        model = DigitsMLP()
        Trainer(max_epochs=12, callbacks=[ckpt]).fit(model, train_loader, val_loader, ckpt_path=ckpt.path)
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC val_acc={model.metrics['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
