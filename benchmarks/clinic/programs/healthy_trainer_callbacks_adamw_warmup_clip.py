"""Digits CNN trained by a small Trainer class with callbacks, AdamW, LambdaLR warmup + linear decay and gradient-norm clipping.

expect: healthy
trap: LR warmup from lr/100 then linear decay to 0, clip_grad_norm_ every step, a callback that switches to eval() for validation and back, a logging callback that reads .item() after step

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
Trains well: val acc 0.983 after 8 epochs.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class Callback:
    def on_step_end(self, trainer, step, loss): ...
    def on_epoch_end(self, trainer, epoch): ...


class PrintLoss(Callback):
    def __init__(self, every):
        self.every = every

    def on_step_end(self, trainer, step, loss):
        if step % self.every == 0:
            print(f"step {step:4d}  lr {trainer.scheduler.get_last_lr()[0]:.2e}  loss {loss:.4f}")


class Validate(Callback):
    def __init__(self, loader):
        self.loader = loader

    def on_epoch_end(self, trainer, epoch):
        trainer.model.eval()
        correct = total = 0
        with torch.no_grad():
            for xb, yb in self.loader:
                correct += (trainer.model(xb).argmax(1) == yb).sum().item()
                total += len(yb)
        trainer.model.train()
        print(f"epoch {epoch}  val acc {correct / total:.3f}")


class Trainer:
    def __init__(self, model, lr, epochs, steps_per_epoch, warmup=50, clip=1.0, callbacks=()):
        self.model, self.clip, self.epochs, self.callbacks = model, clip, epochs, list(callbacks)
        decay = [p for n, p in model.named_parameters() if p.ndim > 1]
        no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                            {"params": no_decay, "weight_decay": 0.0}], lr=lr)
        total = epochs * steps_per_epoch

        def schedule(step):
            if step < warmup:
                return 0.01 + 0.99 * step / warmup
            return max(0.0, (total - step) / (total - warmup))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=0.05)

    def fit(self, loader):
        step = 0
        self.model.train()
        for epoch in range(self.epochs):
            for xb, yb in loader:
                loss = self.criterion(self.model(xb), yb)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
                self.optimizer.step()
                self.scheduler.step()
                for cb in self.callbacks:
                    cb.on_step_end(self, step, loss.item())
                step += 1
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch)


X, y = load_digits(return_X_y=True)
X = torch.tensor(X / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)
y = torch.tensor(y)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=0)
train_loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=64, shuffle=True)
val_loader = DataLoader(TensorDataset(Xva, yva), batch_size=256)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.GELU(), nn.Conv2d(16, 32, 3, padding=1), nn.GELU(),
    nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 16, 10),
)
trainer = Trainer(model, lr=3e-3, epochs=8, steps_per_epoch=len(train_loader),
                  callbacks=[PrintLoss(50), Validate(val_loader)])
trainer.fit(train_loader)
