"""LSTM sequence classifier trained with progressive unfreezing: new param groups (higher LR) added mid-run.

expect: healthy
trap: optimizer.add_param_group() is called twice mid-training, each time adding parameters with their own LR (3e-3, then 5e-3) above the head's 1e-3, so the max LR in the optimizer jumps up and the set of trained parameters changes; before the first unfreeze most of the net is frozen and the loss decreases slowly (looks like learning-rate-too-low), after it the loss drops fast.

Synthetic task: sequences of length 24 with 3 features; label = 1 if sum_t x0[t] - 0.5 * sum_t x1[t] > 0
(the LSTM has to integrate two channels over the whole sequence).  Model: input Linear -> LSTM -> Linear head.  Adam.  Epochs 0-1: head only
(lr 1e-3); epoch 2: LSTM added as a new param group with lr 3e-3; epoch 4: input projection
added with lr 5e-3.
Measured: val_acc=0.9540.
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(14)
np.random.seed(14)

config = dict(T=24, n_feat=3, n_train=2000, n_val=500, d_in=16, hidden=32,
              head_lr=1e-3, unfreeze={2: ("lstm", 3e-3), 4: ("proj", 5e-3)},
              epochs=12, batch_size=50)


def make_data(n):
    x = np.random.randn(n, config["T"], config["n_feat"]).astype(np.float32)
    y = (x[:, :, 0].sum(1) - 0.5 * x[:, :, 1].sum(1) > 0).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


Xtr, ytr = make_data(config["n_train"])
Xva, yva = make_data(config["n_val"])


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(config["n_feat"], config["d_in"])
        self.lstm = nn.LSTM(config["d_in"], config["hidden"], batch_first=True)
        self.head = nn.Linear(config["hidden"], 2)

    def forward(self, x):
        h, _ = self.lstm(torch.tanh(self.proj(x)))
        return self.head(h[:, -1])


model = Classifier()
for name in ("proj", "lstm"):
    for p in getattr(model, name).parameters():
        p.requires_grad_(False)
opt = torch.optim.Adam(model.head.parameters(), lr=config["head_lr"])


def val_acc():
    model.eval()
    with torch.no_grad():
        a = (model(Xva).argmax(1) == yva).float().mean().item()
    model.train()
    return a


t0 = time.time()
for epoch in range(config["epochs"]):
    if epoch in config["unfreeze"]:
        name, lr = config["unfreeze"][epoch]
        params = list(getattr(model, name).parameters())
        for p in params:
            p.requires_grad_(True)
        opt.add_param_group({"params": params, "lr": lr})
        print(f"epoch {epoch}: unfroze {name} with lr {lr:g}")
    perm = torch.randperm(len(Xtr))
    losses = []
    for i in range(0, len(Xtr), config["batch_size"]):
        idx = perm[i:i + config["batch_size"]]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(f"epoch {epoch:2d} loss {np.mean(losses):.4f} val_acc {val_acc():.4f}")

v = val_acc()
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
