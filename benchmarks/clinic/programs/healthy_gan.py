"""A small GAN learning a correlated 2-D Gaussian; two models, two optimizers.

expect: healthy
trap: GAN -- fake.detach() for the discriminator step (the generator gets no gradient there by design); the generator step backpropagates through D, whose grads are cleared before its own step; adversarial losses that do not go monotonically down
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

LATENT = 8


MEAN = torch.tensor([2.0, -1.0])
MIX = torch.tensor([[0.8, 0.0], [0.6, 0.3]])       # cov = MIX @ MIX.T, correlation ~0.9


def real_batch(n):
    return torch.randn(n, 2) @ MIX.T + MEAN


G = nn.Sequential(nn.Linear(LATENT, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
D = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
ones, zeros = torch.ones(128, 1), torch.zeros(128, 1)

for it in range(300):
    real = real_batch(128)
    fake = G(torch.randn(128, LATENT))

    # discriminator step
    opt_d.zero_grad()
    d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
    d_loss.backward()
    opt_d.step()

    # generator step
    opt_g.zero_grad()
    g_loss = bce(D(fake), ones)
    g_loss.backward()
    opt_g.step()

    if it % 100 == 0 or it == 299:
        print(f"iter {it:3d}  d_loss {d_loss.item():.3f}  g_loss {g_loss.item():.3f}")

with torch.no_grad():
    samples = G(torch.randn(4000, LATENT))
target = real_batch(4000)
print("generated mean", [round(v, 2) for v in samples.mean(0).tolist()], " target", [round(v, 2) for v in target.mean(0).tolist()])
print("generated std ", [round(v, 2) for v in samples.std(0).tolist()], " target", [round(v, 2) for v in target.std(0).tolist()])
print(f"generated corr {torch.corrcoef(samples.T)[0, 1]:.2f}  target {torch.corrcoef(target.T)[0, 1]:.2f}")
