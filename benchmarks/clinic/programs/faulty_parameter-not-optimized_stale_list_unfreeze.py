"""Digits classifier with PCA-initialised body, head warm-up then unfreezing; per-epoch optimizer built from a stale param list.
expect: parameter-not-optimized
allow: loss-not-decreasing

The body's first layer is warm-started from PCA components and frozen while
the head warms up for WARM epochs; then the body is unfrozen
(requires_grad_(True)). Because the LR follows a hand-made step schedule the
script re-creates the Adamax optimizer every epoch, but it passes
`trainable`, a list built once before the loop when only the head required
grad. After unfreezing, the body parameters receive gradients every step but
belong to no optimizer, so they never change and the model stays a linear
head on fixed features. Fix: rebuild the list of trainable parameters when the
optimizer is rebuilt.
Measured: faulty val_acc=0.6648 vs fixed val_acc=0.9630 (seed 1: 0.6352 vs 0.9593, seed 2: 0.6093 vs 0.9667)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X.astype(np.float32), y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0) + 1.0
Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 24), nn.ReLU())
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        return self.head(self.body(x))


model = Classifier()
# warm start: first layer = top principal directions (scaled to unit output variance)
pca = PCA(n_components=16, random_state=SEED).fit(Xtr)
with torch.no_grad():
    comps = torch.tensor(pca.components_ / np.sqrt(pca.explained_variance_)[:, None], dtype=torch.float32)
    model.body[0].weight.copy_(comps)
    model.body[0].bias.zero_()

Xtr, Xva = torch.tensor(Xtr), torch.tensor(Xva)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

for p in model.body.parameters():
    p.requires_grad_(False)
trainable = [p for p in model.parameters() if p.requires_grad]

EPOCHS, WARM, BATCH = 20, 2, 32


def lr_for(epoch):
    # step decay by hand: 3e-3, then /3 at epochs 10 and 16
    return 3e-3 * (1 / 3) ** ((epoch >= 10) + (epoch >= 16))


for epoch in range(EPOCHS):
    if epoch == WARM:
        for p in model.body.parameters():
            p.requires_grad_(True)
        print(f"epoch {epoch}: body unfrozen")
    opt = torch.optim.Adamax(trainable, lr=lr_for(epoch))

    model.train()
    perm = torch.randperm(len(Xtr))
    total = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    model.eval()
    with torch.no_grad():
        acc = (model(Xva).argmax(1) == yva).float().mean().item()
    if epoch % 4 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:2d} lr {lr_for(epoch):.1e} train_loss {total / len(Xtr):.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
