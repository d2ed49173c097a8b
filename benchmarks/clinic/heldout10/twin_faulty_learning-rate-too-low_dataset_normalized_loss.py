"""Small CNN on 8x8 digits (sklearn-style estimator, SGD 0.05 m=0.9, batch 32).

expect: healthy
trap: the loss is written as a sum divided by a normaliser (`reduction="sum") / len(yb)`),
which looks like the "sum loss with a mean-loss LR" bug; it is a plain batch mean here.
The final loss (~0.006) is tiny and flat -- a converged run, not a too-low LR.

Twin of faulty_learning-rate-too-low_dataset_normalized_loss.py with the one-line fix
(divide the summed loss by the batch size, not by the training-set size).
Measured: val_acc = 0.9778; ~3.8 s wall.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

torch.set_num_threads(1)
torch.manual_seed(3)
np.random.seed(3)


@dataclass
class CNNConfig:
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 8
    channels: tuple = (16, 32)


class DigitsNet(nn.Module):
    def __init__(self, channels, n_classes=10):
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),                      # 8x8 -> 4x4
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 16, 64), nn.ReLU(),
                                        nn.Linear(64, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class CNNDigitsClassifier:
    """sklearn-flavoured wrapper: fit(X, y) / predict(X) / score(X, y)."""

    def __init__(self, config: CNNConfig):
        self.config = config

    @staticmethod
    def _to_images(X):
        return torch.as_tensor(X, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0

    def _batch_loss(self, logits, yb):
        # summed per-sample losses, then normalised
        return F.cross_entropy(logits, yb, reduction="sum") / len(yb)

    def _make_optimizer(self):
        return torch.optim.SGD(self.net_.parameters(), lr=self.config.lr,
                               momentum=self.config.momentum)

    def fit(self, X, y):
        cfg = self.config
        ds = TensorDataset(self._to_images(X), torch.as_tensor(y))
        self.n_train_ = len(ds)
        loader = DataLoader(ds, batch_size=cfg.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(3))
        self.net_ = DigitsNet(cfg.channels)
        opt = self._make_optimizer()
        self.loss_history_ = []
        for epoch in range(cfg.epochs):
            self.net_.train()
            epoch_total = 0.0
            for xb, yb in loader:
                opt.zero_grad()
                logits = self.net_(xb)
                loss = self._batch_loss(logits, yb)
                loss.backward()
                opt.step()
                epoch_total += F.cross_entropy(logits.detach(), yb).item()
            self.loss_history_.append(epoch_total / len(loader))
            print(f"epoch {epoch:2d} mean_batch_loss={self.loss_history_[-1]:.4f}")
        return self

    @torch.no_grad()
    def predict(self, X):
        self.net_.eval()
        return self.net_(self._to_images(X)).argmax(1).numpy()

    def score(self, X, y):
        return float((self.predict(X) == np.asarray(y)).mean())


def main():
    X, y = load_digits(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=3, stratify=y)
    clf = CNNDigitsClassifier(CNNConfig()).fit(Xtr, ytr)
    v = clf.score(Xva, yva)
    print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")


if __name__ == "__main__":
    main()
