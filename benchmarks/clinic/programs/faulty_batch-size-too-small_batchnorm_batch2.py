"""Digits CNN with BatchNorm after every layer, trained with batch_size=2 "to fit a tiny GPU".

expect: batch-size-too-small
allow: loss-not-decreasing, exploding-gradient

BatchNorm normalizes each channel with the mean and variance of the current batch. With two
samples those statistics are pure noise, and for the BatchNorm1d before the classifier head
they are degenerate: any feature of a 2-sample batch normalizes to exactly -1/+1, so the head
only ever sees which of the two samples is larger. The epoch-mean train loss stays at 2.46, 2.40, 2.35
(chance is 2.30) over three epochs (600 steps), and evaluation, which uses the running
statistics accumulated from those noisy batches, is no better: val acc 0.15.
Whenever the two samples nearly agree on a channel its batch variance is ~0 and the gradient
spikes (up to ~40x the median in the first 150 steps; exploding-gradient allowed, same cause).
Fixed (batch_size=64, same lr, same 3 epochs = 21 steps, less wall time): train loss 0.16,
val loss 0.74, val acc 0.85 (0.94 after 20 epochs); here train loss 2.35, val acc 0.15.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)

BATCH_SIZE = 2
EPOCHS = 3
LR = 0.05


def conv_block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


model = nn.Sequential(
    conv_block(1, 16),
    conv_block(16, 32),
    nn.Flatten(),
    nn.Linear(32 * 2 * 2, 64), nn.BatchNorm1d(64), nn.ReLU(),
    nn.Linear(64, 10),
)

digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
labels = torch.tensor(digits.target)
x_train, y_train = images[:400], labels[:400]
x_val, y_val = images[1400:], labels[1400:]

optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(x_train))
    total, batches = 0.0, 0
    for i in range(0, len(x_train), BATCH_SIZE):
        idx = perm[i:i + BATCH_SIZE]
        optimizer.zero_grad()
        loss = criterion(model(x_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    model.eval()
    with torch.no_grad():
        out = model(x_val)
        val_loss = criterion(out, y_val).item()
        val_acc = (out.argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1}: train loss {total / batches:.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
