"""Fixed version of f6_lowrank_param_groups.py: every parameter whose name does not end in "weight" (biases and the projection U) goes to the no-decay group, so U is optimized.

Measured: val_mse=0.1354
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

config = {
    "n_train": 2048, "n_val": 1024, "d_in": 40, "rank": 4, "hidden": 64,
    "batch_size": 128, "epochs": 20, "lr": 5e-3, "weight_decay": 1e-4, "warmup_steps": 30,
}

# Synthetic data: the target depends nonlinearly on a hidden 4-D subspace of the 40 features.
rng = np.random.default_rng(0)
B = np.linalg.qr(rng.standard_normal((config["d_in"], 4)))[0].astype(np.float32)


def make_split(n):
    x = rng.standard_normal((n, config["d_in"])).astype(np.float32)
    z = x @ B
    y = z[:, 0] - z[:, 1] + np.tanh(2 * z[:, 2]) + 0.5 * z[:, 3] ** 2 + 0.1 * rng.standard_normal(n)
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))


X_tr, y_tr = make_split(config["n_train"])
X_va, y_va = make_split(config["n_val"])
y_mu, y_sd = y_tr.mean(), y_tr.std()
y_tr_n = (y_tr - y_mu) / y_sd


class LowRankMLP(nn.Module):
    def __init__(self, d_in, rank, hidden):
        super().__init__()
        self.U = nn.Parameter(torch.randn(d_in, rank) / math.sqrt(d_in))
        self.mlp = nn.Sequential(
            nn.Linear(rank, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.mlp(x @ self.U).squeeze(-1)


model = LowRankMLP(config["d_in"], config["rank"], config["hidden"])

decay, no_decay = [], []
for name, param in model.named_parameters():
    if name.endswith("weight"):
        decay.append(param)
    else:  # biases and any other parameter (e.g. the projection U)
        no_decay.append(param)
optimizer = torch.optim.RMSprop(
    [{"params": decay, "weight_decay": config["weight_decay"]},
     {"params": no_decay, "weight_decay": 0.0}],
    lr=config["lr"], alpha=0.9,
)
steps_per_epoch = math.ceil(config["n_train"] / config["batch_size"])
total_steps = config["epochs"] * steps_per_epoch


def lr_lambda(step):
    if step < config["warmup_steps"]:
        return (step + 1) / config["warmup_steps"]
    return max(0.05, 1.0 - (step - config["warmup_steps"]) / (total_steps - config["warmup_steps"]))


scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)

for epoch in range(config["epochs"]):
    model.train()
    perm = torch.randperm(config["n_train"])
    losses = []
    for s in range(0, config["n_train"], config["batch_size"]):
        idx = perm[s:s + config["batch_size"]]
        loss = F.smooth_l1_loss(model(X_tr[idx]), y_tr_n[idx], beta=1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    if epoch % 4 == 0 or epoch == config["epochs"] - 1:
        print(f"epoch {epoch:2d} huber {np.mean(losses):.4f}")

model.eval()
with torch.no_grad():
    val_mse = F.mse_loss(model(X_va) * y_sd + y_mu, y_va).item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
