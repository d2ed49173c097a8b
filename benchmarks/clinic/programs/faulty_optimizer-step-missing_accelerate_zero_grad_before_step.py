"""An accelerate.Accelerator training loop on the wine data that calls optimizer.zero_grad() between accelerator.backward(loss) and optimizer.step(): every step applies no gradient.

expect: optimizer-step-missing
allow: loss-not-decreasing

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

The author meant "clear, then step" and put zero_grad() right before step(). With the default
set_to_none=True the gradients are None when step() runs, so Adam skips every parameter.
Fixed (zero_grad() before the forward pass): val acc 1.000; here val acc 0.556 (the untrained
network's) and the loss ~1.0 throughout.
"""
import torch
import torch.nn as nn
from accelerate import Accelerator
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset


def build_data():
    X, y = load_wine(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    sc = StandardScaler().fit(Xtr)
    tr = TensorDataset(torch.tensor(sc.transform(Xtr), dtype=torch.float32), torch.tensor(ytr))
    va = TensorDataset(torch.tensor(sc.transform(Xva), dtype=torch.float32), torch.tensor(yva))
    return DataLoader(tr, batch_size=16, shuffle=True), DataLoader(va, batch_size=64)


def main():
    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    train_dl, val_dl = build_data()
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model, optimizer, train_dl, val_dl = accelerator.prepare(model, optimizer, train_dl, val_dl)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(25):
        model.train()
        for xb, yb in train_dl:
            loss = loss_fn(model(xb), yb)
            accelerator.backward(loss)
            optimizer.zero_grad()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for xb, yb in val_dl:
                correct += (model(xb).argmax(1) == yb).sum().item()
        acc = correct / len(val_dl.dataset)
        if epoch % 5 == 0:
            accelerator.print(f"epoch {epoch} loss {loss.item():.4f} val acc {acc:.3f}")
    accelerator.print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
