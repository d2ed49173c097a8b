"""Learned pair potential fitted to energies AND forces of 3-D Morse clusters (forces = -dE/dx through torch.autograd.grad with create_graph=True).
expect: healthy
trap: second-order backward (create_graph=True); two loss terms whose scales differ by 1-2 orders of magnitude and swap dominance (energy term 16x the force term at step 0, ~50x smaller later); a large first loss (~430) and large early gradients that settle; input positions get requires_grad inside the training step; minibatch loss that wiggles late in a cosine schedule

A machine-learned interatomic potential in miniature. The network maps every interatomic
distance to a pair energy (a smooth SiLU MLP with a cosine cutoff) and sums them; forces are
the negative gradient of the predicted energy with respect to the positions, obtained with
torch.autograd.grad(..., create_graph=True) so the force error can itself be
back-propagated (a double backward through the MLP). The loss is w_E * MSE(E) + w_F *
MSE(F) with unnormalised energies (the energy offset is ~-20), so the energy term dominates
the first steps; after the offset e0 is learned the force term dominates. Positions get
requires_grad_ each step only to differentiate the energy, they are not parameters.
Validation: energy MAE 0.06 (energy std 1.02), force MAE 0.14 (force std 1.74).
Measured: val_force_mae=0.1409 (seed 1: 0.1038; seed 2: 0.1230)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_AT, R_CUT = 8, 3.0
D_E, A_M, R_E = 1.0, 1.5, 1.2          # Morse parameters


def morse_energy_forces(pos):
    p = torch.tensor(pos, dtype=torch.float64, requires_grad=True)
    d = (p[:, :, None] - p[:, None, :]).norm(dim=-1)
    iu = torch.triu_indices(N_AT, N_AT, 1)
    r = d[:, iu[0], iu[1]]
    e = (D_E * (1 - torch.exp(-A_M * (r - R_E))) ** 2 - D_E).sum(-1)
    f = -torch.autograd.grad(e.sum(), p)[0]
    return e.detach().float(), f.float()


def make_clusters(n, rng):
    # jittered points on a loose lattice so that no two atoms overlap
    base = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)], float) * 1.25
    pos = base[None] + rng.normal(scale=0.15, size=(n, N_AT, 3))
    return pos


rng = np.random.default_rng(SEED)
pos_tr, pos_va = make_clusters(1200, rng), make_clusters(300, rng)
E_tr, F_tr = morse_energy_forces(pos_tr)
E_va, F_va = morse_energy_forces(pos_va)
P_tr = torch.tensor(pos_tr, dtype=torch.float32)
P_va = torch.tensor(pos_va, dtype=torch.float32)
IU = torch.triu_indices(N_AT, N_AT, 1)


class PairPotential(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden),
                                 nn.SiLU(), nn.Linear(hidden, 1))
        self.e0 = nn.Parameter(torch.zeros(()))

    def forward(self, pos):
        r = (pos[:, :, None] - pos[:, None, :]).norm(dim=-1)[:, IU[0], IU[1]]     # (B, P)
        cutoff = 0.5 * (torch.cos(torch.pi * (r / R_CUT).clamp(max=1.0)) + 1.0)
        pair = self.mlp(r.unsqueeze(-1)).squeeze(-1) * cutoff
        return pair.sum(-1) + self.e0


def energy_and_forces(model, pos, create_graph):
    pos = pos.clone().requires_grad_(True)
    e = model(pos)
    f = -torch.autograd.grad(e.sum(), pos, create_graph=create_graph)[0]
    return e, f


model = PairPotential()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=600)
W_E, W_F = 1.0, 10.0
BATCH = 64

step = 0
while step < 600:
    perm = torch.randperm(len(P_tr))
    for i in range(0, len(P_tr), BATCH):
        idx = perm[i:i + BATCH]
        e, f = energy_and_forces(model, P_tr[idx], create_graph=True)
        loss_e = F.mse_loss(e, E_tr[idx])
        loss_f = F.mse_loss(f, F_tr[idx])
        loss = W_E * loss_e + W_F * loss_f
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0:
            print(f"step {step:4d} loss {loss.item():9.4f} E-term {W_E * loss_e.item():9.4f} "
                  f"F-term {W_F * loss_f.item():.4f}")
        step += 1
        if step >= 600:
            break

e, f = energy_and_forces(model, P_va, create_graph=False)
val_force_mae = (f - F_va).abs().mean().item()
val_energy_mae = (e.detach() - E_va).abs().mean().item()
print(f"val energy MAE {val_energy_mae:.4f}  (energy std {E_va.std():.3f})  "
      f"val force MAE {val_force_mae:.4f}  (force std {F_va.std():.3f})")
print(f"NNDOCTOR_METRIC val_force_mae={val_force_mae:.4f} lower")
