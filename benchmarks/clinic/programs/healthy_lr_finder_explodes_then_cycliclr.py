"""Noisy two-moons MLP trained with SGD + CyclicLR whose bounds come from a hand-written LR range test; the range test deliberately drives the loss to explode, then restores model AND optimizer before training proper.
expect: healthy
trap: the first ~90 steps are an LR sweep up to lr~4 during which the loss explodes by design (raw loss 4.4 vs 0.36 at best); the weights then jump back to their initial values (load_state_dict) and the optimizer state is reloaded; CyclicLR max_lr ~0.4 with momentum 0.9, the loss breathes with each LR cycle (momentum cycles inversely)

Classic Leslie Smith workflow: sweep the LR geometrically from 1e-4 to 10 on mini-batches, stop once
the smoothed loss exceeds 4x its minimum, take the LR of the minimum, and set CyclicLR(max_lr = that/4,
base_lr = max_lr/10, triangular2). Everything the sweep touched is put back: the model's state_dict
and the optimizer's state_dict (LR, momentum buffers) are deep-copied before
and loaded after. A monitor that sees the finder's loss curve may report divergence / a too-high LR or
exploding gradients, and the sudden reset of every parameter looks odd; the real training run after it
is healthy, with a loss that breathes with each LR cycle.
Measured: val_acc=0.8933 (noise=0.35 moons, Bayes-limited; seeds 1,2: 0.8967/0.9033)
"""
import copy
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class MoonsClassifier(nn.Module):
    def __init__(self, n_in):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, 64), nn.ReLU(),
                                 nn.Linear(64, 32), nn.ReLU(),
                                 nn.Linear(32, 1))
        self.metrics = {}

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.binary_cross_entropy_with_logits(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.metrics["val_loss"] = F.binary_cross_entropy_with_logits(logits, y).item()
        self.metrics["val_acc"] = ((logits > 0).float() == y).float().mean().item()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4)


def lr_range_test(module, optimizer, loader, start_lr=1e-4, end_lr=10.0, num_iter=100, stop_factor=4.0):
    """returns (lrs, smoothed losses); model and optimizer are left exactly as they were"""
    model_state = copy.deepcopy(module.state_dict())
    optim_state = copy.deepcopy(optimizer.state_dict())
    gamma = (end_lr / start_lr) ** (1 / (num_iter - 1))
    lrs, losses, best, avg = [], [], math.inf, 0.0
    module.train()
    it = iter(loader)
    for i in range(num_iter):
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            batch = next(it)
        lr = start_lr * gamma ** i
        for g in optimizer.param_groups:
            g["lr"] = lr
        loss = module.training_step(batch, i)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        avg = 0.7 * avg + 0.3 * loss.item()
        smooth = avg / (1 - 0.7 ** (i + 1))
        lrs.append(lr)
        losses.append(smooth)
        best = min(best, smooth)
        if i % 10 == 0:
            print(f"  range test step {i:3d} lr {lr:.2e} loss {smooth:.4f}")
        if smooth > stop_factor * best:
            print(f"  range test step {i:3d} lr {lr:.2e} loss {smooth:.4f} (raw {loss.item():.1f})  -> diverged, stopping")
            break
    module.load_state_dict(model_state)
    optimizer.load_state_dict(optim_state)
    return np.array(lrs), np.array(losses)


class Trainer:
    def __init__(self, max_epochs):
        self.max_epochs = max_epochs

    def fit(self, module, optimizer, scheduler, train_loader, val_loader):
        for epoch in range(self.max_epochs):
            module.train()
            losses = []
            for batch_idx, batch in enumerate(train_loader):
                loss = module.training_step(batch, batch_idx)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
            module.eval()
            with torch.no_grad():
                for batch_idx, batch in enumerate(val_loader):
                    module.validation_step(batch, batch_idx)
            if epoch % 4 == 0 or epoch == self.max_epochs - 1:
                print(f"epoch {epoch:2d} lr {optimizer.param_groups[0]['lr']:.4f} train_loss {np.mean(losses):.4f} "
                      f"val_loss {module.metrics['val_loss']:.4f} val_acc {module.metrics['val_acc']:.4f}")


def main():
    t0 = time.time()
    X, y = make_moons(n_samples=1200, noise=0.35, random_state=SEED)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
    sc = StandardScaler().fit(Xtr)
    f32 = lambda a: torch.tensor(a, dtype=torch.float32)
    tr = TensorDataset(f32(sc.transform(Xtr)), f32(ytr))
    va = TensorDataset(f32(sc.transform(Xva)), f32(yva))
    train_loader = DataLoader(tr, batch_size=32, shuffle=True, drop_last=True,
                              generator=torch.Generator().manual_seed(SEED))
    val_loader = DataLoader(va, batch_size=len(va))

    model = MoonsClassifier(X.shape[1])
    optimizer = model.configure_optimizers()
    print("LR range test")
    lrs, losses = lr_range_test(model, optimizer, train_loader)
    lr_min_loss = lrs[int(np.argmin(losses))]
    max_lr = lr_min_loss / 4
    print(f"min loss at lr {lr_min_loss:.3g} -> CyclicLR base_lr {max_lr / 10:.3g} max_lr {max_lr:.3g}")

    steps_per_epoch = len(train_loader)
    scheduler = torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr=max_lr / 10, max_lr=max_lr,
                                                  step_size_up=2 * steps_per_epoch, mode="triangular2")
    Trainer(max_epochs=16).fit(model, optimizer, scheduler, train_loader, val_loader)
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC val_acc={model.metrics['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
