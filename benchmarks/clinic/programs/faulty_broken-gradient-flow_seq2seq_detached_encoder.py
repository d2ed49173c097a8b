"""Teacher-forced GRU seq2seq (reverse a digit string) where the encoder state is .detach()ed before the decoder.

expect: broken-gradient-flow
allow: loss-not-decreasing

A classic encoder-decoder without attention: the encoder GRU reads 6 digits, its final hidden
state initializes the decoder GRU, which is trained with full teacher forcing to emit the
digits in reverse order followed by EOS.  The author reused a helper from a truncated-BPTT
language model, `repackage_hidden(h)`, which returns h.detach() "so we don't backprop into
the previous batch", and applied it to the encoder state on the way into the decoder.  The
loss therefore never reaches the source Embedding or the encoder GRU (they require grad, are
in the optimizer, but their .grad stays None): the decoder must decode from the random,
untrained encoder's features.
Measured (greedy-decoding exact-sequence accuracy, 20 epochs): faulty 0.1740 vs fixed 0.7460
(token accuracy 0.7337 vs 0.9171)
(fixed = no detach, fixed/f_seq2seq_detached_encoder_fixed.py).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)

L = 6
BOS, EOS = 10, 11
V = 12


def make(n, g):
    src = torch.randint(0, 10, (n, L), generator=g)
    tgt = torch.cat([src.flip(1), torch.full((n, 1), EOS)], dim=1)
    return src, tgt


g = torch.Generator().manual_seed(0)
src_tr, tgt_tr = make(3000, g)
src_te, tgt_te = make(500, g)


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


class Encoder(nn.Module):
    def __init__(self, d=48):
        super().__init__()
        self.emb = nn.Embedding(10, d)
        self.rnn = nn.GRU(d, d, batch_first=True)

    def forward(self, src):
        out, h = self.rnn(self.emb(src))
        return out, h


class Decoder(nn.Module):
    def __init__(self, d=48):
        super().__init__()
        self.emb = nn.Embedding(V, d)
        self.rnn = nn.GRU(d, d, batch_first=True)
        self.out = nn.Linear(d, V)

    def forward(self, inp, h):
        o, h = self.rnn(self.emb(inp), h)
        return self.out(o), h


enc, dec = Encoder(), Decoder()
params = list(enc.parameters()) + list(dec.parameters())
opt = torch.optim.Adam(params, lr=3e-3)
BS = 64

for epoch in range(20):
    enc.train()
    dec.train()
    perm = torch.randperm(len(src_tr))
    for s in range(0, len(src_tr), BS):
        idx = perm[s:s + BS]
        src, tgt = src_tr[idx], tgt_tr[idx]
        _, h = enc(src)
        h = repackage_hidden(h)
        dec_in = torch.cat([torch.full((len(idx), 1), BOS), tgt[:, :-1]], dim=1)  # teacher forcing
        logits, _ = dec(dec_in, h)
        loss = F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")

enc.eval()
dec.eval()
with torch.no_grad():
    _, h = enc(src_te)
    inp = torch.full((len(src_te), 1), BOS)
    preds = []
    for t in range(L + 1):
        logits, h = dec(inp, h)
        inp = logits.argmax(-1)
        preds.append(inp)
    pred = torch.cat(preds, 1)
    tok_acc = (pred == tgt_te).float().mean().item()
    seq_acc = (pred == tgt_te).all(1).float().mean().item()
print(f"token acc {tok_acc:.4f}")
print(f"NNDOCTOR_METRIC seq_acc={seq_acc:.4f} higher")
