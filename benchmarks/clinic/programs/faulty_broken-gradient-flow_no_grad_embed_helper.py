"""A Trainer fine-tuning an encoder + classifier, where the encoder is called through an @torch.no_grad() helper.

expect: broken-gradient-flow
allow: loss-not-decreasing

`DigitModel.embed()` was written for building a nearest-neighbour index (inference only)
and is decorated with @torch.no_grad(). Later forward() was refactored to reuse it:
`return self.classifier(self.embed(x))`. Every training forward now runs the encoder
without a graph, so the encoder's parameters (in the optimizer, requires_grad=True) never
get a gradient and stay random; only the classifier on top of the frozen random 16-d
embedding learns. After 8 epochs the train loss is 1.57 and val accuracy 0.54, where the
same model without the decorator reaches train loss 0.11 and val accuracy 0.88.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class DigitModel(nn.Module):
    def __init__(self, emb_dim=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, emb_dim), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(emb_dim, 64), nn.ReLU(), nn.Linear(64, 10))

    @torch.no_grad()
    def embed(self, x):
        """Embeddings for the nearest-neighbour index."""
        return self.encoder(x)

    def forward(self, x):
        return self.classifier(self.embed(x))


class Trainer:
    def __init__(self, model, lr):
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=lr)

    def train_epoch(self, loader):
        self.model.train()
        losses = []
        for xb, yb in loader:
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(xb), yb)
            loss.backward()
            self.opt.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        acc = (self.model(X).argmax(1) == y).float().mean().item()
        self.model.train()
        return acc

    def fit(self, loader, X_val, y_val, epochs):
        for epoch in range(epochs):
            loss = self.train_epoch(loader)
            print(f"epoch {epoch}  train loss {loss:.4f}  val acc {self.evaluate(X_val, y_val):.3f}")


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
loader = DataLoader(TensorDataset(X[:1400], y[:1400]), batch_size=32, shuffle=True)

Trainer(DigitModel(), lr=2e-3).fit(loader, X[1400:], y[1400:], epochs=8)
