"""Hand-written LSTM cell (torch.sigmoid / torch.tanh gates) that must remember the first symbol of a sequence.

expect: healthy
trap: LSTM nonlinearities written with torch.sigmoid / torch.tanh saturate by design -- after training ~55-70% of the candidate values tanh(g) and ~35-60% of tanh(c) are beyond |0.99| -- and the forget-gate bias is initialised to +1 on purpose (Jozefowicz et al. 2015)

Sequences of 15 one-hot symbols; the label is the first symbol, the rest are random
distractors.  The cell learns to write the first symbol into its memory as a near-binary code
and then hold it: candidate values pinned at +-1 and a saturated cell readout are how an LSTM
stores a discrete symbol, not a malfunction (the sigmoid gates themselves stay mostly in range,
2-14% saturated).  Trained with Adam and gradient clipping, it solves the task (100% validation
accuracy, train loss 0.002) within a few epochs.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N_SYMBOLS, SEQ_LEN, HIDDEN = 6, 15, 48


class LSTMCellScratch(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.hidden = hidden
        self.x2g = nn.Linear(n_in, 4 * hidden)
        self.h2g = nn.Linear(hidden, 4 * hidden, bias=False)
        with torch.no_grad():
            self.x2g.bias.zero_()
            self.x2g.bias[hidden:2 * hidden].fill_(1.0)  # forget-gate bias = 1

    def forward(self, x, state):
        h, c = state
        gates = self.x2g(x) + self.h2g(h)
        i, f, g, o = gates.chunk(4, dim=1)
        i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
        g = torch.tanh(g)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c


class FirstSymbolClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = LSTMCellScratch(N_SYMBOLS, HIDDEN)
        self.out = nn.Linear(HIDDEN, N_SYMBOLS)

    def forward(self, seq):  # seq: (batch, time, N_SYMBOLS)
        h = seq.new_zeros(seq.shape[0], HIDDEN)
        c = seq.new_zeros(seq.shape[0], HIDDEN)
        for t in range(seq.shape[1]):
            h, c = self.cell(seq[:, t], (h, c))
        return self.out(h)


def make_data(n, generator):
    symbols = torch.randint(0, N_SYMBOLS, (n, SEQ_LEN), generator=generator)
    return F.one_hot(symbols, N_SYMBOLS).float(), symbols[:, 0]


g = torch.Generator().manual_seed(0)
X_train, y_train = make_data(2000, g)
X_val, y_val = make_data(500, g)

model = FirstSymbolClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(7):
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 64):
        idx = perm[i:i + 64]
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    with torch.no_grad():
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1}: train loss {loss.item():.4f}  val acc {val_acc:.3f}")
