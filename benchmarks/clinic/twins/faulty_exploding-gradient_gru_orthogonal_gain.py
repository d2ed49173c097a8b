"""Healthy twin of faulty_exploding-gradient_gru_orthogonal_gain.py: gradients clipped (clip_grad_norm_, 1.0).
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
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 5 == 0:
        print(f"step {step:3d}  loss {loss.item():.4g}")

torch.manual_seed(1234)  # a fresh evaluation batch, the same for every run
x_eval, y_eval = make_batch(512)
with torch.no_grad():
    print(f"NNDOCTOR_METRIC mse={loss_fn(model(x_eval), y_eval).item():.4f} lower")
