"""LSTM forecaster for noisy damped oscillators (next-step prediction).

expect: exploding-gradient
allow: learning-rate-too-high, non-finite, loss-not-decreasing, dead-relu, saturated-activation

Bug: an nn.LSTM is trained with Nesterov SGD (lr=0.5, momentum=0.9) on 60-step
sequences, back-propagating through the whole sequence, and the script never
clips gradients. A few momentum steps push the recurrent weights into an
unstable regime; the BPTT gradient norm grows from ~0.55 to ~580 by step 10
(>1000x) and then to inf/NaN, so the weights are destroyed.
Measured: faulty val_mse=1e+06 (training went NaN; grad norm 0.55 -> 63 at step 9 -> 582 at step 10 -> inf)
vs fixed val_mse=0.0071 (raw grad norm stays <= 2.7).
"""
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)

SEQ_LEN = 60
HIDDEN = 64
BATCH = 32
STEPS = 300
LR = 0.5


def make_oscillators(n, seq_len):
    """Noisy damped oscillators, each with its own frequency and damping."""
    omega = 0.1 + 0.3 * torch.rand(n)
    damp = 0.97 + 0.03 * torch.rand(n)
    a1, a2 = 2 * damp * torch.cos(omega), -damp ** 2
    s = torch.zeros(n, seq_len + 1)
    s[:, 0], s[:, 1] = torch.randn(n), torch.randn(n)
    for t in range(2, seq_len + 1):
        s[:, t] = a1 * s[:, t - 1] + a2 * s[:, t - 2] + 0.05 * torch.randn(n)
    return s


series = make_oscillators(2560, SEQ_LEN)
series = series / series[:2048].std()
x_all, y_all = series[:, :-1].unsqueeze(-1), series[:, 1:].unsqueeze(-1)
x_train, y_train = x_all[:2048], y_all[:2048]
x_val, y_val = x_all[2048:], y_all[2048:]


class Forecaster(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


model = Forecaster(HIDDEN)
optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, nesterov=True)
loss_fn = nn.MSELoss()

for step in range(STEPS):
    idx = torch.randint(0, x_train.size(0), (BATCH,))
    pred = model(x_train[idx])
    loss = loss_fn(pred, y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"step {step:4d}  train_mse {loss.item():.4f}")

model.eval()
with torch.no_grad():
    val_mse = loss_fn(model(x_val), y_val).item()
if not torch.isfinite(torch.tensor(val_mse)):
    val_mse = 1e6
print(f"NNDOCTOR_METRIC val_mse={val_mse:.5g} lower")
