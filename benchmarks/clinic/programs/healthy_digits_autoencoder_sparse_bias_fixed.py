"""Fixed version of f7_digits_autoencoder_sparse_bias.py: initialise the hidden ReLU biases to 0 instead of -1.

expect: healthy

Measured: val_mse=0.0125
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, _ = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)                 # pixels in [0, 1]
perm = np.random.permutation(len(X))
Xtr = torch.from_numpy(X[perm[:1300]])
Xva = torch.from_numpy(X[perm[1300:]])
loader = DataLoader(TensorDataset(Xtr), batch_size=64, shuffle=True, num_workers=0)


def relu_layer(n_in, n_out):
    lin = nn.Linear(n_in, n_out)
    nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
    nn.init.zeros_(lin.bias)
    return [lin, nn.ReLU()]


model = nn.Sequential(
    *relu_layer(64, 128), nn.Linear(128, 16),     # encoder -> 16-d linear code
    *relu_layer(16, 128), nn.Linear(128, 64),     # decoder
)
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
loss_fn = nn.MSELoss()

for epoch in range(10):
    model.train()
    for (xb,) in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), xb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val_mse = loss_fn(model(Xva), Xva).item()
    print(f"epoch {epoch} train {loss.item():.4f} val_mse {val_mse:.4f}")

print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
