"""GRU encoder-decoder learning to reverse digit strings; the encoder state is "repackaged" (detached) before the decoder.
expect: broken-gradient-flow

The training loop was adapted from a word-level LM script that uses truncated BPTT, and its
`repackage_hidden(h)` helper (`h.detach()`) is applied to the encoder's final state before it
initialises the decoder. The loss is computed only on the decoder outputs, so the graph is cut
right there: the source embedding and the encoder GRU get no gradient at all and stay at their
random init. The decoder has to read the reversed string out of a random, untrained summary.
Measured: faulty val_seq_acc=0.1140 vs fixed val_seq_acc=0.5400 (exact-match of the 7 reversed digits)
(seed 1: 0.1400 vs 0.5890; seed 2: 0.2180 vs 0.5210; 500 steps)
"""
import time

import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_DIGITS = 10
BOS = N_DIGITS          # decoder start token
SRC_V, TGT_V = N_DIGITS, N_DIGITS + 1
SEQ_LEN = 7
EMB, HID = 32, 64
BATCH, STEPS, LR = 64, 500, 5e-3


def make_batch(n, gen):
    src = torch.randint(0, N_DIGITS, (n, SEQ_LEN), generator=gen)
    tgt = src.flip(1)
    return src, tgt


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(SRC_V, EMB)
        self.rnn = nn.GRU(EMB, HID, batch_first=True)

    def forward(self, src):
        outputs, hidden = self.rnn(self.embedding(src))
        return outputs, hidden


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(TGT_V, EMB)
        self.rnn = nn.GRU(EMB, HID, batch_first=True)
        self.out = nn.Linear(HID, N_DIGITS)

    def forward(self, inp, hidden):
        output, hidden = self.rnn(self.embedding(inp), hidden)
        return self.out(output), hidden


encoder, decoder = Encoder(), Decoder()
params = list(encoder.parameters()) + list(decoder.parameters())
optimizer = torch.optim.Adam(params, lr=LR)
criterion = nn.CrossEntropyLoss()


def shift_right(tgt):
    bos = torch.full((tgt.size(0), 1), BOS, dtype=torch.long)
    return torch.cat([bos, tgt[:, :-1]], dim=1)


@torch.no_grad()
def greedy_decode(src):
    _, hidden = encoder(src)
    inp = torch.full((src.size(0), 1), BOS, dtype=torch.long)
    preds = []
    for _ in range(SEQ_LEN):
        logits, hidden = decoder(inp, hidden)
        inp = logits.argmax(-1)
        preds.append(inp)
    return torch.cat(preds, dim=1)


train_gen = torch.Generator().manual_seed(SEED)
val_src, val_tgt = make_batch(1000, torch.Generator().manual_seed(SEED + 1000))

t0 = time.time()
for step in range(1, STEPS + 1):
    encoder.train(); decoder.train()
    src, tgt = make_batch(BATCH, train_gen)
    _, enc_hidden = encoder(src)
    dec_hidden = repackage_hidden(enc_hidden)
    # teacher forcing: feed the gold previous digit
    logits, _ = decoder(shift_right(tgt), dec_hidden)
    loss = criterion(logits.reshape(-1, N_DIGITS), tgt.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    if step % 100 == 0:
        encoder.eval(); decoder.eval()
        pred = greedy_decode(val_src)
        tok_acc = (pred == val_tgt).float().mean().item()
        seq_acc = (pred == val_tgt).all(1).float().mean().item()
        print(f"step {step:4d} loss {loss.item():.4f} val_tok_acc {tok_acc:.4f} val_seq_acc {seq_acc:.4f}")

print(f"trained in {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_seq_acc={seq_acc:.4f} higher")
