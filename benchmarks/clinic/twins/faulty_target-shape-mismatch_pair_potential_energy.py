"""Fixed version of faulty_target-shape-mismatch_pair_potential_energy.py: the one-line fix of its docstring.
Measured: val_mse=0.0101. From the seventh held-out audit (graph, scientific and custom-autograd code).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_PART = 10


def energy(pos):
    """pos: (B, N, 2) -> (B,)"""
    trap = 0.5 * (pos ** 2).sum(-1).sum(-1)
    d2 = ((pos[:, :, None, :] - pos[:, None, :, :]) ** 2).sum(-1)
    iu = np.triu_indices(pos.shape[1], k=1)
    core = 2.0 * np.exp(-d2[:, iu[0], iu[1]] / 0.5).sum(-1)
    return trap + core


rng = np.random.default_rng(SEED)
pos = rng.normal(scale=rng.uniform(0.4, 1.2, size=(3000, 1, 1)), size=(3000, N_PART, 2))
E = energy(pos)
E_mean, E_std = E[:2400].mean(), E[:2400].std()
pos_t = torch.tensor(pos, dtype=torch.float32)
E_t = torch.tensor((E - E_mean) / E_std, dtype=torch.float32)      # shape (B,)
Xtr, ytr, Xva, yva = pos_t[:2400], E_t[:2400], pos_t[2400:], E_t[2400:]
IU = torch.triu_indices(N_PART, N_PART, offset=1)


class PairPotentialNet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.psi = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        r = (x[:, :, None, :] - x[:, None, :, :]).norm(dim=-1)[:, IU[0], IU[1]]   # (B, P)
        single = self.phi(x).sum(1)                                             # (B, H)
        pair = self.psi(r.unsqueeze(-1)).sum(1)                                 # (B, H)
        return self.out(F.silu(single + pair))                                  # (B, 1)


model = PairPotentialNet()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)

BATCH = 100
for epoch in range(25):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), BATCH):
        idx = perm[i:i + BATCH]
        pred = model(Xtr[idx])
        loss = F.mse_loss(pred.squeeze(-1), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 5 == 0 or epoch == 24:
        with torch.no_grad():
            vm = F.mse_loss(model(Xva).squeeze(-1), yva).item()
        print(f"epoch {epoch:3d} train_loss {loss.item():.4f} val_mse {vm:.4f}")

with torch.no_grad():
    val_mse = F.mse_loss(model(Xva).squeeze(-1), yva).item()
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
