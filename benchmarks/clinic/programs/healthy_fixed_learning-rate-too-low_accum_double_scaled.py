"""Fixed twin: gradient accumulation over 8 micro-batches, loss divided by 8 exactly once (in the Trainer).

expect: healthy
trap: the training loss is summed from 8 scaled micro-batch losses and logged once per optimizer step, the
      printed lr decays to 0 with a cosine schedule, and the early update/weight ratio is ~1e-2 (SGD, lr 0.1,
      momentum 0.9); all of that is normal for accumulation with a cosine schedule.

Fixed twin of faulty_learning-rate-too-low_accum_double_scaled.py: identical except that the module's
training_step no longer divides its loss by accumulate_grad_batches (the Trainer already does). 6-class
make_classification (16000 samples, 30 standardised features), 30-128-128-6 ReLU MLP, SGD lr 0.1, momentum 0.9,
wd 1e-4, micro-batch 32 x 8 = 256, cosine over 300 optimizer steps. Measured when run: train loss 1.16 (first 50
steps) -> 0.39, val_loss 1.00 -> 0.65 -> 0.565 -> 0.511 -> 0.491 -> 0.489 (monotone, one value per epoch),
val_acc 0.847 (faulty version: 0.565; sklearn RBF-SVC gets 0.843 and HistGradientBoosting 0.818 on the same
split).
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
