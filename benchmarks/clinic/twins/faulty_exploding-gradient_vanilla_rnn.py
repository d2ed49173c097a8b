"""Healthy twin of faulty_exploding-gradient_vanilla_rnn.py: gradients clipped (clip_grad_norm_, 1.0).
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
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if it % 10 == 0:
        print(f"iter {it:3d} loss {loss.item():.4g}")

torch.manual_seed(1234)  # a fresh evaluation batch, the same for every run
x_eval, y_eval = batch()
with torch.no_grad():
    print(f"NNDOCTOR_METRIC mse={nn.functional.mse_loss(model(x_eval), y_eval).item():.4f} lower")
