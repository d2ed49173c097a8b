"""A GRU that estimates the frequency of short noisy sine sequences is trained with Adam at lr=5e-5, so in its 150-step budget it barely moves.
expect: learning-rate-too-low
allow: loss-not-decreasing
Each input is 20 samples of sin(f*t + phase) plus noise and the target is f (0.3..1.5). The
author chose lr=5e-5 to be "safe" with a recurrent net. Adam's per-step update is then about
5e-5 per weight, an update/weight ratio of ~5e-4, and after ~150 steps the validation MSE has only
crept from ~1.37 to ~1.20, still far above simply predicting the mean frequency (~0.12). The loss
curve is a slow straight line, not a plateau: the model is learning, just far too slowly. With
Adam's usual lr=3e-3 the same GRU reaches an MSE of a few thousandths in the same steps.
Measured: faulty val_mse=1.1980 vs fixed val_mse=0.0049
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
opt = torch.optim.Adam(model.parameters(), lr=5e-5)  # keep it small and safe for the RNN
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
