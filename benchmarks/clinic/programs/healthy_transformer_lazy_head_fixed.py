"""Fixed version of f6_transformer_lazy_head.py: run one dry forward pass to materialize the lazy head before building the optimizer.

expect: healthy

Measured: val_mse=0.0549
"""
import math
import torch
import torch.nn as nn
from torch.utils.data import Dataset, DataLoader

torch.manual_seed(0)
torch.set_num_threads(1)

T = 24


def make_sines(n):
    amp = 1 + 9 * torch.rand(n, 1)
    freq = 0.4 + 0.6 * torch.rand(n, 1)
    phase = 2 * math.pi * torch.rand(n, 1)
    t = torch.arange(T)[None].float()
    x = amp * torch.sin(freq * t + phase) + 0.5 * torch.randn(n, T)
    return (x / 5.0)[..., None], amp     # inputs roughly unit scale, target = amplitude


class SineDataset(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


Xtr, ytr = make_sines(1500)
Xva, yva = make_sines(500)
loader = DataLoader(SineDataset(Xtr, ytr), batch_size=48, shuffle=True, num_workers=0)


class TinyTransformer(nn.Module):
    def __init__(self, d_model=32):
        super().__init__()
        self.inp = nn.Linear(1, d_model)
        self.pos = nn.Parameter(0.02 * torch.randn(1, T, d_model))
        self.enc = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=64,
                                              dropout=0.0, batch_first=True)
        self.head = None  # built on first forward, once the feature width is known

    def forward(self, x):
        h = self.enc(self.inp(x) + self.pos).mean(1)
        if self.head is None:
            self.head = nn.Linear(h.shape[-1], 1)
        return self.head(h)


model = TinyTransformer()
with torch.no_grad():
    model(Xtr[:2])  # materialize the lazily-built head before creating the optimizer
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
loss_fn = nn.MSELoss()

for epoch in range(5):
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
