"""Diabetes progression regression: a 4-layer MLP (128 wide) trained on 80 patients with RMSprop for 60 epochs.

expect: overfitting

~35k parameters for 80 noisy training rows, validated each epoch on the other 362 patients
(model.eval(), torch.no_grad(), a functional F.mse_loss summed over a val DataLoader). Val MSE
(standardised target) is lowest at epoch 5 (0.54) and then rises to ~0.8-0.9 and stays there,
while the training MSE drops to ~0.01.
Fixed (RMSprop weight_decay=0.1 + dropout 0.5 before the output): final val MSE 0.519 vs 0.855
here.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes
from torch.utils.data import DataLoader, TensorDataset

CFG = dict(n_train=80, hidden=128, lr=1e-3, epochs=60, batch_size=16, seed=0)
torch.manual_seed(CFG["seed"])

X, y = load_diabetes(return_X_y=True)
X = torch.tensor(X, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(y, dtype=torch.float32)
y = (y - y.mean()) / y.std()

perm = torch.randperm(len(X))
train_ds = TensorDataset(X[perm[:CFG["n_train"]]], y[perm[:CFG["n_train"]]])
val_ds = TensorDataset(X[perm[CFG["n_train"]:]], y[perm[CFG["n_train"]:]])
train_dl = DataLoader(train_ds, batch_size=CFG["batch_size"], shuffle=True)
val_dl = DataLoader(val_ds, batch_size=128)


class MLP(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.l1 = nn.Linear(n_in, hidden)
        self.l2 = nn.Linear(hidden, hidden)
        self.l3 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        x = F.relu(self.l3(x))
        return self.out(x).squeeze(-1)


model = MLP(10, CFG["hidden"])
optimizer = torch.optim.RMSprop(model.parameters(), lr=CFG["lr"])

val_curve = []
for epoch in range(CFG["epochs"]):
    model.train()
    train_sum = 0.0
    for xb, yb in train_dl:
        optimizer.zero_grad()
        loss = F.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        train_sum += loss.item() * len(xb)

    model.eval()
    with torch.no_grad():
        val_sum = sum(F.mse_loss(model(xb), yb, reduction="sum").item() for xb, yb in val_dl)
    val_curve.append(val_sum / len(val_ds))
    if epoch % 10 == 0 or epoch == CFG["epochs"] - 1:
        print(f"epoch {epoch:3d}  train mse {train_sum / len(train_ds):.4f}  val mse {val_curve[-1]:.4f}")

print(f"lowest val mse {min(val_curve):.4f} (epoch {val_curve.index(min(val_curve))}), final {val_curve[-1]:.4f}")
