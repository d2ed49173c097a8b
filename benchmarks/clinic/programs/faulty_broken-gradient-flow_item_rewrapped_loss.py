"""Diabetes regression whose compute_loss() helper converts the loss to a Python float for logging and re-wraps it with torch.tensor(value, requires_grad=True) "so backward() works": the new tensor is a leaf, cut from the model.

expect: broken-gradient-flow
allow: loss-not-decreasing, optimizer-step-missing

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

backward() runs without an error (the leaf requires grad), the model's parameters get no gradient and
Adam skips them.
Fixed (return the loss tensor itself): test MSE 0.565 (standardized target); here 0.922 (the untrained net).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

history = []


def compute_loss(model, xb, yb):
    pred = model(xb).squeeze(-1)
    value = nn.functional.mse_loss(pred, yb).item()
    history.append(value)
    return torch.tensor(value, requires_grad=True)


def main():
    torch.manual_seed(0)
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    mx, sx, my, sy = Xtr.mean(0), Xtr.std(0), ytr.mean(), ytr.std()
    Xtr, Xte = [torch.tensor((a - mx) / sx, dtype=torch.float32) for a in (Xtr, Xte)]
    ytr, yte = [torch.tensor((a - my) / sy, dtype=torch.float32) for a in (ytr, yte)]
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(60):
        perm = torch.randperm(len(Xtr))
        for i in range(0, len(Xtr), 32):
            idx = perm[i:i + 32]
            loss = compute_loss(model, Xtr[idx], ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 10 == 0:
            print(f"epoch {epoch} train mse {sum(history[-11:]) / 11:.4f}")
    with torch.no_grad():
        test_mse = nn.functional.mse_loss(model(Xte).squeeze(-1), yte).item()
    print(f"test mse {test_mse:.4f}")
    print(f"NNDOCTOR_METRIC test_mse={test_mse:.4f} lower")


if __name__ == "__main__":
    main()
