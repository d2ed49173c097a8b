"""Class-based engine (fit()/evaluate()) for the digits whose model ends in F.softmax(logits, dim=0) - normalized over the batch instead of the classes - and is trained with nn.CrossEntropyLoss, which applies its own log-softmax.

expect: loss-mismatch

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

Two faults in one line: CrossEntropyLoss expects logits (it softmaxes again, so its inputs are
squeezed into [0, 1] and the loss cannot go below ~1.5), and the softmax runs over the batch.
Fixed (return the logits): test acc 0.929; here 0.907 (10 epochs; the mismatched
loss plateaus at ~1.5 instead of falling towards 0).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return F.softmax(self.fc2(F.relu(self.fc1(x))), dim=0)


class Engine:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def fit(self, X, y, epochs=10, batch_size=64):
        for epoch in range(epochs):
            self.model.train()
            perm = torch.randperm(len(X))
            for i in range(0, len(X) - batch_size + 1, batch_size):
                idx = perm[i:i + batch_size]
                self.optimizer.zero_grad()
                loss = self.criterion(self.model(X[idx]), y[idx])
                loss.backward()
                self.optimizer.step()
            print(f"epoch {epoch} loss {loss.item():.4f}")

    def evaluate(self, X, y):
        self.model.eval()
        with torch.no_grad():
            return (self.model(X).argmax(1) == y).float().mean().item()


torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
engine = Engine(DigitNet())
engine.fit(torch.tensor(Xtr, dtype=torch.float32), torch.tensor(ytr))
acc = engine.evaluate(torch.tensor(Xte, dtype=torch.float32), torch.tensor(yte))
print(f"test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
