"""A GRU regressor on 150-step sequences, recurrent weights initialised orthogonal with gain 2.5, plain SGD, no clipping.

expect: exploding-gradient
allow: non-finite, loss-not-decreasing, learning-rate-too-high, poor-initialization, saturated-activation

The task is to read a long noisy sequence and output its (scaled) sum. The author
initialised each of the three recurrent gate blocks with `nn.init.orthogonal_(w, gain=2.5)`
"so the memory does not fade over 150 steps" and trains with SGD at lr=0.1 without
gradient clipping. Backpropagation through 150 steps of the amplifying recurrence takes over
within a few steps: at seed 0 the global gradient norm goes from ~10 at step 0 to ~6e2 at
step 3 and inf at step 8, then compounds by ~0.75 decades a step (1e10 at step 19, 1e18 at
step 31) until inf/NaN for good from step 32; the loss is 15 at step 5, 2.5e4 at step 10,
1e19 at step 20 and NaN from step 40. Over seeds 0-4 every run ends NaN (the first non-finite
gradient at steps 8-33). The same loop with clip_grad_norm_(..., 1.0) trains stably (test
MSE 0.94-1.06 over seeds 0-2; predicting 0 scores ~1).
(Measured on an AMD EPYC CPU, torch 2.13. With gain 2.0 the explosion was a matter of luck:
on an earlier machine it blew up by step ~57, here it never did over five seeds, so the gain was
raised until every seed explodes.)
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

SEQ_LEN, HIDDEN, BATCH, STEPS = 150, 64, 32, 80


class SequenceRegressor(nn.Module):
    def __init__(self, hidden=HIDDEN, recurrent_gain=2.5):
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
