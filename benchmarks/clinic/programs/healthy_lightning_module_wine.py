"""Wine classifier as a PyTorch Lightning LightningModule trained by lightning.Trainer (CPU, no logger, no checkpoints).

expect: healthy
trap: the training loop belongs to Lightning: it calls zero_grad/backward/step itself, runs a validation loop (eval mode, no_grad) each epoch and a sanity check before training, and the optimizer comes from configure_optimizers with a StepLR scheduler

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
Trains well: val acc 1.000, val loss 0.006 after 30 epochs.
"""
import warnings

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

warnings.filterwarnings("ignore")
L.seed_everything(0, verbose=False)

X, y = load_wine(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
train_ds = TensorDataset(torch.tensor((Xtr - mu) / sd, dtype=torch.float32), torch.tensor(ytr))
val_ds = TensorDataset(torch.tensor((Xva - mu) / sd, dtype=torch.float32), torch.tensor(yva))


class WineNet(L.LightningModule):
    def __init__(self, lr=5e-3):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 3))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=15, gamma=0.3)}


model = WineNet()
trainer = L.Trainer(max_epochs=30, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                    enable_progress_bar=False, enable_model_summary=False)
trainer.fit(model, DataLoader(train_ds, batch_size=16, shuffle=True), DataLoader(val_ds, batch_size=64))
print({k: round(float(v), 4) for k, v in trainer.callback_metrics.items()})
