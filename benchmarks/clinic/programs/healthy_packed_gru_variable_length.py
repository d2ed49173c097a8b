"""GRU classifier over variable-length synthetic sequences using pack_padded_sequence: is the count of positive values larger than the count of negative ones?

expect: healthy
trap: packed sequences (the padding never enters the GRU), lengths sorted per batch, the last hidden state of each sequence as the summary, Adam + clipping

Held out (second batch, written before reading the rules' thresholds).
Trains well: test accuracy 0.82 after 250 steps (the majority class is ~0.6: ties count as "not larger").
"""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence

torch.manual_seed(0)
MAXLEN = 12


def make(n):
    lengths = torch.randint(3, MAXLEN + 1, (n,))
    x = torch.randn(n, MAXLEN, 1)
    mask = torch.arange(MAXLEN)[None, :] < lengths[:, None]
    x = x * mask[..., None]
    y = (((x[..., 0] > 0) & mask).sum(1) > ((x[..., 0] < 0) & mask).sum(1)).long()
    return x, lengths, y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 32, batch_first=True)
        self.out = nn.Linear(32, 2)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        return self.out(h[-1])


Xtr, Ltr, ytr = make(4000)
Xte, Lte, yte = make(1000)
model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.CrossEntropyLoss()
for step in range(250):
    idx = torch.randint(len(Xtr), (64,))
    loss = criterion(model(Xtr[idx], Ltr[idx]), ytr[idx])
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 100 == 0:
        print(f"step {step}  loss {loss.item():.4f}")
with torch.no_grad():
    print(f"test acc {(model(Xte, Lte).argmax(1) == yte).float().mean().item():.3f}")
