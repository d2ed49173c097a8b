"""Breast-cancer classifier with a custom torch Dataset whose __getitem__ reads the label at idx - 1 (a leftover from a 1-based CSV index), so every example carries its neighbour's label.

expect: loss-not-decreasing

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

The rows are in the sklearn order (not sorted by class), so the neighbour's label is close to a coin
flip with the class prior: nothing in x predicts it.
Fixed (self.labels[idx]): val acc 0.958; here 0.597 (the majority class rate is ~0.63).
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from torch.utils.data import DataLoader, Dataset


class CancerDataset(Dataset):
    def __init__(self, features, labels, mean, std):
        self.features = torch.tensor((features - mean) / std, dtype=torch.float32)
        self.labels = torch.tensor(labels, dtype=torch.float32)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        # rows are numbered from 1 in the exported CSV
        return self.features[idx], self.labels[idx - 1]


def main():
    torch.manual_seed(0)
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    tr, va = order[:450], order[450:]
    mean, std = X[tr].mean(0), X[tr].std(0)
    train_dl = DataLoader(CancerDataset(X[tr], y[tr], mean, std), batch_size=32, shuffle=True)
    val_dl = DataLoader(CancerDataset(X[va], y[va], mean, std), batch_size=200)
    model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(25):
        model.train()
        for xb, yb in train_dl:
            loss = loss_fn(model(xb).squeeze(1), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            correct = sum(((model(xb).squeeze(1) > 0).float() == yb).sum().item() for xb, yb in val_dl)
        acc = correct / len(val_dl.dataset)
        if epoch % 5 == 0:
            print(f"epoch {epoch} loss {loss.item():.4f} val acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
