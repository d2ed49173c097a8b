"""Tiny attention classifier (nn.MultiheadAttention with key_padding_mask, mean-pooling over real tokens) on synthetic token sequences: does the sequence contain token 7 more often than token 3?

expect: healthy
trap: padded token ids (the embedding's padding_idx row never gets gradient), masked attention, label smoothing, AdamW with a OneCycle schedule

Held out (second batch, written before reading the rules' thresholds).
Trains well: test accuracy 1.000 (chance ~0.5).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
PAD, VOCAB, MAXLEN = 0, 12, 16


def make(n):
    lengths = torch.randint(4, MAXLEN + 1, (n,))
    tok = torch.randint(1, VOCAB, (n, MAXLEN))
    pad = torch.arange(MAXLEN)[None, :] >= lengths[:, None]
    tok = tok.masked_fill(pad, PAD)
    y = ((tok == 7).sum(1) > (tok == 3).sum(1)).long()
    return tok, pad, y


class AttnClassifier(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d, padding_idx=PAD)
        self.attn = nn.MultiheadAttention(d, 4, batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, 2)

    def forward(self, tok, pad):
        h = self.embed(tok)
        a, _ = self.attn(h, h, h, key_padding_mask=pad)
        h = self.norm(h + a)
        keep = (~pad).float()[..., None]
        return self.out((h * keep).sum(1) / keep.sum(1))


Xtr, Ptr, ytr = make(4000)
Xte, Pte, yte = make(1000)
model = AttnClassifier()
STEPS = 400
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=STEPS)
for step in range(STEPS):
    idx = torch.randint(len(Xtr), (64,))
    loss = F.cross_entropy(model(Xtr[idx], Ptr[idx]), ytr[idx], label_smoothing=0.1)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 100 == 0:
        print(f"step {step}  loss {loss.item():.4f}")
with torch.no_grad():
    print(f"test acc {(model(Xte, Pte).argmax(1) == yte).float().mean().item():.3f}")
