"""FIXED version: Packed variable-length LSTM sentiment-style classifier whose gradient-accumulation loop zeroes grads only once per epoch.

expect: healthy
(fixed counterpart of ../f_lstm_packed_accum_nozero.py, which expects gradient-not-zeroed)

Token sequences (length 5..50, vocab 1..30, 0 = pad) get label 1 when the sum of hidden
per-token polarities is positive.  An Embedding + LSTM (pack_padded_sequence, enforce_sorted=
False) + linear head is trained with gradient accumulation over 4 micro-batches of 16.  The
author put optimizer.zero_grad() at the top of the epoch loop instead of after each
optimizer.step(), so inside an epoch every step's gradient is the running sum of all previous
micro-batches' gradients: each step keeps pushing in the stale direction of the first batches
(clip_grad_norm_ rescales the sum but cannot remove the stale part), and SGD with momentum
overshoots and oscillates.
Measured (test accuracy after 6 epochs): faulty 0.6800 vs fixed 0.9650
(fixed = optimizer.zero_grad() right after each optimizer.step(), fixed/f_lstm_packed_accum_nozero_fixed.py).
"""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

VOCAB = 31
rng = np.random.default_rng(0)
polarity = rng.normal(0, 1, size=VOCAB)
polarity[0] = 0.0


def make(n):
    seqs, lens, ys = [], [], []
    for _ in range(n):
        L = int(rng.integers(5, 51))
        toks = rng.integers(1, VOCAB, size=L)
        seqs.append(torch.tensor(toks))
        lens.append(L)
        ys.append(float(polarity[toks].sum() > 0))
    return pad_sequence(seqs, batch_first=True), torch.tensor(lens), torch.tensor(ys)


Xtr, Ltr, ytr = make(2400)
Xte, Lte, yte = make(400)


class LSTMClassifier(nn.Module):
    def __init__(self, emb=16, hidden=32):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.fc(h[-1]).squeeze(-1)


model = LSTMClassifier()
opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
lossf = nn.BCEWithLogitsLoss()
ACCUM, MICRO = 4, 16

for epoch in range(6):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i, s in enumerate(range(0, len(Xtr), MICRO)):
        idx = perm[s:s + MICRO]
        loss = lossf(model(Xtr[idx], Ltr[idx]), ytr[idx]) / ACCUM
        loss.backward()
        if (i + 1) % ACCUM == 0:
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
    print(f"epoch {epoch} loss {loss.item() * ACCUM:.4f}")

model.eval()
with torch.no_grad():
    acc = ((model(Xte, Lte) > 0).float() == yte).float().mean().item()
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
