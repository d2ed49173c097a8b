"""Digits two-head network (class + ink-density regression) with an orthogonally parametrised trunk layer; two backward passes per step; Adamax rebuilt every epoch.
expect: healthy
trap: loss_cls.backward(retain_graph=True) then loss_aux.backward() in the same step, so gradients of the shared trunk are the sum of two backward passes (not a missing zero_grad); the trunk's second layer uses torch.nn.utils.parametrizations.orthogonal, so its trainable tensor is parametrizations.weight.original and the effective weight is recomputed each forward (weight norm fixed, singular values all 1); the optimizer is re-created at the start of every epoch from the current parameter list, so Adamax's moment estimates reset each epoch; LR set per epoch by hand

Multi-task training: the classification head and an auxiliary regression head
(predicting the standardised total ink of the image and of its upper half)
share a trunk. The two losses are back-propagated one after another, the first
with retain_graph=True because the trunk graph is shared. A fresh Adamax is
built each epoch (with an LR halved every 5 epochs) from
[p for p in model.parameters() if p.requires_grad], which includes the
orthogonal parametrization's `original` tensor. Training is correct.
Measured: val_acc=0.9759 (seeds 1, 2: 0.9685, 0.9722)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.nn.utils.parametrizations import orthogonal

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32) / 16.0
aux = np.stack([X.sum(1), X[:, :32].sum(1)], 1)
Xtr, Xva, ytr, yva, atr, ava = train_test_split(X, y, aux, test_size=0.3, random_state=SEED, stratify=y)
xm, xs = Xtr.mean(0), Xtr.std(0) + 0.05
am, asd = atr.mean(0), atr.std(0)
Xtr, Xva = torch.tensor((Xtr - xm) / xs), torch.tensor((Xva - xm) / xs)
atr, ava = torch.tensor((atr - am) / asd), torch.tensor((ava - am) / asd)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)


class TwoHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(64, 64)
        self.mix = orthogonal(nn.Linear(64, 64))
        self.cls = nn.Linear(64, 10)
        self.reg = nn.Linear(64, 2)

    def forward(self, x):
        h = F.gelu(self.inp(x))
        h = F.gelu(self.mix(h))
        return self.cls(h), self.reg(h)


model = TwoHead()
BATCH, EPOCHS, AUX_W = 64, 15, 0.3

for epoch in range(EPOCHS):
    lr = 4e-3 * 0.5 ** (epoch // 5)
    opt = torch.optim.Adamax([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    perm = torch.randperm(len(Xtr))
    tc = ta = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        opt.zero_grad()
        logits, pred = model(Xtr[idx])
        loss_cls = F.cross_entropy(logits, ytr[idx])
        loss_aux = AUX_W * F.smooth_l1_loss(pred, atr[idx])
        loss_cls.backward(retain_graph=True)
        loss_aux.backward()
        opt.step()
        tc += loss_cls.item() * len(idx)
        ta += loss_aux.item() * len(idx)
    if epoch % 3 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            lv, pv = model(Xva)
            print(f"epoch {epoch:2d} lr {lr:.1e} cls {tc / len(Xtr):.4f} aux {ta / len(Xtr):.4f} "
                  f"val_ce {F.cross_entropy(lv, yva).item():.4f} val_aux_mse {F.mse_loss(pv, ava).item():.4f} "
                  f"val_acc {(lv.argmax(1) == yva).float().mean().item():.4f}")

model.eval()
with torch.no_grad():
    W = model.mix.weight
    print("orthogonality error", (W @ W.T - torch.eye(64)).abs().max().item())
    val_acc = (model(Xva)[0].argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
