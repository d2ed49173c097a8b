"""Digits CNN trained with SGD lr=0.15, momentum 0.9 -- an LR borrowed from a BatchNorm ResNet recipe.

expect: learning-rate-too-high
allow: dead-relu, exploding-gradient

The recipe's lr=0.15 works for networks with BatchNorm after every convolution, which keeps
the effective step size in check; this small CNN has none. With momentum 0.9 the effective
step is 1.5, past what the loss surface tolerates: the epoch loss falls to 0.41 in epoch 2,
then bounces (0.48, 0.54) and climbs every epoch after that (1.07, 1.65, 2.5 -- above the
chance level 2.30) while validation accuracy drops from 0.88 to 0.10. No NaN appears; the
last layers are knocked into a state that predicts one class.
The gradient norm climbs from ~0.25 to spikes of 15-30 on the way (exploding-gradient allowed,
same cause), and many ReLUs end up dead (dead-relu allowed).
Fixed (lr=0.02): train loss 0.065, val acc 0.892; here train loss 2.5, val acc 0.103.
"""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits

torch.manual_seed(0)


class SmallCNN(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
labels = torch.tensor(digits.target)
train_ds = TensorDataset(images[:1400], labels[:1400])
val_x, val_y = images[1400:], labels[1400:]
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True, drop_last=True)

model = SmallCNN()
optimizer = torch.optim.SGD(model.parameters(), lr=0.15, momentum=0.9)
criterion = nn.CrossEntropyLoss()

step = 0
for epoch in range(7):
    running, n = 0.0, 0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item()
        n += 1
        step += 1
    model.eval()
    with torch.no_grad():
        val_acc = (model(val_x).argmax(1) == val_y).float().mean().item()
    model.train()
    print(f"epoch {epoch + 1}  step {step}  train loss {running / n:.3f}  val acc {val_acc:.3f}")

print(f"final val accuracy {val_acc:.3f}")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
