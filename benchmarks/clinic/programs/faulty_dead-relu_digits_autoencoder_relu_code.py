"""Fully-connected autoencoder on 8x8 digits whose encoder ends in a ReLU; the 4-unit code layer dies.
expect: dead-relu

The encoder was written as a stack of `Linear -> ReLU` blocks and the last block (the bottleneck) kept
its ReLU.  With a fairly aggressive Adam step the code units' pre-activations are pushed negative for
every image early in training; a ReLU that is zero for all inputs gets no gradient and never recovers,
so most of the 4-dimensional code is constantly 0 and the decoder reconstructs from the one or two
units left.  Fix: no activation on the bottleneck (a linear code).
Measured: faulty val_mse=0.0738 vs fixed val_mse=0.0278 (seed 1: 0.0376 vs 0.0284; seed 2: 0.0407 vs 0.0293)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X = load_digits().data.astype(np.float32) / 16.0
Xtr, Xva = train_test_split(X, test_size=0.25, random_state=SEED)
Xtr, Xva = torch.tensor(Xtr), torch.tensor(Xva)
CODE = 4

encoder = nn.Sequential(
    nn.Linear(64, 128), nn.ReLU(),
    nn.Linear(128, 32), nn.ReLU(),
    nn.Linear(32, CODE), nn.ReLU(),
)
decoder = nn.Sequential(
    nn.Linear(CODE, 32), nn.ReLU(),
    nn.Linear(32, 128), nn.ReLU(),
    nn.Linear(128, 64),
)
ae = nn.Sequential(encoder, decoder)
opt = torch.optim.Adam(ae.parameters(), lr=1e-2)
loss_fn = nn.MSELoss()

BS = 64
EPOCHS = 30
for epoch in range(EPOCHS):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BS):
        xb = Xtr[perm[i:i + BS]]
        xb_noisy = xb + 0.05 * torch.randn_like(xb)      # light denoising augmentation
        opt.zero_grad()
        loss = loss_fn(ae(xb_noisy), xb)
        loss.backward()
        opt.step()
    if epoch % 10 == 0 or epoch == EPOCHS - 1:
        with torch.no_grad():
            code = encoder(Xva)
            alive = (code > 0).any(0).float().mean().item()
            print(f"epoch {epoch:2d} loss {loss.item():.5f} val_mse {loss_fn(ae(Xva), Xva).item():.5f} alive_code_units {alive:.2f}")

with torch.no_grad():
    val_mse = loss_fn(ae(Xva), Xva).item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
