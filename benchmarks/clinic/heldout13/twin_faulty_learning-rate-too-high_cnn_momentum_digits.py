"""Small two-conv CNN (no BatchNorm) on 8x8 sklearn digits, SGD momentum 0.9 with lr=0.02.
expect: healthy

Twin of the faulty lr=0.15 program: only the learning rate is changed (0.15 -> 0.02). Train loss falls
steadily to ~0.06 in 12 epochs (264 steps). val_acc = 0.9733 / 0.9578 / 0.9444 at seeds 0 / 1 / 2
(spread ~0.03); the faulty program gets 0.1000.
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.set_num_threads(1)
torch.manual_seed(SEED)
np.random.seed(SEED)

digits = load_digits()
X = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # N x 1 x 8 x 8
y = digits.target.astype(np.int64)
X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)
X_tr, X_va = torch.from_numpy(X_tr), torch.from_numpy(X_va)
y_tr, y_va = torch.from_numpy(y_tr), torch.from_numpy(y_va)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


model = SmallCNN()
LR = 0.02
opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

EPOCHS = 12
BATCH = 64
t0 = time.time()
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(X_tr))
    running = 0.0
    for i in range(0, len(X_tr), BATCH):
        idx = perm[i:i + BATCH]
        opt.zero_grad()
        loss = loss_fn(model(X_tr[idx]), y_tr[idx])
        loss.backward()
        opt.step()
        running += loss.item() * len(idx)
    model.eval()
    with torch.no_grad():
        val_acc = (model(X_va).argmax(1) == y_va).float().mean().item()
    print(f"epoch {epoch:2d}  train_loss {running / len(X_tr):.4f}  val_acc {val_acc:.4f}")

print(f"done in {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
