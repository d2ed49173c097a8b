"""GRU encoder-decoder that learns to reverse variable-length token sequences, trained with teacher forcing; padded target positions use ignore_index.

expect: healthy
trap: seq2seq with teacher forcing (the decoder is fed the shifted gold targets), padding token 0 in the inputs and -100 in the targets (CrossEntropyLoss ignore_index), packed-free masking, clipping

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
Synthetic data: sequences of 3..7 tokens from a vocabulary of 10 (ids 3..12), target = reversed.
Trains well: teacher-forced token accuracy 0.90 after 300 steps (chance 0.1).
"""
import torch
import torch.nn as nn

torch.manual_seed(0)
PAD, BOS, EOS, VOCAB, MAXLEN = 0, 1, 2, 13, 7


def make_batch(n):
    lengths = torch.randint(3, MAXLEN + 1, (n,))
    pos = torch.arange(MAXLEN).expand(n, MAXLEN)
    valid = pos < lengths[:, None]
    src = torch.where(valid, torch.randint(3, VOCAB, (n, MAXLEN)), torch.full_like(pos, PAD))
    # reversed sequence: position j holds src[L-1-j]
    rev_idx = (lengths[:, None] - 1 - pos).clamp(min=0)
    rev = torch.where(valid, src.gather(1, rev_idx), torch.full_like(pos, PAD))
    dec_in = torch.cat([torch.full((n, 1), BOS), rev], 1)
    tgt = torch.cat([torch.where(valid, rev, torch.full_like(pos, -100)), torch.full((n, 1), -100)], 1)
    tgt[torch.arange(n), lengths] = EOS
    return src, dec_in, tgt


class Seq2Seq(nn.Module):
    def __init__(self, d=48):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d, padding_idx=PAD)
        self.encoder = nn.GRU(d, d, batch_first=True)
        self.decoder = nn.GRU(d, d, batch_first=True)
        self.out = nn.Linear(d, VOCAB)

    def forward(self, src, dec_in):
        _, h = self.encoder(self.embed(src))
        y, _ = self.decoder(self.embed(dec_in), h)
        return self.out(y)


model = Seq2Seq()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.CrossEntropyLoss(ignore_index=-100)

for step in range(300):
    src, dec_in, tgt = make_batch(64)
    logits = model(src, dec_in)
    loss = criterion(logits.reshape(-1, VOCAB), tgt.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

src, dec_in, tgt = make_batch(500)
with torch.no_grad():
    pred = model(src, dec_in).argmax(-1)
mask = tgt != -100
print(f"teacher-forced token accuracy {(pred[mask] == tgt[mask]).float().mean().item():.3f}")
