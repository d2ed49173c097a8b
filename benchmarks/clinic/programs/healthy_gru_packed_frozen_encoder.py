"""Packed variable-length GRU encoder, pretrained on one task, then frozen (eval mode) under a new head.

expect: healthy
trap: a frozen, pretrained-like feature extractor: the embedding and GRU get requires_grad=False
and are put in eval mode while only the new head (with dropout, in train mode) learns; inputs
are integer token ids with padding_idx=0, so the embedding's gradient is legitimately sparse.

Sequences of 6..40 tokens (vocab 1..16, 0 = padding) are drawn with a random token mix.  Phase 1
trains Embedding + GRU (fed through pack_padded_sequence, enforce_sorted=False) + a 4-way head
to predict which of four token groups is most frequent.  Phase 2 freezes the encoder and
trains a fresh MLP head (with Dropout) for a different task: is group 0 more frequent than
group 1?  The encoder is called under requires_grad=False params, so only the head receives
gradients; the head is the only thing in the phase-2 optimizer.
Measured: phase-2 test accuracy 0.9075 (plain run); phase-1 (pretraining task) test accuracy 0.930.
"""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

VOCAB = 17  # 0 = pad
rng = np.random.default_rng(0)


def make_data(n):
    seqs, lens, ya, yb = [], [], [], []
    for _ in range(n):
        L = int(rng.integers(6, 41))
        w = rng.dirichlet(np.ones(4) * 0.7)
        groups = rng.choice(4, size=L, p=w)
        toks = 1 + groups * 4 + rng.integers(0, 4, size=L)
        counts = np.bincount(groups, minlength=4)
        seqs.append(torch.tensor(toks, dtype=torch.long))
        lens.append(L)
        ya.append(int(np.argmax(counts + rng.random(4) * 0.1)))
        yb.append(int(counts[0] > counts[1]))
    return pad_sequence(seqs, batch_first=True), torch.tensor(lens), torch.tensor(ya), torch.tensor(yb)


Xtr, Ltr, YAtr, YBtr = make_data(2000)
Xte, Lte, YAte, YBte = make_data(400)


class Encoder(nn.Module):
    def __init__(self, hidden=48):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 24, padding_idx=0)
        self.gru = nn.GRU(24, hidden, batch_first=True)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        return h[-1]


def batches(n, bs):
    perm = torch.randperm(n)
    for s in range(0, n, bs):
        yield perm[s:s + bs]


enc = Encoder()
pre_head = nn.Linear(48, 4)
opt = torch.optim.Adam(list(enc.parameters()) + list(pre_head.parameters()), lr=5e-3)
lossf = nn.CrossEntropyLoss()
for epoch in range(6):
    for idx in batches(len(Xtr), 64):
        loss = lossf(pre_head(enc(Xtr[idx], Ltr[idx])), YAtr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
with torch.no_grad():
    pre_acc = (pre_head(enc(Xte, Lte)).argmax(1) == YAte).float().mean().item()
print(f"phase 1 (pretrain) test acc {pre_acc:.3f}")

# ---- phase 2: freeze the encoder, train a new head for a new task
for p in enc.parameters():
    p.requires_grad_(False)
enc.eval()
head = nn.Sequential(nn.Linear(48, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))
opt2 = torch.optim.Adam(head.parameters(), lr=3e-3)
for epoch in range(10):
    head.train()
    for idx in batches(len(Xtr), 64):
        feats = enc(Xtr[idx], Ltr[idx])
        loss = lossf(head(feats), YBtr[idx])
        opt2.zero_grad()
        loss.backward()
        opt2.step()

head.eval()
with torch.no_grad():
    acc = (head(enc(Xte, Lte)).argmax(1) == YBte).float().mean().item()
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
