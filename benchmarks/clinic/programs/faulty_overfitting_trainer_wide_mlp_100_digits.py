"""A wide 3-layer MLP (64-256-256-10, ~85k parameters) trained on only 100 digits images for 100 epochs by a small Trainer class.

expect: overfitting

100 labelled images, no dropout, no weight decay, no early stopping. The Trainer validates on
600 held-out images every epoch (model.eval() + torch.no_grad()). The training loss goes to
~0.0006 while the validation loss bottoms out at 0.486 (epoch 14) and then climbs steadily for
the remaining 85 epochs to 0.642 -- the network memorises the 100 examples and grows ever more
confident on its mistakes.
Fixed (Dropout(0.5) after each hidden layer + AdamW weight_decay=0.5): final val loss 0.508 vs
0.642 here (early stopping at the minimum would keep 0.486).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class Trainer:
    def __init__(self, model, optimizer, criterion):
        self.model, self.optimizer, self.criterion = model, optimizer, criterion
        self.history = {"train": [], "val": []}

    def train_one_epoch(self, loader):
        self.model.train()
        total, n = 0.0, 0
        for xb, yb in loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(xb)
            n += len(xb)
        return total / n

    def validate(self, X, y):
        self.model.eval()
        with torch.no_grad():
            logits = self.model(X)
            loss = self.criterion(logits, y).item()
            acc = (logits.argmax(1) == y).float().mean().item()
        return loss, acc

    def fit(self, loader, X_val, y_val, epochs):
        for epoch in range(epochs):
            train_loss = self.train_one_epoch(loader)
            val_loss, val_acc = self.validate(X_val, y_val)
            self.history["train"].append(train_loss)
            self.history["val"].append(val_loss)
            if epoch % 10 == 0 or epoch == epochs - 1:
                print(f"epoch {epoch:3d}  train loss {train_loss:.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")


digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
perm = torch.randperm(len(X))
train_idx, val_idx = perm[:100], perm[100:700]          # only 100 labelled examples
loader = DataLoader(TensorDataset(X[train_idx], y[train_idx]), batch_size=20, shuffle=True)

model = nn.Sequential(
    nn.Linear(64, 256), nn.ReLU(),
    nn.Linear(256, 256), nn.ReLU(),
    nn.Linear(256, 10),
)
trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=2e-3), nn.CrossEntropyLoss())
trainer.fit(loader, X[val_idx], y[val_idx], epochs=100)
best = min(range(len(trainer.history["val"])), key=trainer.history["val"].__getitem__)
print(f"best val loss {trainer.history['val'][best]:.4f} at epoch {best}, final val loss {trainer.history['val'][-1]:.4f}")
