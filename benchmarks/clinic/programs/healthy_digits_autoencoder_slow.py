"""Undercomplete MLP autoencoder on digits: the reconstruction loss falls slowly but steadily for the whole run.

expect: healthy
trap: after the first quick drop (learning the mean image) the reconstruction MSE keeps sliding down by only ~0.5-2%
      per epoch for ~1000 steps, with no sharp "convergence knee" and no plateau at the end; a naive monitor could
      read this slow, steady decline as a learning rate that is too low or as a model that is not learning. Adam at
      lr 2e-3 is a standard setting, updates are ~3e-3 of the weights; the run ends below the PCA baseline with the
      same bottleneck size, which is the right yardstick for an autoencoder.

load_digits pixels scaled to [0, 1]; encoder 64-128-32-10 (ELU), decoder 10-32-128-64 (ELU, linear output) and
MSELoss on pixels. The model is written as a small Lightning-like module (shared_step / training_step /
validation_step) and driven by a from-scratch Trainer with a callback list (a history recorder and a
best-checkpoint keeper that restores the best validation weights at the end). Adam lr 2e-3, batch 64, 60 epochs
= 1380 steps. The script also computes the reconstruction MSE of PCA with 10 components (the linear optimum for
this bottleneck) as a reference. Measured when run: train MSE 0.112 (first epoch mean) -> 0.020 (epoch 10) ->
0.0162 (20) -> 0.0139 (30) -> 0.0126 (40) -> 0.0119 (50) -> 0.0113 (59), still falling slowly at the end;
median update/weight ratio ~3e-3 late in the run; val_mse 0.0124 vs PCA-10 val MSE 0.0188 (predicting the mean
image gives 0.074). Runtime ~4.3 s CPU.
"""
import copy
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(3)
np.random.seed(3)


@dataclass
class AEConfig:
    latent_dim: int = 10
    hidden: int = 128
    mid: int = 32
    lr: float = 2e-3
    batch_size: int = 64
    epochs: int = 60
    seed: int = 3


class AutoEncoder(nn.Module):
    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.Sequential(
            nn.Linear(64, cfg.hidden), nn.ELU(),
            nn.Linear(cfg.hidden, cfg.mid), nn.ELU(),
            nn.Linear(cfg.mid, cfg.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latent_dim, cfg.mid), nn.ELU(),
            nn.Linear(cfg.mid, cfg.hidden), nn.ELU(),
            nn.Linear(cfg.hidden, 64),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def shared_step(self, x):
        return F.mse_loss(self(x), x)

    def training_step(self, x):
        return self.shared_step(x)

    @torch.no_grad()
    def validation_step(self, x):
        return self.shared_step(x).item()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.cfg.lr)


class Callback:
    def on_epoch_end(self, trainer: "Trainer", logs: Dict[str, float]) -> None: ...
    def on_fit_end(self, trainer: "Trainer") -> None: ...


class History(Callback):
    def __init__(self):
        self.rows: List[Dict[str, float]] = []

    def on_epoch_end(self, trainer, logs):
        self.rows.append(dict(logs))
        if logs["epoch"] % 10 == 0 or logs["epoch"] == trainer.cfg.epochs - 1:
            print(f"epoch {logs['epoch']:3d}  step {trainer.step:5d}  "
                  f"train_mse {logs['train_mse']:.5f}  val_mse {logs['val_mse']:.5f}")


class BestCheckpoint(Callback):
    def __init__(self):
        self.best = float("inf")
        self.state: Optional[dict] = None

    def on_epoch_end(self, trainer, logs):
        if logs["val_mse"] < self.best:
            self.best = logs["val_mse"]
            self.state = copy.deepcopy(trainer.model.state_dict())

    def on_fit_end(self, trainer):
        if self.state is not None:
            trainer.model.load_state_dict(self.state)


class Trainer:
    def __init__(self, model: AutoEncoder, cfg: AEConfig, callbacks: List[Callback]):
        self.model, self.cfg, self.callbacks = model, cfg, callbacks
        self.optimizer = model.configure_optimizers()
        self.step = 0

    def train_epoch(self, X: torch.Tensor, gen: torch.Generator) -> float:
        self.model.train()
        perm = torch.randperm(len(X), generator=gen)
        total, n = 0.0, 0
        for i in range(0, len(X), self.cfg.batch_size):
            xb = X[perm[i:i + self.cfg.batch_size]]
            self.optimizer.zero_grad()
            loss = self.model.training_step(xb)
            loss.backward()
            self.optimizer.step()
            self.step += 1
            total += loss.item() * len(xb)
            n += len(xb)
        return total / n

    def fit(self, X_train, X_val):
        gen = torch.Generator().manual_seed(self.cfg.seed)
        for epoch in range(self.cfg.epochs):
            train_mse = self.train_epoch(X_train, gen)
            self.model.eval()
            val_mse = self.model.validation_step(X_val)
            for cb in self.callbacks:
                cb.on_epoch_end(self, {"epoch": epoch, "train_mse": train_mse, "val_mse": val_mse})
        for cb in self.callbacks:
            cb.on_fit_end(self)


def main():
    cfg = AEConfig()
    X, _ = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_va = train_test_split(X, test_size=0.2, random_state=cfg.seed)

    pca = PCA(n_components=cfg.latent_dim, random_state=cfg.seed).fit(X_tr)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(X_va)) - X_va) ** 2))
    mean_mse = float(np.mean((X_tr.mean(0) - X_va) ** 2))
    print(f"reference: mean-image val MSE {mean_mse:.4f}, PCA-{cfg.latent_dim} val MSE {pca_mse:.4f}")

    model = AutoEncoder(cfg)
    hist, ckpt = History(), BestCheckpoint()
    Trainer(model, cfg, [hist, ckpt]).fit(torch.from_numpy(X_tr), torch.from_numpy(X_va))
    model.eval()
    val_mse = model.validation_step(torch.from_numpy(X_va))
    print(f"best val_mse {val_mse:.5f} (PCA-{cfg.latent_dim}: {pca_mse:.5f})")
    print(f"NNDOCTOR_METRIC val_mse={val_mse:.5f} lower")


if __name__ == "__main__":
    main()
