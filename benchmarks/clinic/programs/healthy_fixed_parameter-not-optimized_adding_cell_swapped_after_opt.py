"""GRU on the adding problem; the recurrent cell is swapped (RNN -> GRU) after the optimizer was built, so the GRU never learns.
expect: healthy
trap: the fixed version of a faulty held-out program

The script builds the model with a default nn.RNN cell, creates the optimizer, and then, per the
config ("cell": "gru"), replaces model.rnn with a fresh nn.GRU. The optimizer still holds the old
RNN's parameters (no longer in the graph) and not the GRU's, so the GRU's weights get gradients
every step but stay at their random init; only the input projection and the readout learn. A
random, frozen GRU cannot store the two marked values, so the adding-task MSE stays near the
variance baseline. Fix: build the optimizer after the cell swap.
Measured: faulty val_mse=0.1510 vs fixed val_mse=0.0010; seeds 1/2: 0.1500 vs 0.0003, 0.1521 vs 0.0021
"""
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)

CFG = dict(seed=0, seq_len=25, hidden=32, batch=64, steps=300, lr=3e-3, cell="gru")


def adding_batch(n, T, gen):
    vals = torch.rand(n, T, generator=gen)
    mask = torch.zeros(n, T)
    a = torch.randint(0, T // 2, (n,), generator=gen)
    b = torch.randint(T // 2, T, (n,), generator=gen)
    mask[torch.arange(n), a] = 1.0
    mask[torch.arange(n), b] = 1.0
    x = torch.stack([vals, mask], dim=-1)
    y = (vals * mask).sum(1, keepdim=True)
    return x, y


class Net(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.inp = nn.Linear(2, hidden)
        self.rnn = nn.RNN(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.rnn(self.inp(x))
        return self.head(h[:, -1])


def main(cfg):
    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    gen = torch.Generator().manual_seed(cfg["seed"])
    model = Net(cfg["hidden"])
    if cfg["cell"] == "gru":
        model.rnn = nn.GRU(cfg["hidden"], cfg["hidden"], batch_first=True)
    elif cfg["cell"] == "lstm":
        model.rnn = nn.LSTM(cfg["hidden"], cfg["hidden"], batch_first=True)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    loss_fn = nn.MSELoss()
    for step in range(cfg["steps"]):
        x, y = adding_batch(cfg["batch"], cfg["seq_len"], gen)
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step} mse {loss.item():.4f}")
    model.eval()
    vgen = torch.Generator().manual_seed(999)
    with torch.no_grad():
        x, y = adding_batch(1000, cfg["seq_len"], vgen)
        val = loss_fn(model(x), y).item()
    print(f"NNDOCTOR_METRIC val_mse={val:.4f} lower")


if __name__ == "__main__":
    main(CFG)
