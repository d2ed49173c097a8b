"""MLP regression on load_diabetes with the raw disease-progression targets (25..346): first losses ~3e4, then a fast drop.

expect: healthy
trap: the target is left in its raw units, so the first batch MSEs are ~3e4 (one even rises, 31935 -> 36714 at step 1) with gradients in the hundreds, and the loss falls by ~10x within ~80 steps; a monitor keyed on absolute loss/grad size or on the early slope may call this exploding gradients or an unstable LR, but Adam is invariant to the gradient scale and the run settles below the error of a linear model

Typical quick-experiment script: inputs are standardized (the raw `scaled=False` features, including the
1/2-coded sex column, go through train-set mean/std), the target is NOT rescaled - a common and perfectly
workable choice with Adam. Model 10-32-32-1 ReLU, Adam lr=1e-2 with per-epoch cosine decay, batch 32,
40 epochs (~440 steps), MSELoss. The output bias starts at ~0 while the target mean is ~152, hence the
huge first losses. Measured: first batch MSE ~3.2e4, val MSE 27628 after epoch 1, 4174 after epoch 5,
then slowly down to a flat ~3340; final val_mse 3342 (sklearn LinearRegression on the same split: 3424;
predicting the train mean: 5135).
"""
import os
os.environ["OMP_NUM_THREADS"] = "1"  # keep sklearn/BLAS single-threaded too
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

config = {"lr": 1e-2, "epochs": 40, "bs": 32, "hidden": 32, "seed": 0}

torch.set_num_threads(1)
torch.manual_seed(config["seed"])
np.random.seed(config["seed"])

X, y = load_diabetes(return_X_y=True, scaled=False)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.2, random_state=config["seed"])
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd
print("target range", y.min(), y.max(), "mean", round(y.mean(), 1))

lin = LinearRegression().fit(Xtr, ytr)
print("LinearRegression val mse", round(float(np.mean((lin.predict(Xva) - yva) ** 2)), 1))
print("predict-the-mean val mse", round(float(np.mean((ytr.mean() - yva) ** 2)), 1))

Xtr = torch.tensor(Xtr, dtype=torch.float32)
Xva = torch.tensor(Xva, dtype=torch.float32)
ytr = torch.tensor(ytr, dtype=torch.float32).unsqueeze(1)
yva = torch.tensor(yva, dtype=torch.float32).unsqueeze(1)

h = config["hidden"]
model = nn.Sequential(nn.Linear(10, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))
opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
crit = nn.MSELoss()
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config["epochs"])

step = 0
for epoch in range(config["epochs"]):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), config["bs"]):
        idx = perm[i:i + config["bs"]]
        pred = model(Xtr[idx])
        loss = crit(pred, ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in (0, 1, 2, 5, 10, 20, 40, 80, 160):
            print(f"step {step} train mse {loss.item():.1f}")
        step += 1
    sched.step()
    model.eval()
    with torch.no_grad():
        val_mse = crit(model(Xva), yva).item()
    if epoch in (0, 1, 2, 5) or epoch % 5 == 4:
        print(f"epoch {epoch+1} val mse {val_mse:.1f}")

print(f"NNDOCTOR_METRIC val_mse={val_mse:.2f} lower")
