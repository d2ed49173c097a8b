"""An identity-initialised ReLU RNN (IRNN) forecasting the next value of noisy sine waves is trained with SGD+momentum and no gradient clipping, so its gradients explode.
expect: exploding-gradient
allow: learning-rate-too-high, dead-relu, loss-not-decreasing
The IRNN recipe (ReLU recurrence, W_hh = I) keeps the hidden state from decaying over the 30
steps, but it also means backpropagated gradients are multiplied by ~W_hh^T at every step and
can grow geometrically. The recipe relies on gradient clipping; this script omits it. Early in
training a batch produces a gradient norm of ~1e8, the resulting SGD step blows the recurrent
weights up, and the model never recovers: it ends up predicting roughly a constant (val MSE
~ the target variance). Adding clip_grad_norm_(..., 1.0) before optimizer.step() gives a
well-trained forecaster with the same LR and budget.
Measured: faulty val_mse=0.5422 vs fixed val_mse=0.0257
"""
import math
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader

torch.manual_seed(0)
torch.set_num_threads(1)

T = 30


def make_sines(n):
    freq = 0.5 + torch.rand(n, 1)
    amp = 0.5 + torch.rand(n, 1)
    phase = 2 * math.pi * torch.rand(n, 1)
    t = torch.arange(T + 1)[None] * 0.3
    s = amp * torch.sin(freq * t + phase)
    x = s[:, :T, None] + 0.05 * torch.randn(n, T, 1)
    return x, s[:, T:]          # predict the next (clean) value


Xtr, ytr = make_sines(2000)
Xva, yva = make_sines(500)
loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, num_workers=0)


class IRNN(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, nonlinearity="relu", batch_first=True)
        nn.init.eye_(self.rnn.weight_hh_l0)
        nn.init.zeros_(self.rnn.bias_hh_l0)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


model = IRNN()
opt = torch.optim.SGD(model.parameters(), lr=4e-3, momentum=0.9)
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
