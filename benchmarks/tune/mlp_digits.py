"""An MLP on sklearn's digits whose hyperparameters come from nndoctor.param (defaults when not tuning).

A high learning rate with plain SGD on unscaled pixels (0..16) diverges to NaN or explodes: the
trials the doctor should prune."""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

import nndoctor

lr = nndoctor.param("lr", 1e-2)
batch = nndoctor.param("batch_size", 64)
opt_name = nndoctor.param("optimizer", "sgd")
steps = nndoctor.param("steps", 100)

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
X = torch.tensor(X, dtype=torch.float32) / 4.0      # pixels 0..4: a typical half-normalized input
y = torch.tensor(y)
Xtr, ytr, Xva, yva = X[:1400], y[:1400], X[1400:], y[1400:]
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
opt = (torch.optim.Adam if opt_name == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
loss_fn = nn.CrossEntropyLoss()
g = torch.Generator().manual_seed(0)
step = 0
while step < steps:
    perm = torch.randperm(len(Xtr), generator=g)
    for i in range(0, len(Xtr) - batch + 1, batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(Xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        step += 1
        if step % 25 == 0 or step == steps:
            with torch.no_grad():
                val = loss_fn(model(Xva), yva).item()
            nndoctor.report_metric(val if val == val else float("inf"), step)
        if step >= steps:
            break
