"""Fine-tuning a pretrained digits CNN with tiny batches while its BatchNorm layers are deliberately frozen (model.train(), then bn.eval()).

expect: healthy
trap: during fine-tuning every BatchNorm2d module is in eval mode (running statistics frozen, affine parameters requires_grad=False) while the rest of the model -- Dropout included -- is in train mode; this is the standard recipe for fine-tuning with small batches (batch size 8), not a model left in eval mode by mistake; a finished pretraining phase whose optimizer is no longer stepped

Stage 1 pretrains on digits 0-4 with batch 64. Stage 2 replaces the head and fine-tunes on
digits 5-9 (a new 5-class task) with batch 8, where BatchNorm batch statistics would be noisy.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )

    def forward(self, x):
        return self.body(x)


def set_finetune_mode(model):
    """train() for the whole model, but keep BatchNorm frozen (eval mode)."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
labels = torch.tensor(digits.target)
old, new = labels < 5, labels >= 5
x_old, y_old = images[old], labels[old]
x_new, y_new = images[new], labels[new] - 5
x_ft, y_ft, x_test, y_test = x_new[:300], y_new[:300], x_new[300:], y_new[300:]

# ---- stage 1: pretraining on digits 0-4
backbone = Backbone()
model = nn.Sequential(backbone, nn.Linear(32, 5))
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
model.train()
for step in range(150):
    idx = torch.randint(0, len(x_old), (64,))
    loss = F.cross_entropy(model(x_old[idx]), y_old[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"pretrained on 0-4: loss {loss.item():.4f}  acc {accuracy(model, x_old, y_old):.3f}")

# ---- stage 2: new head for digits 5-9, fine-tune with batch size 8 and frozen BatchNorm
model = nn.Sequential(backbone, nn.Dropout(0.2), nn.Linear(32, 5))
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        for p in m.parameters():
            p.requires_grad_(False)
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.02, momentum=0.9)
print(f"before fine-tuning: test acc on 5-9 {accuracy(model, x_test, y_test):.3f}")

for epoch in range(6):
    set_finetune_mode(model)
    perm = torch.randperm(len(x_ft))
    for i in range(0, len(x_ft), 8):
        idx = perm[i:i + 8]
        loss = F.cross_entropy(model(x_ft[idx]), y_ft[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"fine-tune epoch {epoch}  last loss {loss.item():.4f}  test acc {accuracy(model, x_test, y_test):.3f}")
