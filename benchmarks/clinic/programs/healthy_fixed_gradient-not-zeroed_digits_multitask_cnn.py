"""Multi-task CNN on 8x8 digits (digit class + parity + ink amount); zero_grad() sits at the epoch level, so gradients pile up over the batches.
expect: healthy
trap: the fixed version of a faulty held-out program

The training cell was refactored from full-batch to mini-batch training: the inner batch loop was
added, but `optimizer.zero_grad()` stayed where it was, at the start of each epoch.  Inside an epoch
every `backward()` adds to the .grad left by the previous batches, so the step taken at batch k uses
the sum of k mini-batch gradients (mostly stale ones) -- with Adam this behaves like an enormous,
never-decaying momentum and the shared trunk oscillates.  Fix: zero the gradients for every batch.
Measured: faulty val_acc=0.7537 vs fixed val_acc=0.9481 (seed 1: 0.7556 vs 0.9741; seed 2: 0.6333 vs 0.9667)
"""
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
imgs = d.images.astype(np.float32) / 16.0
ink = imgs.reshape(len(imgs), -1).mean(1)            # regression target: mean intensity
ink = (ink - ink.mean()) / ink.std()
Xtr, Xva, ytr, yva, itr, iva = train_test_split(imgs, d.target, ink, test_size=0.3,
                                                random_state=SEED, stratify=d.target)
Xtr = (torch.tensor(Xtr).unsqueeze(1) - 0.3) / 0.4
Xva = (torch.tensor(Xva).unsqueeze(1) - 0.3) / 0.4
ytr, yva = torch.tensor(ytr), torch.tensor(yva)
itr, iva = torch.tensor(itr, dtype=torch.float32), torch.tensor(iva, dtype=torch.float32)


class MultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 64)
        self.cls_head = nn.Linear(64, 10)
        self.parity_head = nn.Linear(64, 1)
        self.ink_head = nn.Linear(64, 1)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.relu(self.fc(h.flatten(1)))
        return self.cls_head(h), self.parity_head(h).squeeze(1), self.ink_head(h).squeeze(1)


model = MultiTaskNet()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
BS = 32
EPOCHS = 6


def multitask_loss(out, y, ink):
    logits, par, ink_hat = out
    return (F.cross_entropy(logits, y)
            + 0.5 * F.binary_cross_entropy_with_logits(par, (y % 2).float())
            + 0.5 * F.mse_loss(ink_hat, ink))


for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    running = 0.0
    for i in range(0, len(Xtr), BS):
        idx = perm[i:i + BS]
        optimizer.zero_grad()
        loss = multitask_loss(model(Xtr[idx]), ytr[idx], itr[idx])
        loss.backward()
        optimizer.step()
        running += loss.item() * len(idx)
    model.eval()
    with torch.no_grad():
        logits, par, ink_hat = model(Xva)
        acc = (logits.argmax(1) == yva).float().mean().item()
        par_acc = ((par > 0).long() == yva % 2).float().mean().item()
        ink_mse = F.mse_loss(ink_hat, iva).item()
    print(f"epoch {epoch}  loss {running / len(Xtr):.4f}  val_acc {acc:.4f}  parity_acc {par_acc:.4f}  ink_mse {ink_mse:.4f}")

print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")
