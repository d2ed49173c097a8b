"""Word-level neural 4-gram LM with tied input/output embeddings on a 2000-word Zipfian Markov language.
expect: healthy
trap: initial loss ~ ln(2000) = 7.60; 75% of the vocabulary (1505 of 2000 words) never occurs in training, so those rows only ever get the small softmax push-down gradient; one weight matrix used twice (tied); loss falls fast then flattens well above 0 (source entropy 1.31)

The corpus is sampled from a seeded sparse Markov chain over V=2000 words whose successors
are drawn Zipf-like, so the head words dominate and the tail is rare or absent: only 495
words occur in the 40k training tokens. The output projection is the embedding matrix itself
(tied weights, as in Press & Wolf 2017), a single nn.Parameter used in two places: as an input
lookup it is touched only at the 3 context rows of each example, as the softmax matrix every
row gets a (mostly tiny) gradient; rows of never-seen words only drift slowly downward.
The first loss is ~ln(V), as it should be for a near-uniform initial predictor; it drops
quickly (7.6 -> 2.6 in 100 steps) and then flattens a few tenths of a nat above the entropy
of the generating chain, which no model can beat (data-limited, not stuck).
Measured: val_nll=1.7167 (step-0 loss 7.59, unigram baseline 4.33, true entropy rate 1.31;
seeds 1, 2: 1.7203, 1.7834)
"""
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

V, CTX, D, H = 2000, 3, 64, 128
BATCH, STEPS, LR = 128, 500, 3e-3
N_TRAIN, N_VAL = 40_000, 8_000


def make_language(rng):
    """Each word has 6 possible successors drawn from a Zipf distribution over the vocabulary."""
    ranks = np.arange(1, V + 1)
    zipf = 1.0 / ranks ** 1.1
    zipf /= zipf.sum()
    succ = np.stack([rng.choice(V, 6, replace=False, p=zipf) for _ in range(V)])
    probs = rng.dirichlet(np.full(6, 0.7), size=V)
    return succ, probs


def sample(succ, probs, n, rng):
    out = np.empty(n, dtype=np.int64)
    w = 0
    cum = probs.cumsum(1)
    u = rng.rand(n)
    for i in range(n):
        w = succ[w, min(np.searchsorted(cum[w], u[i]), 5)]
        out[i] = w
    return out


rng = np.random.RandomState(SEED)
succ, probs = make_language(rng)
train_ids = torch.from_numpy(sample(succ, probs, N_TRAIN, rng))
val_ids = torch.from_numpy(sample(succ, probs, N_VAL, rng))
seen = torch.zeros(V, dtype=torch.bool)
seen[train_ids] = True
print(f"V={V}  distinct words in train: {seen.sum().item()}  ln(V)={math.log(V):.3f}")

counts = torch.bincount(train_ids, minlength=V).float() + 0.1
unigram_nll = -(counts / counts.sum()).log()[val_ids].mean().item()


def windows(ids):
    x = ids.unfold(0, CTX, 1)[:-1]
    y = ids[CTX:]
    return x, y


xtr, ytr = windows(train_ids)
xva, yva = windows(val_ids)


class TiedTrigramLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.ff = nn.Sequential(nn.Linear(CTX * D, H), nn.GELU(), nn.Linear(H, D), nn.LayerNorm(D))
        self.out_bias = nn.Parameter(torch.zeros(V))

    def forward(self, ctx):
        h = self.ff(self.embed(ctx).flatten(1))
        return F.linear(h, self.embed.weight, self.out_bias)   # tied softmax weights


model = TiedTrigramLM()
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS, eta_min=3e-4)


@torch.no_grad()
def val_nll():
    model.eval()
    tot = 0.0
    for i in range(0, len(xva), 2500):
        tot += F.cross_entropy(model(xva[i:i + 2500]), yva[i:i + 2500], reduction="sum").item()
    model.train()
    return tot / len(xva)


gen = torch.Generator().manual_seed(SEED)
t0 = time.time()
for step in range(STEPS + 1):
    idx = torch.randint(len(xtr), (BATCH,), generator=gen)
    loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
    if step == 0:
        print(f"step 0 loss {loss.item():.4f} (ln V = {math.log(V):.4f})")
    optimizer.zero_grad()
    loss.backward()
    if step == 0:
        rows = (model.embed.weight.grad.abs().sum(1) > 0).sum().item()
        print(f"embedding rows with nonzero grad on step 0: {rows}/{V}")
    optimizer.step()
    scheduler.step()
    if step % 100 == 0 and step > 0:
        print(f"step {step:4d} loss {loss.item():.4f} val_nll {val_nll():.4f}")

final = val_nll()
print(f"trained in {time.time() - t0:.1f}s  unigram baseline nll {unigram_nll:.4f}")
print(f"NNDOCTOR_METRIC val_nll={final:.4f} lower")
