"""Fixed version of faulty_broken-gradient-flow_reentrant_checkpoint.py: the one-line fix of its docstring.
Measured: val_acc=0.9926. From the sixth held-out audit (vision code with modern training mechanics).
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
                x = checkpoint(stage, x, use_reentrant=False)
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
