"""Gradient accumulation scaled twice (module and Trainer both divide the loss by 8): the effective LR is 8x too small.

expect: learning-rate-too-low

A hand-rolled Lightning-style Trainer implements accumulate_grad_batches=8 correctly: it divides each
micro-batch loss by 8 before backward and steps every 8 micro-batches (effective batch 256). The module's
training_step was ported from an older manual loop and still divides its loss by the accumulation factor too, so
the accumulated gradient is 1/8 of the batch-mean gradient. With SGD that is exactly an 8x smaller learning
rate: the config and the printed lr say 0.1 (momentum 0.9, cosine decay over 300 optimizer steps), but the run
behaves like lr 0.0125, and the loss the module reports is also 8x smaller than the true cross-entropy. The data
is a 6-class make_classification problem (16000 samples, 30 standardised features), a 30-128-128-6 ReLU MLP. The
fix (twin_ file) deletes the extra division in training_step (one line). Measured when run, same seed and steps:
faulty val_loss 1.66 -> 1.27 -> 1.188 (epochs 1/3/6), val_acc 0.565, median update/weight ratio 2.2e-3 over the
first 100 steps; twin val_loss 1.00 -> 0.565 -> 0.489, val_acc 0.847, ratio 1.2e-2 (RBF-SVC: 0.843).
"""
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(21)
np.random.seed(21)


@dataclass
class HParams:
    hidden: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    micro_batch_size: int = 32
    accumulate_grad_batches: int = 8
    max_epochs: int = 6
    seed: int = 21


class TabularClassifier(nn.Module):
    def __init__(self, hparams: HParams, d_in: int, n_classes: int):
        super().__init__()
        self.hparams = hparams
        self.net = nn.Sequential(
            nn.Linear(d_in, hparams.hidden), nn.ReLU(),
            nn.Linear(hparams.hidden, hparams.hidden), nn.ReLU(),
            nn.Linear(hparams.hidden, n_classes),
        )

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        loss = loss / self.hparams.accumulate_grad_batches  # normalise for gradient accumulation
        return loss

    @torch.no_grad()
    def validation_step(self, batch):
        x, y = batch
        logits = self(x)
        return {"val_loss": F.cross_entropy(logits, y).item(),
                "val_acc": (logits.argmax(1) == y).float().mean().item()}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=self.hparams.momentum,
                               weight_decay=self.hparams.weight_decay)


class Callback:
    def on_optimizer_step(self, trainer, module, loss: float): pass
    def on_validation_epoch_end(self, trainer, module, metrics: Dict[str, float]): pass


class MetricsPrinter(Callback):
    def __init__(self):
        self.losses: List[float] = []

    def on_optimizer_step(self, trainer, module, loss):
        self.losses.append(loss)

    def on_validation_epoch_end(self, trainer, module, metrics):
        print(f"epoch {trainer.current_epoch:2d}  opt_step {trainer.global_step:4d}  "
              f"train_loss {np.mean(self.losses[-25:]):.4f}  val_loss {metrics['val_loss']:.4f}  "
              f"val_acc {metrics['val_acc']:.4f}  lr {trainer.optimizer.param_groups[0]['lr']:.4f}")


class Trainer:
    def __init__(self, hparams: HParams, callbacks: List[Callback]):
        self.hparams, self.callbacks = hparams, callbacks
        self.global_step, self.current_epoch = 0, 0
        self.optimizer = None

    def fit(self, module: TabularClassifier, train_ds, val_batch):
        hp = self.hparams
        self.optimizer = module.configure_optimizers()
        g = torch.Generator().manual_seed(hp.seed)
        loader = torch.utils.data.DataLoader(train_ds, batch_size=hp.micro_batch_size, shuffle=True,
                                             drop_last=True, generator=g)
        total_opt_steps = hp.max_epochs * (len(loader) // hp.accumulate_grad_batches)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=total_opt_steps)
        metrics = {}
        for self.current_epoch in range(hp.max_epochs):
            module.train()
            self.optimizer.zero_grad()
            accumulated = 0.0
            for batch_idx, batch in enumerate(loader):
                loss = module.training_step(batch, batch_idx)
                (loss / hp.accumulate_grad_batches).backward()
                accumulated += loss.item() / hp.accumulate_grad_batches
                if (batch_idx + 1) % hp.accumulate_grad_batches == 0:
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad()
                    self.global_step += 1
                    for cb in self.callbacks:
                        cb.on_optimizer_step(self, module, accumulated)
                    accumulated = 0.0
            module.eval()
            metrics = module.validation_step(val_batch)
            for cb in self.callbacks:
                cb.on_validation_epoch_end(self, module, metrics)
        return metrics


def main():
    hp = HParams()
    X, y = make_classification(n_samples=16000, n_features=30, n_informative=15, n_redundant=5, n_classes=6,
                               n_clusters_per_class=2, class_sep=1.0, flip_y=0.02, random_state=hp.seed)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, stratify=y, random_state=hp.seed)
    mu, sd = X_tr.mean(0), X_tr.std(0)
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    train_ds = torch.utils.data.TensorDataset(f(X_tr), torch.tensor(y_tr))
    val_batch = (f(X_va), torch.tensor(y_va))

    module = TabularClassifier(hp, X.shape[1], 6)
    metrics = Trainer(hp, [MetricsPrinter()]).fit(module, train_ds, val_batch)
    print(f"NNDOCTOR_METRIC val_acc={metrics['val_acc']:.4f} higher")


if __name__ == "__main__":
    main()
