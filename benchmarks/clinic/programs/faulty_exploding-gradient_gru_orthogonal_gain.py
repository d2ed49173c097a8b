"""A GRU regressor on 150-step sequences, recurrent weights initialised orthogonal with gain 2, plain SGD, no clipping.

expect: exploding-gradient
allow: non-finite, loss-not-decreasing, learning-rate-too-high, poor-initialization, saturated-activation

The task is to read a long noisy sequence and output its (scaled) sum. The author
initialised each of the three recurrent gate blocks with `nn.init.orthogonal_(w, gain=2.0)`
"so the memory does not fade over 150 steps" and trains with SGD at lr=0.1 without
gradient clipping. The first ~20 steps look normal (global gradient norm between ~0.3 and
~5, the loss falls from 1.8 to ~0.9), then backpropagation through 150 steps of the
amplifying recurrence takes over: the gradient norm is ~10-16 at steps 30-36, ~1e2 at step
39, ~1e6 at step 42, ~1e15 by step 54 and inf/NaN from step ~57; the loss goes from ~1 at
step 35 to 1e5 at step 45 and NaN at step 70. The same loop with
clip_grad_norm_(..., 1.0) trains stably (loss ~0.6 at step 75).
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

SEQ_LEN, HIDDEN, BATCH, STEPS = 150, 64, 32, 80


class SequenceRegressor(nn.Module):
    def __init__(self, hidden=HIDDEN, recurrent_gain=2.0):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)
        with torch.no_grad():
            for block in self.gru.weight_hh_l0.chunk(3, dim=0):
                nn.init.orthogonal_(block, gain=recurrent_gain)

    def forward(self, x):
        seq, _ = self.gru(x)
        return self.out(seq[:, -1])


def make_batch(n):
    x = torch.randn(n, SEQ_LEN, 1)
    return x, x.sum(dim=1) / SEQ_LEN ** 0.5


model = SequenceRegressor()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.MSELoss()

for step in range(STEPS):
    x, y = make_batch(BATCH)
    loss = loss_fn(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 5 == 0:
        print(f"step {step:3d}  loss {loss.item():.4g}")

torch.manual_seed(1234)  # a fresh evaluation batch, the same for every run
x_eval, y_eval = make_batch(512)
with torch.no_grad():
    print(f"NNDOCTOR_METRIC mse={loss_fn(model(x_eval), y_eval).item():.4f} lower")
