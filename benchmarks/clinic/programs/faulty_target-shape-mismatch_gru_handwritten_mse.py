"""GRU regressor on noisy sequences with a hand-written MSE: prediction (N,) minus target (N, 1).

expect: target-shape-mismatch

The model squeezes its output to (N,), but the label was sliced from the table as
table[:, -1:], which keeps a column dimension: (N, 1). The hand-written
((pred - target) ** 2).mean() broadcasts to (N, N) with no warning at all, so the GRU is
trained to output the batch-average target for every sequence: train MSE stalls at ~0.35-0.4
(the target variance), test mean absolute error 0.52 for a target with std 0.63.
Fixed (target.view_as(pred) in mse()): test MSE 0.0065 vs 0.398, MAE 0.058 vs 0.520 here.
"""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
rng = np.random.default_rng(0)

SEQ_LEN = 20


def make_sequences(n):
    """Each sequence is a noisy sine wave; the target is its (random) amplitude times its frequency."""
    t = np.arange(SEQ_LEN)[None, :]
    amp = rng.uniform(0.5, 2.0, (n, 1))
    freq = rng.uniform(0.1, 0.5, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    x = amp * np.sin(freq * t + phase) + rng.normal(0, 0.1, (n, SEQ_LEN))
    table = np.concatenate([x, amp * freq * 3.0], axis=1)   # last column is the label
    return table.astype(np.float32)


train_table, test_table = make_sequences(1500), make_sequences(300)
x_train = torch.from_numpy(train_table[:, :-1]).unsqueeze(-1)      # (N, T, 1)
y_train = torch.from_numpy(train_table[:, -1:])                    # (N, 1)
x_test = torch.from_numpy(test_table[:, :-1]).unsqueeze(-1)
y_test = torch.from_numpy(test_table[:, -1:])


class SeqRegressor(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, h = self.gru(x)                      # h: (1, N, hidden)
        return self.head(h[-1]).squeeze(-1)     # (N,)


def mse(pred, target):
    return ((pred - target) ** 2).mean()


model = SeqRegressor()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for step in range(300):
    idx = torch.randint(0, len(x_train), (64,))
    loss = mse(model(x_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 299:
        with torch.no_grad():
            test_loss = mse(model(x_test), y_test).item()
        print(f"step {step:3d}  train mse {loss.item():.4f}  test mse {test_loss:.4f}")

with torch.no_grad():
    err = (model(x_test) - y_test.squeeze(1)).abs().mean().item()
print(f"test mean absolute error: {err:.4f}  (target std {y_test.std().item():.4f})")
