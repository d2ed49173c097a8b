"""Small BatchNorm CNN on the 8x8 digits images with SGD momentum 0.9 at a constant lr=0.1.

expect: healthy
trap: lr=0.1 with momentum 0.9 (effective step ~1.0) on a conv net looks aggressive, and the val loss jumps around in the first epochs (1.06 -> 0.18 -> 0.13 -> 0.07 -> 0.09 -> 0.06 -> 0.07) while BatchNorm running statistics chase fast-moving weights; with BN after every conv the conv weights are scale-invariant, so this is the standard ResNet-style recipe and it trains cleanly

Notebook-style script: digits reshaped to 1x8x8, pixels/16 then centered/scaled with the global train
mean/std (one channel). Model: conv3x3(16)-BN-ReLU, conv3x3(32)-BN-ReLU, maxpool2, conv3x3(64)-BN-ReLU,
global average pool, Linear(64, 10). SGD(lr=0.1, momentum=0.9, weight_decay=5e-4), batch 64 with
drop_last, 10 epochs (210 steps), no schedule. Measured: train loss 1.57 in epoch 1, < 0.04 from
epoch 4; val_loss 0.017 and val_acc 0.9978 at the end (good for digits is >= 0.97; an MLP typically
gets ~0.97).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

LR = 0.1
MOMENTUM = 0.9
EPOCHS = 10
BATCH = 64
SEED = 0

torch.set_num_threads(1)
torch.manual_seed(SEED)
np.random.seed(SEED)

digits = load_digits()
X = digits.images.astype(np.float32) / 16.0
y = digits.target
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
m, s = Xtr.mean(), Xtr.std()
Xtr = torch.tensor((Xtr - m) / s).unsqueeze(1)
Xva = torch.tensor((Xva - m) / s).unsqueeze(1)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

train_dl = DataLoader(TensorDataset(Xtr, ytr), batch_size=BATCH, shuffle=True, drop_last=True)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(32)
        self.c3 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.b3 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.relu(self.b2(self.c2(x)))
        x = F.max_pool2d(x, 2)            # 8x8 -> 4x4
        x = F.relu(self.b3(self.c3(x)))
        x = x.mean(dim=(2, 3))           # global average pool
        return self.fc(x)


model = SmallCNN()
opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=5e-4)

step = 0
for epoch in range(EPOCHS):
    model.train()
    running = 0.0
    for xb, yb in train_dl:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step < 6:
            print(f"step {step} loss {loss.item():.3f}")
        running += loss.item()
        step += 1
    model.eval()
    with torch.no_grad():
        out = model(Xva)
        val_loss = F.cross_entropy(out, yva).item()
        val_acc = (out.argmax(1) == yva).float().mean().item()
    print(f"epoch {epoch+1:2d} train {running/len(train_dl):.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
