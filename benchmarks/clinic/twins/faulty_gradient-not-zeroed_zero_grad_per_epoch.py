"""Healthy twin of faulty_gradient-not-zeroed_zero_grad_per_epoch.py: zero_grad() in every train_step.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def train_step(model, batch, opt):
    x, y = batch
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


@torch.no_grad()
def evaluate(model, X, y):
    logits = model(X)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_va, y_va = X[:1400], y[:1400], X[1400:], y[1400:]

loader = DataLoader(TensorDataset(X_tr, y_tr), batch_size=64, shuffle=True)
model = make_model()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(10):
    opt.zero_grad()
    batch_losses = [train_step(model, batch, opt) for batch in loader]
    train_loss, _ = evaluate(model, X_tr, y_tr)
    val_loss, val_acc = evaluate(model, X_va, y_va)
    print(f"epoch {epoch}  train loss {train_loss:.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}  "
          f"mean batch loss {sum(batch_losses) / len(batch_losses):.4f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
