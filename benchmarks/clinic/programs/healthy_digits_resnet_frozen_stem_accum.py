"""Small residual CNN on 8x8 digits with a frozen fixed-filter stem, gradient accumulation and a cosine schedule to zero.
expect: healthy
trap: frozen stem (requires_grad=False, receives no grad); zero_grad only every 2nd backward (gradient accumulation); LR annealed to ~0 at the end; eval()/no_grad validation each epoch with train() restored; shift+noise augmentation

The stem is a fixed bank of edge/blur filters (frozen on purpose, like a pretrained backbone), so its
parameters never get a gradient and never change.  Gradients are accumulated over two mini-batches
before each optimizer step, so .grad legitimately grows between zero_grad() calls.  The cosine
schedule takes the LR to ~0 by the last step, so late updates are tiny by design.  Validation runs in
eval mode under no_grad and the loop switches back to train() every epoch.
Measured: val_acc=0.9463
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

d = load_digits()
X = d.images.astype(np.float32) / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, d.target, test_size=0.3, random_state=SEED, stratify=d.target)
mean, std = Xtr.mean(), Xtr.std()
Xtr = (torch.tensor(Xtr).unsqueeze(1) - mean) / std
Xva = (torch.tensor(Xva).unsqueeze(1) - mean) / std
ytr, yva = torch.tensor(ytr), torch.tensor(yva)


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(ch)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(ch)

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        return F.relu(x + self.b2(self.c2(h)))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        # fixed filter bank: identity, blur, horizontal/vertical Sobel (frozen, not trained)
        k = torch.zeros(4, 1, 3, 3)
        k[0, 0, 1, 1] = 1.0
        k[1, 0] = 1.0 / 9
        k[2, 0] = torch.tensor([[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]]) / 4
        k[3, 0] = k[2, 0].t()
        self.stem = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.stem.weight.data.copy_(k)
        self.stem.weight.requires_grad_(False)
        self.proj = nn.Conv2d(4, 12, 1)
        self.block = ResBlock(12)
        self.head = nn.Linear(12, 10)

    def forward(self, x):
        h = F.relu(self.proj(self.stem(x)))
        h = self.block(h)
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))


model = SmallResNet()
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9,
                      weight_decay=1e-4)
BS, ACCUM, EPOCHS = 32, 2, 8
steps_per_epoch = math.ceil(len(Xtr) / BS) // ACCUM
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS * steps_per_epoch, eta_min=0.0)


def augment(xb):
    dx, dy = np.random.randint(-1, 2, size=2)
    return torch.roll(xb, shifts=(int(dy), int(dx)), dims=(2, 3)) + 0.1 * torch.randn_like(xb)


for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    opt.zero_grad()
    n_back = 0
    for i in range(0, len(Xtr) - BS + 1, BS):
        idx = perm[i:i + BS]
        loss = F.cross_entropy(model(augment(Xtr[idx])), ytr[idx]) / ACCUM
        loss.backward()
        n_back += 1
        if n_back % ACCUM == 0:
            opt.step()
            sched.step()
            opt.zero_grad()
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(Xva), yva).item()
        val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
    print(f"epoch {epoch} lr {sched.get_last_lr()[0]:.5f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
