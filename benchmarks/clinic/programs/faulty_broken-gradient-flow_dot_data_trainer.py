"""Digits CNN in a Trainer class whose model returns `self.features(x).data` (an old PyTorch 0.3 idiom) before the classifier head.

expect: broken-gradient-flow

`.data` gives the feature map without autograd history, silently (no error, no warning). Only
the linear head receives gradients; the two conv layers in the optimizer keep their random
initial weights, so the net is a linear probe on random convolutional features.
Fixed (drop `.data`): test acc 0.920 vs 0.751 here after 6 epochs (mean train loss 0.28 vs 2.13).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        )
        self.head = nn.Linear(8 * 16, 10)

    def forward(self, x):
        feats = self.features(x).data
        return self.head(feats)


class Trainer:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()

    def step(self, xb, yb):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def accuracy(self, X, y):
        with torch.no_grad():
            return (self.model(X).argmax(1) == y).float().mean().item()


X, y = load_digits(return_X_y=True)
X = torch.tensor(X / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)
Xtr, Xte, ytr, yte = train_test_split(X, torch.tensor(y), test_size=0.25, random_state=0)
loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=32, shuffle=True)

trainer = Trainer(ConvNet())
for epoch in range(6):
    losses = [trainer.step(xb, yb) for xb, yb in loader]
    print(f"epoch {epoch}  loss {sum(losses) / len(losses):.4f}  test acc {trainer.accuracy(Xte, yte):.3f}")
