"""Fixed version of f5_deep_mlp_init.py: initialize the Linear weights with kaiming_normal_(nonlinearity="relu") instead of normal_(std=0.01).

expect: healthy


Measured: val_acc=0.8950
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)

CFG = {"n_train": 2000, "n_val": 1000, "d_in": 20, "n_classes": 5, "width": 64, "depth": 6,
       "batch_size": 64, "epochs": 10, "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4}


def make_data(n, g):
    # Class = which of 5 random directions the (nonlinearly warped) point aligns with best.
    x = torch.randn(n, CFG["d_in"], generator=g)
    z = torch.tanh(x @ W_MIX) + 0.3 * x[:, :8]
    logits = z @ CENTERS.T
    return x, logits.argmax(1)


gen = torch.Generator().manual_seed(123)
W_MIX = torch.randn(CFG["d_in"], 8, generator=gen) / math.sqrt(CFG["d_in"]) * 0.5
CENTERS = torch.randn(CFG["n_classes"], 8, generator=gen)
X_tr, y_tr = make_data(CFG["n_train"], gen)
X_va, y_va = make_data(CFG["n_val"], gen)


class DeepMLP(nn.Module):
    def __init__(self, d_in, width, depth, n_out):
        super().__init__()
        dims = [d_in] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(width, n_out)
        self.apply(self.init_weights)

    @staticmethod
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)


model = DeepMLP(CFG["d_in"], CFG["width"], CFG["depth"], CFG["n_classes"])
opt = torch.optim.SGD(model.parameters(), lr=CFG["lr"], momentum=CFG["momentum"],
                      weight_decay=CFG["weight_decay"])
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)

for epoch in range(CFG["epochs"]):
    model.train()
    perm = torch.randperm(CFG["n_train"])
    tot = 0.0
    for s in range(0, CFG["n_train"], CFG["batch_size"]):
        idx = perm[s:s + CFG["batch_size"]]
        loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item() * len(idx)
    sched.step()
    print(f"epoch {epoch} loss {tot / CFG['n_train']:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(X_va).argmax(1) == y_va).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
