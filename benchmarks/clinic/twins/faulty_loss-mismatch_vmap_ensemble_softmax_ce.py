"""Fixed version of faulty_loss-mismatch_vmap_ensemble_softmax_ce.py: the one-line fix of its docstring.
Measured: val_nll=0.0611. From the sixth held-out audit (vision code with modern training mechanics).
"""
import copy
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
scaler = StandardScaler().fit(Xtr)
Xtr = torch.as_tensor(scaler.transform(Xtr), dtype=torch.float32)
Xva = torch.as_tensor(scaler.transform(Xva), dtype=torch.float32)
ytr, yva = torch.as_tensor(ytr), torch.as_tensor(yva)

N_MEMBERS = 8


class Member(nn.Module):
    def __init__(self, d_in=64, hidden=128, n_cls=10):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, n_cls)

    def forward(self, x):
        h = F.gelu(self.fc1(x))
        h = F.gelu(self.fc2(h))
        return self.out(h)                      # logits


members = [Member() for _ in range(N_MEMBERS)]
params, buffers = stack_module_state(members)      # each leaf: [N_MEMBERS, ...], requires_grad=True
base = copy.deepcopy(members[0]).to("meta")


def member_forward(p, b, x):
    return functional_call(base, (p, b), (x,))


ens_forward = vmap(member_forward, in_dims=(0, 0, None))   # same batch to every member

opt = torch.optim.SGD(params.values(), lr=0.05, momentum=0.9)
EPOCHS, BS = 15, 64


def predict(X):
    with torch.no_grad():
        return ens_forward(params, buffers, X).softmax(-1).mean(0)   # [N, C] averaged probs


t0 = time.time()
g = torch.Generator().manual_seed(SEED)
for ep in range(EPOCHS):
    perm = torch.randperm(len(Xtr), generator=g)
    tot = 0.0
    for i in range(0, len(perm), BS):
        idx = perm[i:i + BS]
        out = ens_forward(params, buffers, Xtr[idx])           # [M, B, C]
        # per-member mean loss, summed over members so each member gets its own full-size gradient
        loss = F.cross_entropy(out.transpose(1, 2), ytr[idx].expand(N_MEMBERS, -1),
                               reduction="none").mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item() / N_MEMBERS * len(idx)
    probs = predict(Xva)
    val_nll = F.nll_loss(probs.clamp_min(1e-8).log(), yva).item()
    val_acc = (probs.argmax(1) == yva).float().mean().item()
    print(f"epoch {ep:2d} train_loss {tot / len(Xtr):.4f} val_nll {val_nll:.4f} val_acc {val_acc:.4f}")

print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_nll={val_nll:.4f} lower")
