"""Small CNN with BatchNorm and Dropout on synthetic 16x16 shape images.

expect: healthy
trap: BatchNorm and Dropout in train mode, eval() for validation and train() again; conv weights with BN after them (bias-free convs)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def make_shapes(n, size=16):
    """Classes: 0 = filled square, 1 = ring, 2 = cross, 3 = horizontal stripes; random position, noise."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    images = torch.zeros(n, 1, size, size)
    labels = torch.randint(0, 4, (n,))
    for i in range(n):
        cy, cx = torch.randint(5, size - 5, (2,)).tolist()
        r = int(torch.randint(3, 5, ()))
        d = ((yy - cy) ** 2 + (xx - cx) ** 2).float().sqrt()
        c = int(labels[i])
        if c == 0:
            img = ((yy - cy).abs() <= r) & ((xx - cx).abs() <= r)
        elif c == 1:
            img = (d <= r + 0.5) & (d >= r - 1.0)
        elif c == 2:
            img = (((yy - cy).abs() <= 1) & ((xx - cx).abs() <= r)) | (((xx - cx).abs() <= 1) & ((yy - cy).abs() <= r))
        else:
            img = ((yy % 4) < 2) & ((xx - cx).abs() <= r + 1) & ((yy - cy).abs() <= r + 1)
        images[i, 0] = img.float()
    images += 0.3 * torch.randn_like(images)
    return (images - images.mean()) / images.std(), labels


class ShapeNet(nn.Module):
    def __init__(self, n_classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
                                        nn.Dropout(0.3), nn.Linear(64, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


X_train, y_train = make_shapes(1200)
X_val, y_val = make_shapes(300)
model = ShapeNet()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

for epoch in range(4):
    model.train()
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(X_val), y_val).item()
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch}: train loss {loss.item():.3f}  val loss {val_loss:.3f}  val acc {val_acc:.3f}")
