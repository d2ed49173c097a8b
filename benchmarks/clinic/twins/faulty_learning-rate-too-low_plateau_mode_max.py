"""Friedman-1 regression; ReduceLROnPlateau on validation loss now uses mode='min'.

expect: healthy
trap: reference fix of ../f_plateau_mode_max.py; only the bug is changed, see that file for both metrics.
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
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3)
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
