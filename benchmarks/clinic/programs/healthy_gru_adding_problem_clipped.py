"""A GRU on the adding problem (sum the two marked values in a 40-step sequence), with gradient clipping.

expect: healthy
trap: recurrent net (GRU) over 40 time steps -- saturating gates, parameters shared across time, a long-range dependency; clip_grad_norm_(0.5) applied every step (it caps the occasional spike); RMSprop; an MSE loss that sits on a plateau (~0.17, predicting the mean) for a while before it drops

Each input step is (value, marker): values are uniform in [0, 1], exactly two steps are
marked, and the target is the sum of the two marked values. Predicting the mean gives
MSE ~0.167; solving the task brings it well below that.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

SEQ_LEN, HIDDEN, BATCH = 40, 48, 64


def adding_batch(n):
    values = torch.rand(n, SEQ_LEN)
    markers = torch.zeros(n, SEQ_LEN)
    first = torch.randint(0, SEQ_LEN // 2, (n,))
    second = torch.randint(SEQ_LEN // 2, SEQ_LEN, (n,))
    markers[torch.arange(n), first] = 1.0
    markers[torch.arange(n), second] = 1.0
    target = (values * markers).sum(1, keepdim=True)
    return torch.stack([values, markers], dim=2), target


class GRURegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        _, h = self.gru(x)
        return self.head(h[-1])


model = GRURegressor()
opt = torch.optim.RMSprop(model.parameters(), lr=3e-3)
val_x, val_y = adding_batch(512)

for step in range(300):
    x, y = adding_batch(BATCH)
    loss = nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    if step % 50 == 0 or step == 299:
        with torch.no_grad():
            val = nn.functional.mse_loss(model(val_x), val_y).item()
        print(f"step {step:3d}  loss {loss.item():.4f}  val {val:.4f}  grad norm {norm.item():.3f}")
