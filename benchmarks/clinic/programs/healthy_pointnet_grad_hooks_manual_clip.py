"""PointNet-style set classifier on synthetic 2-D point clouds with a gradient-scaling tensor hook, a logging full-backward hook and hand-written norm clipping.
expect: healthy
trap: a tensor hook multiplies the shared point encoder's gradient by 0.1 on purpose (the encoder's first-layer grad norm is 20-100x below the head's); register_full_backward_hook on the head only reads grad_output; a hand-written clip_grad_norm that is active on ~35% of the steps; a sigmoid-bounded learnable pooling mix; gradient norms that rise several-fold during training

Four shape families (circle, square outline, cross, two blobs), 40 noisy points each, random
rotation and scale. A shared per-point MLP (the "encoder") embeds every point, the cloud is
pooled with a learnable mix alpha * max + (1 - alpha) * mean (alpha = sigmoid(raw_alpha)),
and a head classifies. The encoder's output tensor gets a hook g -> 0.1 * g, a common way to
give a shared trunk a "smaller step" without a second param group (with Adam it mostly
changes the trunk's share of the clipping budget, since Adam is invariant to a constant
gradient scale), so the encoder's gradient norms sit far under the head's by design. A full
backward hook on the head records |grad_output| for logging and returns None. The clipping
is written by hand (total L2 norm over all grads, scaled by max_norm / (norm + 1e-6) only
when the norm exceeds max_norm = 2); it clips 91 of 260 steps, mostly late, when the head's
minibatch gradients grow with the pooled features - normal for this model.
Measured: val_acc=0.9250 (seed 1: 0.9100; seed 2: 0.9225)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_PTS = 40


def shape(kind, rng):
    if kind == 0:                                           # circle
        t = rng.uniform(0, 2 * np.pi, N_PTS)
        p = np.stack([np.cos(t), np.sin(t)], 1)
    elif kind == 1:                                         # square outline
        s = rng.uniform(-1, 1, N_PTS)
        side = rng.integers(0, 4, N_PTS)
        p = np.stack([s, np.where(side % 2 == 0, 1.0, -1.0)], 1)
        p[side >= 2] = p[side >= 2][:, ::-1]
    elif kind == 2:                                         # cross
        s = rng.uniform(-1, 1, N_PTS)
        p = np.stack([s, np.zeros(N_PTS)], 1)
        half = rng.random(N_PTS) < 0.5
        p[half] = p[half][:, ::-1]
    else:                                                   # two blobs
        c = np.where(rng.random(N_PTS)[:, None] < 0.5, [[-0.7, 0.0]], [[0.7, 0.0]])
        p = c + rng.normal(scale=0.25, size=(N_PTS, 2))
    a = rng.uniform(0, 2 * np.pi)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (p @ R.T) * rng.uniform(0.7, 1.3) + rng.normal(scale=0.05, size=(N_PTS, 2))


def dataset(n, rng):
    y = rng.integers(0, 4, n)
    return (torch.tensor(np.stack([shape(k, rng) for k in y]), dtype=torch.float32),
            torch.tensor(y))


rng = np.random.default_rng(SEED)
Xtr, ytr = dataset(800, rng)
Xva, yva = dataset(400, rng)

ENCODER_GRAD_SCALE = 0.1


class PointNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                     nn.Linear(64, 128))
        self.raw_alpha = nn.Parameter(torch.tensor(0.0))        # alpha = 0.5 at start
        self.head = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 4))

    def forward(self, pts):
        pts = pts - pts.mean(1, keepdim=True)
        h = self.encoder(pts)                                   # (B, N, 128)
        if h.requires_grad:
            h.register_hook(lambda g: g * ENCODER_GRAD_SCALE)   # slower trunk
        alpha = torch.sigmoid(self.raw_alpha)
        pooled = alpha * h.max(1).values + (1 - alpha) * h.mean(1)
        return self.head(pooled)


model = PointNet()
head_grad_log = []
model.head.register_full_backward_hook(
    lambda mod, gin, gout: head_grad_log.append(gout[0].norm().item()))


def clip_grads_(params, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g.mul_(coef)
    return total.item()


opt = torch.optim.Adam(model.parameters(), lr=2e-3)
BATCH, EPOCHS = 64, 20
n_clipped = n_steps = 0
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        total = clip_grads_(list(model.parameters()), max_norm=2.0)
        n_clipped += total > 2.0
        n_steps += 1
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(Xva).argmax(1) == yva).float().mean().item()
    if epoch % 4 == 0 or epoch == EPOCHS - 1:
        enc_g = model.encoder[0].weight.grad.norm().item()
        head_g = model.head[0].weight.grad.norm().item()
        print(f"epoch {epoch:2d} loss {loss.item():.4f} val_acc {acc:.4f} "
              f"|g enc0| {enc_g:.2e} |g head0| {head_g:.2e} "
              f"alpha {torch.sigmoid(model.raw_alpha).item():.3f} clipped {n_clipped}/{n_steps}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
