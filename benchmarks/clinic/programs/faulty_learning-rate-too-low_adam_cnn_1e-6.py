"""Digits CNN with Adam at lr=1e-6 ("small is safe"), run for 300 steps.

expect: learning-rate-too-low
allow: loss-not-decreasing

Adam moves each weight by about lr per step regardless of the gradient scale, so at lr=1e-6
a weight of typical size ~0.1 changes by ~1e-5 of itself per step. After 300 steps the
validation loss has only crept from 2.3029 to 2.3021 (a straight, almost flat line) and
accuracy is stuck at 0.14. Nothing else is wrong: inputs are scaled to [0, 1], the
architecture is standard, and the same script with Adam's default lr learns fine.
Fixed (lr=1e-3, same 300 steps): val loss 0.36, val acc 0.882; here val loss 2.302, acc 0.141.
"""
import argparse

import torch
import torch.nn as nn
from sklearn.datasets import load_digits


def get_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=1e-6)     # keep it small so training is stable
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args, _ = parser.parse_known_args()   # tolerate launcher flags
    return args


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


def main():
    args = get_args()
    torch.manual_seed(args.seed)
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits.target)
    x_train, y_train = images[:1400], labels[:1400]
    x_val, y_val = images[1400:], labels[1400:]

    model = ConvNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()

    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(x_train), (args.batch_size,))
        loss = criterion(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            with torch.no_grad():
                out = model(x_val)
                val_loss = criterion(out, y_val).item()
                val_acc = (out.argmax(1) == y_val).float().mean().item()
            print(f"step {step}: train loss {loss.item():.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
            print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")


if __name__ == "__main__":
    main()
