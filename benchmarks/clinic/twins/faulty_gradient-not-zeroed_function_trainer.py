"""Healthy twin of faulty_gradient-not-zeroed_function_trainer.py: optimizer.zero_grad() before backward.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


def make_loaders(batch_size=32):
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    tr = TensorDataset(torch.tensor((Xtr - mu) / sd, dtype=torch.float32), torch.tensor(ytr))
    te = TensorDataset(torch.tensor((Xte - mu) / sd, dtype=torch.float32), torch.tensor(yte))
    return DataLoader(tr, batch_size=batch_size, shuffle=True), DataLoader(te, batch_size=256)


def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    return total / len(loader.dataset)


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in loader:
            correct += (model(xb).argmax(1) == yb).sum().item()
    return correct / len(loader.dataset)


def fit(epochs=15, lr=0.01):
    train_loader, test_loader = make_loaders()
    model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        train_loss = train_one_epoch(model, train_loader, optimizer, loss_fn)
        print(f"epoch {epoch:2d}  train loss {train_loss:.4f}  test acc {evaluate(model, test_loader):.3f}")
    print(f"NNDOCTOR_METRIC test_acc={evaluate(model, test_loader):.4f} higher")


if __name__ == "__main__":
    fit()
