"""Friedman-1 regression whose ReduceLROnPlateau watches validation loss in mode='max'.

expect: learning-rate-too-low
allow: loss-not-decreasing

A fit() helper trains an MLP with SGD (nesterov momentum) on sklearn's make_friedman1
benchmark and steps ReduceLROnPlateau with the validation MSE every epoch. The scheduler was
created with mode='max' (copied from a run that monitored validation R^2), so every epoch in
which the loss *improves* counts as "no improvement": the LR is halved every patience+1 = 4
epochs while the model is still learning fast. The LR is 3e-4 by epoch 25 and 5e-6 by
epoch 50 (the validation loss is frozen at 0.1655 from there on), so about 1100 of the
1920 optimizer steps barely move the weights and the fit stalls far from what the
architecture reaches (the fixed run is at val MSE 0.03 by epoch 25 with its LR still 2e-2).

Measured (OMP_NUM_THREADS=1): faulty val_r2 = 0.8345, fixed (mode='min',
fixed/f_plateau_mode_max_fixed.py) val_r2 = 0.9803.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_friedman1

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = make_friedman1(n_samples=1500, n_features=10, noise=0.5, random_state=0)
X_tr, X_va, y_tr, y_va = X[:1200], X[1200:], y[:1200], y[1200:]
x_mu, x_sd = X_tr.mean(0), X_tr.std(0)
y_mu, y_sd = y_tr.mean(), y_tr.std()
Xt = torch.tensor((X_tr - x_mu) / x_sd, dtype=torch.float32)
Xv = torch.tensor((X_va - x_mu) / x_sd, dtype=torch.float32)
yt = torch.tensor((y_tr - y_mu) / y_sd, dtype=torch.float32).unsqueeze(1)
yv = torch.tensor((y_va - y_mu) / y_sd, dtype=torch.float32).unsqueeze(1)


def make_model():
    return nn.Sequential(nn.Linear(10, 64), nn.Tanh(),
                         nn.Linear(64, 64), nn.Tanh(),
                         nn.Linear(64, 1))


def fit(model, epochs=120, batch_size=75, lr=0.02):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=3)
    loss_fn = nn.MSELoss()
    n = len(Xt)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            loss = loss_fn(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(Xv), yv).item()
        sched.step(val_loss)
        if epoch % 25 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:3d} train_loss {loss.item():.4f} val_loss {val_loss:.4f} "
                  f"lr {opt.param_groups[0]['lr']:.2e}")
    return val_loss


model = make_model()
val_mse = fit(model)
print(f"NNDOCTOR_METRIC val_r2={1.0 - val_mse:.4f} higher")
