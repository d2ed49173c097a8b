"""A vanilla (Elman) RNN summing long noisy sequences, with a too-large recurrent init.

expect: exploding-gradient
allow: learning-rate-too-high, non-finite, loss-not-decreasing, saturated-activation, poor-initialization

The recurrent matrix is drawn with std 1.5/sqrt(hidden) (spectral radius ~1.5, the user
"wanted longer memory"), the sequences are 60 steps long and training uses plain SGD with
lr=0.05 and no clipping. Backpropagation through time multiplies by W_hh sixty times, and
each update makes it worse: the gradient norm goes from ~40 to ~1e4 within ten steps, ~1e7
within twenty, ~1e17 by step 40, then inf and NaN. (The same loop with PyTorch's default
recurrent init never exceeds ~13; clip_grad_norm_ or an LSTM/GRU also fix it.)
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

SEQ_LEN, HIDDEN, BATCH = 60, 64, 32


class Summer(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(input_size=1, hidden_size=HIDDEN, batch_first=True)
        self.readout = nn.Linear(HIDDEN, 1)
        with torch.no_grad():
            self.rnn.weight_hh_l0.normal_(0.0, 1.5 / HIDDEN ** 0.5)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.readout(out[:, -1])


def batch():
    x = torch.randn(BATCH, SEQ_LEN, 1)
    return x, x.sum(dim=1) / SEQ_LEN ** 0.5


model = Summer()
opt = torch.optim.SGD(model.parameters(), lr=0.05)

for it in range(100):
    x, y = batch()
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if it % 10 == 0:
        print(f"iter {it:3d} loss {loss.item():.4g}")

torch.manual_seed(1234)  # a fresh evaluation batch, the same for every run
x_eval, y_eval = batch()
with torch.no_grad():
    print(f"NNDOCTOR_METRIC mse={nn.functional.mse_loss(model(x_eval), y_eval).item():.4f} lower")
