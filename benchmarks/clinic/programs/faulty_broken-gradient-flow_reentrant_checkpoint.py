"""Residual CNN on 8x8 digits with activation checkpointing; reentrant checkpoint cuts the graph.
expect: broken-gradient-flow

To save activation memory every stage of the trunk (stem and residual blocks) is wrapped in
torch.utils.checkpoint.checkpoint with use_reentrant=True (copied from an older codebase to silence the
"use_reentrant must be passed explicitly" warning).  The reentrant implementation runs the forward under
no_grad and only builds a backward node if at least one *input tensor* requires grad.  The first stage's
input is the image batch (requires_grad=False), so its output does not require grad, which makes the
next stage's input non-differentiable too, and so on: the whole trunk is cut off from the loss and its
parameters get grad=None every step (PyTorch only emits a UserWarning).  Only the final linear layer
learns, on top of random features.  Fix: use_reentrant=False (or checkpoint only after the stem).
Measured: faulty val_acc=0.6815 vs fixed val_acc=0.9926 (seed 1: 0.6611 vs 0.9907, seed 2: 0.6500 vs 0.9889)
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

digits = load_digits()
X = digits.images.astype(np.float32) / 16.0
y = digits.target
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
m, s = Xtr.mean(), Xtr.std()
Xtr = torch.tensor((Xtr - m) / s).unsqueeze(1)
Xva = torch.tensor((Xva - m) / s).unsqueeze(1)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.short(x))


class ResNetTiny(nn.Module):
    def __init__(self, w=16, num_classes=10, grad_ckpt=True):
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(nn.Conv2d(1, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()),
            BasicBlock(w, w),
            BasicBlock(w, 2 * w, stride=2),      # 4x4
            BasicBlock(2 * w, 2 * w),
        ])
        self.fc = nn.Linear(2 * w, num_classes)
        self.grad_ckpt = grad_ckpt

    def forward(self, x):
        for stage in self.stages:
            if self.training and self.grad_ckpt:
                x = checkpoint(stage, x, use_reentrant=True)
            else:
                x = stage(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


model = ResNetTiny()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
EPOCHS, BS = 12, 64
n_steps = EPOCHS * ((len(Xtr) + BS - 1) // BS)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_steps)

t0 = time.time()
gen = torch.Generator().manual_seed(SEED)
for ep in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr), generator=gen)
    tot, n = 0.0, 0
    for i in range(0, len(perm), BS):
        b = perm[i:i + BS]
        out = model(Xtr[b])
        loss = F.cross_entropy(out, ytr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tot += loss.item() * len(b)
        n += len(b)
    model.eval()
    with torch.no_grad():
        logits = model(Xva)
        val_loss = F.cross_entropy(logits, yva).item()
        val_acc = (logits.argmax(-1) == yva).float().mean().item()
    print(f"ep {ep} loss {tot / n:.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}")

print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
