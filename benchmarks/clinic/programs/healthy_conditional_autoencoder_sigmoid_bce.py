"""Class-conditional autoencoder on 8x8 digits with a sigmoid/BCE pixel decoder and one-hot label input.
expect: healthy
trap: sigmoid output units legitimately saturated (<0.01) on the always-black border pixels; one-hot label columns concatenated to the code (0/1 inputs, not "unnormalized"); pixel inputs in [0,1] not standardised; ReLU hidden layers with some natural sparsity; validation loss in eval/no_grad

Pixels are in [0,1] and the decoder ends in nn.Sigmoid trained with BCELoss: many border pixels are 0
in every digit, so the matching output units correctly sit deep in the sigmoid's lower tail -- that is
the model being right, not a saturation problem.  The decoder input is [code, one_hot(label)], whose
one-hot half is 0/1 by construction.  Hidden ReLUs have a few percent inactive units, as usual.
Measured: val_bce=0.2709
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

d = load_digits()
X = (d.data / 16.0).astype(np.float32)
Xtr, Xva, ytr, yva = train_test_split(X, d.target, test_size=0.25, random_state=SEED)
Xtr, Xva = torch.tensor(Xtr), torch.tensor(Xva)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)


class CondAE(nn.Module):
    def __init__(self, code=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, code))
        self.dec = nn.Sequential(nn.Linear(code + 10, 128), nn.ReLU(),
                                 nn.Linear(128, 64), nn.Sigmoid())

    def forward(self, x, y):
        z = self.enc(x)
        return self.dec(torch.cat([z, F.one_hot(y, 10).float()], dim=1))


model = CondAE()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
bce = nn.BCELoss()
BS, EPOCHS = 64, 25

for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BS):
        idx = perm[i:i + BS]
        opt.zero_grad()
        loss = bce(model(Xtr[idx], ytr[idx]), Xtr[idx])
        loss.backward()
        opt.step()
    if epoch % 10 == 0 or epoch == EPOCHS - 1:
        model.eval()
        with torch.no_grad():
            rec = model(Xva, yva)
            val_bce = bce(rec, Xva).item()
            sat = ((rec < 0.01) | (rec > 0.99)).float().mean().item()
        print(f"epoch {epoch:2d} train_bce {loss.item():.4f} val_bce {val_bce:.4f} saturated_outputs {sat:.2f}")

print(f"NNDOCTOR_METRIC val_bce={val_bce:.4f} lower")
