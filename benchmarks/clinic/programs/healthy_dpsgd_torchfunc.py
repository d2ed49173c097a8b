"""Breast-cancer logistic MLP trained with DP-SGD: per-sample gradients via torch.func (vmap + grad), per-sample clipping, Gaussian noise.
expect: healthy
trap: loss.backward() is never called; the loss is evaluated functionally (functional_call) on detached parameter copies, so autograd sees no graph from loss to the nn.Parameters; gradients are written into p.grad by hand (clipped per sample, summed, noised, averaged) before optimizer.step(); per-sample clipping caps every example's gradient norm at C, so gradient norms are flat and the noise makes the update look random at small scale; the logged training loss is noisy

Per-example gradients are computed with vmap(grad(loss_fn)) over the batch,
each is clipped to norm C=1, they are summed, Gaussian noise with std
sigma*C is added, and the result divided by the batch size becomes p.grad.
Plain SGD with momentum then steps. This is the standard DP-SGD recipe
(Abadi et al. 2016) and the model trains to a good accuracy despite the
noise.
Measured: val_acc=0.9532 (seeds 1, 2: 0.9649, 0.9649)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from torch.func import functional_call, grad, vmap

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_breast_cancer(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yva = torch.tensor(yva, dtype=torch.float32)

model = nn.Sequential(nn.Linear(30, 32), nn.Tanh(), nn.Linear(32, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

CLIP, SIGMA, BATCH, EPOCHS = 1.0, 0.8, 50, 20
noise_gen = torch.Generator().manual_seed(SEED + 1)


def sample_loss(params, buffers, x, t):
    logit = functional_call(model, (params, buffers), (x.unsqueeze(0),)).squeeze()
    return F.binary_cross_entropy_with_logits(logit, t)


per_sample_grads = vmap(grad(sample_loss), in_dims=(None, None, 0, 0))

for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    seen = 0.0
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}
        g = per_sample_grads(params, buffers, Xtr[idx], ytr[idx])        # dict of [B, ...]
        norms = torch.sqrt(sum(gi.flatten(1).pow(2).sum(1) for gi in g.values()))
        factor = (CLIP / (norms + 1e-6)).clamp(max=1.0)
        for name, p in model.named_parameters():
            summed = (g[name] * factor.view(-1, *[1] * (g[name].dim() - 1))).sum(0)
            noise = torch.randn(summed.shape, generator=noise_gen) * SIGMA * CLIP
            p.grad = (summed + noise) / len(idx)
        opt.step()
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            seen += F.binary_cross_entropy_with_logits(model(Xtr[idx]).squeeze(-1), ytr[idx]).item() * len(idx)
    if epoch % 4 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            lv = model(Xva).squeeze(-1)
            print(f"epoch {epoch:2d} train_bce {seen / len(Xtr):.4f} "
                  f"val_bce {F.binary_cross_entropy_with_logits(lv, yva).item():.4f} "
                  f"val_acc {((lv > 0).float() == yva).float().mean().item():.4f}")

model.eval()
with torch.no_grad():
    val_acc = ((model(Xva).squeeze(-1) > 0).float() == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
