"""Digits MLP (4 Linear-BatchNorm-ReLU-Dropout blocks): evaluate() switches the model to eval mode and nothing switches it back.

expect: train-mode-off

model.train() is called once before the loop; evaluate() calls model.eval() after epoch 0 and
there is no model.train() at the top of the epoch. From epoch 1 on the network trains in eval
mode: Dropout is off and every BatchNorm uses the frozen running statistics gathered during
epoch 0 instead of batch statistics (and stops updating them). As the weights move, those stale
statistics no longer normalise anything; the 4-block net loses the stabilisation BatchNorm gave
it and training turns erratic (train loss jumps back up to ~1.5 after epoch 0, val accuracy
drops from 0.87 to 0.41 and ends at 0.79).
Fixed (model.train() at the start of every epoch): val acc 0.955 vs 0.794, val loss 0.147 vs
0.933 here.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)

digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
perm = torch.randperm(len(X))
X_train, y_train = X[perm[:600]], y[perm[:600]]
X_val, y_val = X[perm[1200:]], y[perm[1200:]]


def block(n_in, n_out, p=0.3):
    return nn.Sequential(nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU(), nn.Dropout(p))


model = nn.Sequential(block(64, 128), block(128, 128), block(128, 128), block(128, 128), nn.Linear(128, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()


def evaluate():
    model.eval()
    with torch.no_grad():
        logits = model(X_val)
        return criterion(logits, y_val).item(), (logits.argmax(1) == y_val).float().mean().item()


model.train()
for epoch in range(12):
    perm = torch.randperm(len(X_train))
    running = 0.0
    for i in range(0, len(X_train), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        running += loss.item() * len(idx)
    val_loss, val_acc = evaluate()
    print(f"epoch {epoch:2d}  train loss {running / len(X_train):.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
