"""Digits CNN with LeakyReLU(0.1) activations trained with a brisk Adam learning rate.

expect: healthy
trap: LeakyReLU activations with a third to a half of their outputs negative, trained with a brisk Adam learning rate (5e-3, the kind of setting that kills plain ReLUs) -- a detector that treats LeakyReLU like ReLU, or counts outputs <= 0 as dead, would misread it; in fact no unit is cut off and the run is healthy

LeakyReLU is one of the standard remedies for dying ReLUs: its negative side has slope 0.1, so a
unit whose pre-activation is negative still gets gradient and can come back.  After training
21-45% of each layer's outputs are negative, but every channel/unit is positive on some
images, training is smooth and the model reaches ~96% test accuracy (train loss 0.07).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


def conv_block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.1))


model = nn.Sequential(
    conv_block(1, 8),
    conv_block(8, 16),
    nn.MaxPool2d(2),
    conv_block(16, 16),
    nn.Flatten(),
    nn.Linear(16 * 4 * 4, 64),
    nn.LeakyReLU(0.1),
    nn.Linear(64, 10),
)

digits = load_digits()
images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
labels = torch.tensor(digits.target)
perm = torch.randperm(len(images))
train_idx, test_idx = perm[:1400], perm[1400:]
train_loader = DataLoader(TensorDataset(images[train_idx], labels[train_idx]), batch_size=64, shuffle=True)

optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(6):
    model.train()
    total, n = 0.0, 0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        n += len(xb)
    model.eval()
    with torch.no_grad():
        acc = (model(images[test_idx]).argmax(1) == labels[test_idx]).float().mean().item()
    print(f"epoch {epoch + 1}: train loss {total / n:.4f}  test acc {acc:.3f}")
