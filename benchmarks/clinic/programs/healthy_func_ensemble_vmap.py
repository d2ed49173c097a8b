"""Deep ensemble of 8 MLPs trained in one vectorised functional model (torch.func.functional_call + vmap), with gradient accumulation and a polynomial LR decay to zero.

expect: healthy
trap: gradient accumulation (backward 4 times per optimizer step, zero_grad only after the step), parameters that live in an nn.ParameterDict of stacked weights rather than in the modules that are called, and an LR schedule that deliberately decays to exactly 0 at the end

The 8 members' weights are stacked with torch.func.stack_module_state and
registered in an nn.ParameterDict; a meta-device copy of the member is called
through torch.func.functional_call under torch.func.vmap, so the nn.Linear
modules that run have no parameters of their own. The loss is the sum of the
8 members' BCE-with-logits losses (one loss per member summed). Micro-batches
of 16 are accumulated 4 times (loss / 4) before each AdamW step, and zero_grad
is called only after the step. PolynomialLR(power=2) takes the LR from 3e-3
to exactly 0 over the run, so the last steps barely move the weights by design.
Measured (plain run): ensemble (mean-probability) test accuracy 0.9580 on
breast_cancer, members 0.951-0.965. The per-micro-batch loss printed is noisy
(16 samples, an occasional hard example), which is normal.
"""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from torch.func import functional_call, stack_module_state, vmap

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_breast_cancer(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
m, s = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - m) / s, dtype=torch.float32)
Xte = torch.tensor((Xte - m) / s, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32)
yte = torch.tensor(yte, dtype=torch.float32)


def member():
    return nn.Sequential(nn.Linear(30, 32), nn.GELU(), nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 1))


K = 8
members = [member() for _ in range(K)]
stacked, _ = stack_module_state(members)
params = nn.ParameterDict({k.replace(".", "__"): nn.Parameter(v.detach().clone()) for k, v in stacked.items()})
base = copy.deepcopy(members[0]).to("meta")
del members


def f(p, x):
    return functional_call(base, p, (x,)).squeeze(-1)


def ensemble_logits(x):
    p = {k.replace("__", "."): v for k, v in params.items()}
    return vmap(f, in_dims=(0, None))(p, x)  # [K, N]


accum, micro = 4, 16
epochs = 40
steps_per_epoch = len(Xtr) // (accum * micro)
opt = torch.optim.AdamW(params.parameters(), lr=3e-3, weight_decay=1e-2)
sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=epochs * steps_per_epoch, power=2.0)

for epoch in range(epochs):
    perm = torch.randperm(len(Xtr))
    for s_ in range(steps_per_epoch):
        for a in range(accum):
            idx = perm[(s_ * accum + a) * micro:(s_ * accum + a + 1) * micro]
            logits = ensemble_logits(Xtr[idx])
            target = ytr[idx].expand(K, -1)
            loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(1).sum()
            (loss / accum).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1} loss(sum of {K}) {loss.item():.4f} lr {sched.get_last_lr()[0]:.2e}")

with torch.no_grad():
    prob = torch.sigmoid(ensemble_logits(Xte)).mean(0)
    acc = ((prob > 0.5).float() == yte).float().mean().item()
    member_acc = ((torch.sigmoid(ensemble_logits(Xte)) > 0.5).float() == yte).float().mean(1)
print(f"member accs {[round(a, 3) for a in member_acc.tolist()]}")
print(f"NNDOCTOR_METRIC ensemble_acc={acc:.4f} higher")
