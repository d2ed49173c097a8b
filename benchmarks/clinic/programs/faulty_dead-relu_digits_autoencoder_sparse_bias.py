"""An MLP autoencoder on 8x8 digits initialises its ReLU layers' biases to -1 "for sparse activations", which leaves most hidden units dead from the first step.
expect: dead-relu
allow: poor-initialization, loss-not-decreasing
The helper relu_layer() uses He-normal weights but sets every hidden bias to -1.0. Digit pixels
are non-negative and the pre-activations have a std well below 1, so about half of the encoder's
128 units never fire for any image and the decoder's hidden layer (fed by a small linear code)
is 100% dead. Dead ReLUs pass no gradient, their incoming weights and biases never update, and
the reconstruction is limited to what the few surviving encoder units plus the output bias can
express. Initialising the biases to zero keeps the units alive and the same model, optimizer and
budget reconstruct the digits ~8x better.
Measured: faulty val_mse=0.1054 vs fixed val_mse=0.0125
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
    nn.init.constant_(lin.bias, -1.0)   # negative bias -> sparse hidden activations
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
