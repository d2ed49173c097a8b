"""Digits MLP switched from SGD to Adam but still given the SGD recipe's lr 0.1: the loss thrashes and never settles.

expect: learning-rate-too-high
allow: loss-not-decreasing, dead-relu

The config started life as an SGD+momentum recipe (lr 0.1 is a normal value there); someone switched
`optimizer` to "adam" for faster convergence and left `lr` alone. Adam normalises the gradient, so lr is
roughly the per-step change of every weight: 0.1 per step is enormous for a 64-128-128-10 ReLU MLP whose
weights start at ~0.1 in size. The training loss spikes (per-epoch max batch loss 20 in epoch 0, 32 in epoch
6), the epoch-mean loss never goes below ~0.89 and drifts back up to ~1.5, val_loss jumps around (0.95 -> 6.2 ->
1.6) and validation accuracy collapses; as a side effect ~89% of the second hidden layer's ReLUs end up dead.
The fix (twin_ file) is lr 1e-3, Adam's usual value (one line). Measured when run, same seed and 12 epochs
(264 steps): faulty val_loss 1.601, val_acc 0.391; twin val_loss 0.112, val_acc 0.976.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


@dataclass
class ExperimentConfig:
    optimizer: str = "adam"  # was "sgd" (momentum 0.9) in the original recipe
    lr: float = 0.1
    momentum: float = 0.9
    hidden: int = 128
    batch_size: int = 64
    epochs: int = 12
    seed: int = 0


OPTIMIZERS: Dict[str, Callable] = {
    "sgd": lambda params, cfg: torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum),
    "adam": lambda params, cfg: torch.optim.Adam(params, lr=cfg.lr),
}


class LitMLP(nn.Module):
    def __init__(self, cfg: ExperimentConfig):
        super().__init__()
        self.cfg = cfg
        self.model = nn.Sequential(
            nn.Linear(64, cfg.hidden), nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(),
            nn.Linear(cfg.hidden, 10),
        )

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch):
        x, y = batch
        return F.cross_entropy(self(x), y)

    @torch.no_grad()
    def validation_step(self, batch):
        x, y = batch
        logits = self(x)
        return {"val_loss": F.cross_entropy(logits, y).item(),
                "val_acc": (logits.argmax(-1) == y).float().mean().item()}

    def configure_optimizers(self):
        return OPTIMIZERS[self.cfg.optimizer](self.parameters(), self.cfg)


class Callback:
    def on_train_epoch_end(self, trainer, module, stats: Dict[str, float]): pass


class EpochSummary(Callback):
    def on_train_epoch_end(self, trainer, module, stats):
        print(f"epoch {trainer.epoch:2d}  train_loss mean {stats['mean']:.3f} max {stats['max']:.2f}  "
              f"val_loss {stats['val_loss']:.3f}  val_acc {stats['val_acc']:.4f}")


class Trainer:
    def __init__(self, cfg: ExperimentConfig, callbacks: List[Callback]):
        self.cfg, self.callbacks = cfg, callbacks
        self.epoch = 0

    def fit(self, module: LitMLP, train_ds, val_batch):
        optimizer = module.configure_optimizers()
        loader = torch.utils.data.DataLoader(train_ds, batch_size=self.cfg.batch_size, shuffle=True,
                                             generator=torch.Generator().manual_seed(self.cfg.seed))
        stats = {}
        for self.epoch in range(self.cfg.epochs):
            module.train()
            losses = []
            for batch in loader:
                optimizer.zero_grad()
                loss = module.training_step(batch)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            module.eval()
            stats = {"mean": float(np.mean(losses)), "max": float(np.max(losses)), **module.validation_step(val_batch)}
            for cb in self.callbacks:
                cb.on_train_epoch_end(self, module, stats)
        return stats


def main():
    cfg = ExperimentConfig()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, stratify=y, random_state=cfg.seed)
    mu, sd = X_tr.mean(0), X_tr.std(0)
    sd[sd < 1e-3] = 1.0
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    train_ds = torch.utils.data.TensorDataset(f(X_tr), torch.tensor(y_tr))
    val_batch = (f(X_va), torch.tensor(y_va))

    stats = Trainer(cfg, [EpochSummary()]).fit(LitMLP(cfg), train_ds, val_batch)
    print(f"NNDOCTOR_METRIC val_acc={stats['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
