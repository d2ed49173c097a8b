"""Wine classifier trained functionally: torch.func.functional_call over a parameter dict, gradients from torch.autograd.grad, a new dict every step.

expect: healthy
trap: the nn.Module's own parameters are only a template: the training state lives in a dict of tensors that is rebuilt (`params = {k: p - lr * g}`) every step, and copied back into the module at the end

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
This is the torch.func / meta-learning style (MAML inner loops are written this way).
Trains well: test accuracy 1.000 on the 38 held-out wines after 300 steps.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call
from sklearn.datasets import load_wine

torch.manual_seed(0)
X, y = load_wine(return_X_y=True)
X = torch.tensor(X, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(y)
perm = torch.randperm(len(X))
tr, te = perm[:140], perm[140:]

model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 3))
params = {k: v.detach().clone().requires_grad_(True) for k, v in model.named_parameters()}
lr = 0.1

for step in range(300):
    idx = tr[torch.randint(len(tr), (32,))]
    logits = functional_call(model, params, (X[idx],))
    loss = F.cross_entropy(logits, y[idx])
    grads = torch.autograd.grad(loss, list(params.values()))
    params = {k: (p - lr * g).detach().requires_grad_(True) for (k, p), g in zip(params.items(), grads)}
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

model.load_state_dict({k: v.detach() for k, v in params.items()})
with torch.no_grad():
    acc = (model(X[te]).argmax(1) == y[te]).float().mean().item()
print(f"test accuracy {acc:.3f}")
