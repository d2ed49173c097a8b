"""Digits classifier in functional style: train_step(model, batch, opt), OneCycleLR and gradient clipping.

expect: healthy
trap: OneCycleLR -- the LR ramps up from max_lr/25 to max_lr over the first 30% of steps and then anneals to ~1e-6 (final updates are tiny by design); clip_grad_norm_(1.0) on every step; SGD with Nesterov momentum; GELU activations; a helper function that owns the whole step (zero_grad, forward, backward, clip, step) and a separate scheduler.step() in the caller
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


def make_model(n_in, n_out, width=128):
    return nn.Sequential(
        nn.Linear(n_in, width), nn.GELU(),
        nn.Linear(width, width), nn.GELU(),
        nn.Linear(width, n_out),
    )


def train_step(model, batch, opt, max_norm=1.0):
    x, y = batch
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    opt.step()
    return loss.item(), grad_norm.item()


@torch.no_grad()
def accuracy(model, x, y):
    return (model(x).argmax(1) == y).float().mean().item()


def batches(x, y, batch_size, generator):
    perm = torch.randperm(len(x), generator=generator)
    for i in range(0, len(x) - batch_size + 1, batch_size):
        idx = perm[i:i + batch_size]
        yield x[idx], y[idx]


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_va, y_va = X[:1400], y[:1400], X[1400:], y[1400:]

EPOCHS, BATCH = 8, 50
steps_per_epoch = len(X_tr) // BATCH
model = make_model(64, 10)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, epochs=EPOCHS, steps_per_epoch=steps_per_epoch)
gen = torch.Generator().manual_seed(1)

for epoch in range(EPOCHS):
    losses = []
    for batch in batches(X_tr, y_tr, BATCH, gen):
        loss, gnorm = train_step(model, batch, opt)
        sched.step()
        losses.append(loss)
    print(f"epoch {epoch}  loss {sum(losses) / len(losses):.4f}  last grad norm {gnorm:.3f}  "
          f"lr {sched.get_last_lr()[0]:.2e}  val acc {accuracy(model, X_va, y_va):.3f}")
