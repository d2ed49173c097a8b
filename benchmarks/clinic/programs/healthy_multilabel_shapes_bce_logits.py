"""Multi-label CNN: which of 4 primitive shapes appear in a 16x16 image (0-3 of them), trained with BCEWithLogitsLoss.

expect: healthy
trap: multi-hot float targets (several 1s per row, some rows all zero) with nn.BCEWithLogitsLoss on raw logits -- the right loss for multi-label; a per-label pos_weight for the rarer shapes; decisions by sigmoid(logit) > 0.5 per label, not argmax
"""
import torch
import torch.nn as nn

torch.manual_seed(0)
SIZE, N_LABELS = 16, 4
PRESENCE = torch.tensor([0.5, 0.4, 0.3, 0.2])        # how often each shape appears


def stamp(img, kind, gen):
    r, c = torch.randint(1, SIZE - 5, (2,), generator=gen).tolist()
    if kind == 0:      # filled 4x4 square
        img[r:r + 4, c:c + 4] = 1.0
    elif kind == 1:    # horizontal bar
        img[r + 2, c:c + 5] = 1.0
    elif kind == 2:    # vertical bar
        img[r:r + 5, c + 2] = 1.0
    else:              # diagonal
        for k in range(4):
            img[r + k, c + k] = 1.0


def make_images(n, gen):
    x = torch.zeros(n, 1, SIZE, SIZE)
    y = (torch.rand(n, N_LABELS, generator=gen) < PRESENCE).float()
    for i in range(n):
        for kind in torch.nonzero(y[i]).flatten().tolist():
            stamp(x[i, 0], kind, gen)
    return (x + 0.1 * torch.randn(n, 1, SIZE, SIZE, generator=gen)).clamp(0, 1), y


gen = torch.Generator().manual_seed(0)
x_train, y_train = make_images(1500, gen)
x_test, y_test = make_images(400, gen)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1),
    nn.Flatten(), nn.Linear(32, N_LABELS),
)
pos_weight = (1 - PRESENCE) / PRESENCE
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(8):
    perm = torch.randperm(len(x_train))
    for i in range(0, len(x_train), 50):
        idx = perm[i:i + 50]
        loss = criterion(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        pred = (torch.sigmoid(model(x_test)) > 0.5).float()
        label_acc = (pred == y_test).float().mean(0)
        exact = (pred == y_test).all(1).float().mean().item()
    print(f"epoch {epoch}  loss {loss.item():.4f}  per-label acc {[round(a, 3) for a in label_acc.tolist()]}  exact match {exact:.3f}")
