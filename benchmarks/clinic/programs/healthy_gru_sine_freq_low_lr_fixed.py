"""Fixed version of f2_gru_sine_freq_low_lr.py: raise the Adam learning rate from 5e-5 to 3e-3.

expect: healthy

Measured: val_mse=0.0049
"""
import math
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader

torch.manual_seed(0)
torch.set_num_threads(1)

SEQ_LEN = 20


def make_sines(n, T=SEQ_LEN):
    freq = 0.3 + 1.2 * torch.rand(n, 1)
    phase = 2 * math.pi * torch.rand(n, 1)
    t = torch.arange(T)[None].float()
    x = torch.sin(freq * t + phase) + 0.1 * torch.randn(n, T)
    return x[..., None], freq            # (n, T, 1), (n, 1)


Xtr, ytr = make_sines(1600)
Xva, yva = make_sines(500)
loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, num_workers=0)


class FreqGRU(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, h = self.gru(x)
        return self.head(h[-1])


model = FreqGRU()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.MSELoss()

for epoch in range(6):
    model.train()
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val_mse = loss_fn(model(Xva), yva).item()
    print(f"epoch {epoch} train {loss.item():.4f} val_mse {val_mse:.4f}")

print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
