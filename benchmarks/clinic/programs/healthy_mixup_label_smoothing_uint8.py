"""CNN on 8-bit texture images (scaled to [0, 1]) trained with mixup and label-smoothed cross-entropy on soft targets.

expect: healthy
trap: CrossEntropyLoss called with float probability targets (mixup blends one-hot rows, then label_smoothing=0.1) -- soft-label CE is a legitimate use, not a multi-label or regression mismatch; the training loss stays well above 0 by construction (mixed targets have entropy); uint8 images converted with / 255.0 (inputs in [0, 1], not raw 0..255)

The classifier head uses LeakyReLU(0.01): with a plain ReLU there, 56-69% of its 64 units died during
training on every seed tried (seed offsets 0-4; ~10% at init), a real dead-relu finding that crossed the
rule's 2/3 warning line at offset 2 (44/64) with no cost in accuracy.  Test accuracy after 10 epochs,
offsets 0-4: 0.94 0.92 0.98 0.96 0.97 (ReLU head: 0.95 0.94 0.94 0.98 0.97).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
rng = np.random.default_rng(1)
N_CLASSES = 4


def make_textures(n, size=16):
    """uint8 RGB images: horizontal stripes, vertical stripes, checkerboard, blob; random colours + noise."""
    yy, xx = np.mgrid[0:size, 0:size]
    imgs = np.empty((n, size, size, 3), dtype=np.uint8)
    labels = rng.integers(0, N_CLASSES, n)
    for i, c in enumerate(labels):
        period, phase = rng.integers(3, 6), rng.integers(0, 6)
        if c == 0:
            mask = ((yy + phase) // (period / 2)) % 2
        elif c == 1:
            mask = ((xx + phase) // (period / 2)) % 2
        elif c == 2:
            mask = (((yy + phase) // period) + ((xx + phase) // period)) % 2
        else:
            cy, cx = rng.integers(3, size - 3, 2)
            mask = ((yy - cy) ** 2 + (xx - cx) ** 2) < rng.integers(9, 25)
        fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        img = np.where(mask[..., None] > 0, fg, bg) + rng.normal(0, 20, (size, size, 3))
        imgs[i] = np.clip(img, 0, 255).astype(np.uint8)
    return imgs, labels


def to_tensor(imgs):
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255.0


train_imgs, train_labels = make_textures(1000)
test_imgs, test_labels = make_textures(300)
x_train, y_train = to_tensor(train_imgs), torch.from_numpy(train_labels)
x_test, y_test = to_tensor(test_imgs), torch.from_numpy(test_labels)

model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.LeakyReLU(0.01), nn.Linear(64, N_CLASSES),
)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
beta = torch.distributions.Beta(0.4, 0.4)

for epoch in range(10):
    perm = torch.randperm(len(x_train))
    losses = []
    for i in range(0, len(x_train), 32):
        idx = perm[i:i + 32]
        xb, yb = x_train[idx], F.one_hot(y_train[idx], N_CLASSES).float()
        lam = beta.sample()
        shuffle = torch.randperm(len(idx))
        x_mix = lam * xb + (1 - lam) * xb[shuffle]
        y_mix = lam * yb + (1 - lam) * yb[shuffle]          # soft probability targets
        loss = criterion(model(x_mix), y_mix)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"epoch {epoch}  mixup loss {np.mean(losses):.4f}  test acc {acc:.3f}")
