"""Healthy twin of faulty_learning-rate-too-high_cnn_sgd_no_batchnorm.py: lr=0.02 (the value its docstring reports as the fix).
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
optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
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
