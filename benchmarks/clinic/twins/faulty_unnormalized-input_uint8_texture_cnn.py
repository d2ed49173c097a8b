"""Healthy twin of faulty_unnormalized-input_uint8_texture_cnn.py: x = (x / 255 - 0.5) / 0.25.
"""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
rng = np.random.default_rng(0)


def make_textures(n, size=16):
    """4 classes: horizontal stripes, vertical stripes, checkerboard, blobs; random colours + sensor noise."""
    yy, xx = np.mgrid[0:size, 0:size]
    imgs = np.empty((n, size, size, 3), dtype=np.uint8)
    labels = rng.integers(0, 4, n)
    for i, c in enumerate(labels):
        period = rng.integers(3, 6)
        phase = rng.integers(0, period)
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


train_imgs, train_labels = make_textures(1200)
test_imgs, test_labels = make_textures(400)


def to_tensor(imgs):
    # HWC uint8 -> NCHW float
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float()
    x = (x / 255 - 0.5) / 0.25
    return x


x_train, y_train = to_tensor(train_imgs), torch.from_numpy(train_labels)
x_test, y_test = to_tensor(test_imgs), torch.from_numpy(test_labels)

model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 4),
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(10):
    perm = torch.randperm(len(x_train))
    losses = []
    for i in range(0, len(x_train), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = criterion(model(x_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"epoch {epoch}  mean loss {sum(losses) / len(losses):.4f}  test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
