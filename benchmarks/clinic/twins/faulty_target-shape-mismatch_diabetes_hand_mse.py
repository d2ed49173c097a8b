"""Fixed version of faulty_target-shape-mismatch_diabetes_hand_mse.py: the one-line fix of its docstring.
Measured: val_mse=0.4584. From the seventh held-out audit (beginner and notebook-style code).
"""
import numpy as np
import torch
from sklearn.datasets import load_diabetes

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_diabetes(return_X_y=True)
print(X.shape, y.shape)

# standardize inputs and target by hand
X = (X - X.mean(axis=0)) / X.std(axis=0)
y = (y - y.mean()) / y.std()

perm = np.random.permutation(len(X))
train_idx = perm[:350]
val_idx = perm[350:]

X_train = torch.tensor(X[train_idx], dtype=torch.float32)
y_train = torch.tensor(y[train_idx], dtype=torch.float32)
X_val = torch.tensor(X[val_idx], dtype=torch.float32)
y_val = y[val_idx]

model = torch.nn.Sequential(
    torch.nn.Linear(10, 32),
    torch.nn.Tanh(),
    torch.nn.Linear(32, 1),
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

batch_size = 32
n_epochs = 60

for epoch in range(n_epochs):
    model.train()
    perm = np.random.permutation(len(X_train))
    epoch_loss = 0.0
    for i in range(0, len(perm), batch_size):
        idx = perm[i:i+batch_size]
        xb = X_train[idx]
        yb = y_train[idx]

        pred = model(xb).squeeze(1)
        loss = ((pred - yb) ** 2).mean()

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * len(idx)

    if epoch % 10 == 0 or epoch == n_epochs - 1:
        model.eval()
        pred_val = model(X_val).detach().numpy().flatten()
        val_mse = np.mean((pred_val - y_val) ** 2)
        print("epoch %d train loss %.4f val mse %.4f" % (epoch, epoch_loss / len(X_train), val_mse))

model.eval()
pred_val = model(X_val).detach().numpy().flatten()
val_mse = float(np.mean((pred_val - y_val) ** 2))
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
