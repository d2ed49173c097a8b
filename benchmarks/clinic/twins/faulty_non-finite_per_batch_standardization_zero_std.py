"""Healthy twin of faulty_non-finite_per_batch_standardization_zero_std.py: an epsilon in the batch standardization.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


class StandardizedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = (x - x.mean(0)) / (x.std(0) + 1e-5)
        return self.fc2(F.relu(self.fc1(x)))


def run():
    torch.manual_seed(0)
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
    ytr, yte = torch.tensor(ytr), torch.tensor(yte)
    model = StandardizedMLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(10):
        perm = torch.randperm(len(Xtr))
        for i in range(0, len(Xtr) - 31, 32):
            idx = perm[i:i + 32]
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch} loss {loss.item():.4f} test acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")


run()
