"""Functional-style digits training where train_step() calls scheduler.step() instead of optimizer.step().

expect: optimizer-step-missing
allow: loss-not-decreasing

`train_step(model, batch, opt, sched)` zeroes the gradients, runs forward and backward and
then advances the cosine LR schedule -- but the `opt.step()` line before `sched.step()` is
missing. PyTorch only emits a UserWarning about the call order ("lr_scheduler.step() before
optimizer.step()"); the LR curve printed each epoch looks perfectly normal, yet the weights
never change: train loss 2.307 and val accuracy 0.06 in all 6 epochs, where the same loop
with `opt.step()` reaches train loss ~0.20 and val accuracy ~0.87.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


def build(width=128):
    return nn.Sequential(nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, 10))


def train_step(model, batch, opt, sched):
    x, y = batch
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    sched.step()
    return loss.detach()


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    logits = model(x)
    model.train()
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


digits = load_digits()
X = torch.tensor(digits.images / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_va, y_va = X[:1400], y[:1400], X[1400:], y[1400:]

EPOCHS, BATCH = 6, 64
model = build()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS * (len(X_tr) // BATCH + 1))

for epoch in range(EPOCHS):
    perm = torch.randperm(len(X_tr))
    losses = [train_step(model, (X_tr[perm[i:i + BATCH]], y_tr[perm[i:i + BATCH]]), opt, sched)
              for i in range(0, len(X_tr), BATCH)]
    val_loss, val_acc = evaluate(model, X_va, y_va)
    print(f"epoch {epoch}  train loss {torch.stack(losses).mean():.4f}  val loss {val_loss:.4f}  "
          f"val acc {val_acc:.3f}  lr {sched.get_last_lr()[0]:.4f}")
