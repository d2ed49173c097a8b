"""Digits MLP trained "online", one sample per step, with the SGD settings of a batch-64 run.

expect: batch-size-too-small
allow: learning-rate-too-high, dead-relu

The loop walks the training set sample by sample (batch size 1) but keeps lr=0.1,
momentum=0.9 -- hyperparameters that train this network well with batches of 64. A single
example's gradient is a very noisy estimate of the full gradient, and with momentum the
noise accumulates into steps ~10x the lr: within the first ~100 samples the network is
thrown into a state that predicts one class, and for the rest of the epoch the loss wanders
around ~2.3-2.7 (chance level is 2.30) without coming back. The LR is fine; it is the batch
size it is paired with that is not (remedy: mini-batches, or a much lower lr for batch 1).
Fixed (DataLoader with batch_size=64, same lr): after the same single epoch (10 steps) val acc
0.62, train loss 1.91; after 20 epochs (200 steps, about the same wall time as this run's 600
single-sample steps: ~0.3 s vs ~0.25 s) val acc 0.89, train loss 0.018. Here: val acc 0.10,
train loss 2.49.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)

digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target)
X_train, y_train = X[:600], y[:600]
X_val, y_val = X[1400:], y[1400:]

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
criterion = nn.CrossEntropyLoss()

running = 0.0
order = torch.randperm(len(X_train))
for i, j in enumerate(order.tolist(), start=1):
    x_i, y_i = X_train[j].unsqueeze(0), y_train[j].unsqueeze(0)
    optimizer.zero_grad()
    loss = criterion(model(x_i), y_i)
    loss.backward()
    optimizer.step()
    running += loss.item()
    if i % 100 == 0:
        print(f"sample {i:3d}  mean loss over last 100: {running / 100:.3f}")
        running = 0.0

with torch.no_grad():
    train_loss = criterion(model(X_train), y_train).item()
    val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
print(f"after one epoch: train loss {train_loss:.4f}  val acc {val_acc:.3f}")
