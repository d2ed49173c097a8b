"""An LSTM forecasting the next point of noisy sine waves with random frequency and phase.

expect: healthy
trap: recurrent net (LSTM) -- saturating sigmoid/tanh gates, parameters shared over 30 time steps; clip_grad_norm_(1.0) capping transient spikes (raw grad norm ~0.3 early, up to ~12 around steps 40-100, clipped on ~56 of 200 steps)
"""
import math

import torch
import torch.nn as nn

torch.manual_seed(0)

SEQ_LEN = 30


def make_waves(n):
    freq = torch.rand(n, 1) * 0.25 + 0.05
    phase = torch.rand(n, 1) * 2 * math.pi
    t = torch.arange(SEQ_LEN + 1).float()
    waves = torch.sin(2 * math.pi * freq * t + phase) + 0.05 * torch.randn(n, SEQ_LEN + 1)
    return waves[:, :-1].unsqueeze(-1), waves[:, -1:]


class Forecaster(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.fc(out[:, -1])


model = Forecaster()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.MSELoss()
X_val, y_val = make_waves(500)

for step in range(200):
    x, y = make_waves(64)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 40 == 0 or step == 199:
        with torch.no_grad():
            val = loss_fn(model(X_val), y_val).item()
        print(f"step {step:3d}  train mse {loss.item():.4f}  val mse {val:.4f}")
print(f"(predicting 0 gives mse {y_val.pow(2).mean().item():.3f})")
