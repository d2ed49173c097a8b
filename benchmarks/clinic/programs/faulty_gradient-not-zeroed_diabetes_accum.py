"""Diabetes progression regressor whose optimizer.zero_grad() sits outside the batch loop.

expect: gradient-not-zeroed
allow: exploding-gradient, learning-rate-too-high

`optimizer.zero_grad()` is called once per epoch, before the mini-batch loop, instead of once per
mini-batch. Every `loss.backward()` therefore adds to the gradients of all previous batches of
the epoch, so the k-th step of an epoch applies the sum of k stale gradients. With SGD+momentum
this acts like a learning rate that ramps up ~20x within each epoch and points partly in stale
directions: the training loss blows up by several orders of magnitude mid-run and the regressor
ends worse than predicting the mean, far behind the same loop with gradients reset per batch.
Measured: faulty val_mse=6696.8843 vs fixed val_mse=2459.0718
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

cfg = dict(lr=0.002, momentum=0.9, weight_decay=1e-3, batch_size=16, epochs=25,
           hidden=(64, 32), step_size=10, gamma=0.3)

X, y = load_diabetes(return_X_y=True)
X, y = X.astype(np.float32), y.astype(np.float32)
perm = np.random.permutation(len(X))
n_train = 350
tr, va = perm[:n_train], perm[n_train:]
x_mu, x_sd = X[tr].mean(0), X[tr].std(0)
y_mu, y_sd = y[tr].mean(), y[tr].std()
X = (X - x_mu) / x_sd
y_n = (y - y_mu) / y_sd
X_tr, y_tr = torch.from_numpy(X[tr]), torch.from_numpy(y_n[tr])
X_va, y_va = torch.from_numpy(X[va]), torch.from_numpy(y[va])


class Regressor(nn.Module):
    def __init__(self, d_in, hidden):
        super().__init__()
        self.l1 = nn.Linear(d_in, hidden[0])
        self.l2 = nn.Linear(hidden[0], hidden[1])
        self.head = nn.Linear(hidden[1], 1)

    def forward(self, x):
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        return self.head(x).squeeze(-1)


model = Regressor(X.shape[1], cfg["hidden"])
optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                            weight_decay=cfg["weight_decay"])
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg["step_size"], gamma=cfg["gamma"])

for epoch in range(cfg["epochs"]):
    model.train()
    order = torch.randperm(n_train)
    losses = []
    optimizer.zero_grad()
    for start in range(0, n_train, cfg["batch_size"]):
        idx = order[start:start + cfg["batch_size"]]
        pred = model(X_tr[idx])
        loss = F.mse_loss(pred, y_tr[idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    if epoch % 5 == 0 or epoch == cfg["epochs"] - 1:
        print(f"epoch {epoch:2d} train_mse(std units) {np.mean(losses):.4f}")

model.eval()
with torch.no_grad():
    pred = model(X_va) * y_sd + y_mu
    val_mse = F.mse_loss(pred, y_va).item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
