"""Tiny single-head self-attention classifier on variable-length token sequences (majority-vs-parity toy task) with padding masks.
expect: healthy
trap: frozen sinusoidal positional table (nn.Embedding with requires_grad=False) is not a parameter-not-optimized/broken-gradient-flow case; padding positions are filled with -inf before softmax (never a whole row, so no NaN); padded token id 0 gives zero-gradient embedding rows (padding_idx); integer token inputs (no normalization needed); dropout with eval()/no_grad validation every epoch followed by model.train(); converges within 2 epochs, so gradients are tiny afterwards (converged, not vanishing).

Sequences of length 8..24 over tokens {1..6} are padded with 0 to 24. Label: whether token 1
appears more often than token 2. Attention pooling uses a key-padding mask; the positional table
is deliberately frozen; validation runs in eval mode under no_grad and training mode is restored.
Measured: val_acc=1.0000
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

CFG = dict(seed=0, n_train=3000, n_val=600, max_len=24, vocab=7, d=32, batch=64, epochs=5,
           lr=2e-3, dropout=0.1)


def make_data(n, cfg, rng):
    X = np.zeros((n, cfg["max_len"]), dtype=np.int64)
    y = np.zeros(n, dtype=np.int64)
    for i in range(n):
        L = rng.integers(8, cfg["max_len"] + 1)
        toks = rng.integers(1, cfg["vocab"], size=L)
        X[i, :L] = toks
        y[i] = int((toks == 1).sum() > (toks == 2).sum())
    return torch.from_numpy(X), torch.from_numpy(y)


def sinusoid_table(n, d):
    pos = torch.arange(n)[:, None].float()
    div = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class AttnClassifier(nn.Module):
    def __init__(self, vocab, d, max_len, p):
        super().__init__()
        self.tok = nn.Embedding(vocab, d, padding_idx=0)
        self.pos = nn.Embedding.from_pretrained(sinusoid_table(max_len, d), freeze=True)
        self.qkv = nn.Linear(d, 3 * d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Dropout(p), nn.Linear(2 * d, d))
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.query = nn.Parameter(torch.randn(d) * 0.1)
        self.head = nn.Linear(d, 2)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        pad = x == 0
        h = self.tok(x) + self.pos(torch.arange(x.size(1)))[None]
        q, k, v = self.qkv(self.norm1(h)).chunk(3, dim=-1)
        att = q @ k.transpose(1, 2) / math.sqrt(q.size(-1))
        att = att.masked_fill(pad[:, None, :], float("-inf")).softmax(-1)
        h = h + self.drop(att @ v)
        h = h + self.ff(self.norm2(h))
        score = (h @ self.query).masked_fill(pad, float("-inf")).softmax(-1)
        return self.head((score[..., None] * h).sum(1))


def main(cfg):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    Xtr, ytr = make_data(cfg["n_train"], cfg, rng)
    Xva, yva = make_data(cfg["n_val"], cfg, rng)
    model = AttnClassifier(cfg["vocab"], cfg["d"], cfg["max_len"], cfg["dropout"])
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg["lr"])
    for epoch in range(cfg["epochs"]):
        model.train()
        perm = torch.randperm(len(Xtr))
        tot = 0.0
        for i in range(0, len(Xtr), cfg["batch"]):
            idx = perm[i:i + cfg["batch"]]
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            logits = model(Xva)
            vloss = F.cross_entropy(logits, yva).item()
            acc = (logits.argmax(1) == yva).float().mean().item()
        model.train()
        print(f"epoch {epoch} train {tot / len(Xtr):.4f} val {vloss:.4f} acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main(CFG)
