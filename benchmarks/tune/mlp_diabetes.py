"""An MLP regressor on sklearn's diabetes (standardized features and target); lr, width and optimizer
from nndoctor.param. High SGD-momentum learning rates blow up: the trials the doctor should prune."""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes

import nndoctor

lr = nndoctor.param("lr", 1e-2)
width = nndoctor.param("width", 64)
opt_name = nndoctor.param("optimizer", "sgd")
steps = nndoctor.param("steps", 100)

torch.manual_seed(0)
X, y = load_diabetes(return_X_y=True)
X = torch.tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32)
y = torch.tensor((y - y.mean()) / y.std(), dtype=torch.float32).unsqueeze(1)
Xtr, ytr, Xva, yva = X[:340], y[:340], X[340:], y[340:]
model = nn.Sequential(nn.Linear(10, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1))
opt = (torch.optim.Adam(model.parameters(), lr=lr) if opt_name == "adam"
       else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))
loss_fn = nn.MSELoss()
g = torch.Generator().manual_seed(0)
step = 0
while step < steps:
    perm = torch.randperm(len(Xtr), generator=g)
    for i in range(0, len(Xtr) - 32 + 1, 32):
        idx = perm[i:i + 32]
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
