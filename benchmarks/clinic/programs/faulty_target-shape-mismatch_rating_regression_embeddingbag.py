"""EmbeddingBag review-rating regressor whose [N,1] prediction is compared with an [N] target in MSELoss.
expect: target-shape-mismatch
allow: loss-not-decreasing

Each review has a star rating (a float in ~[1, 5]) driven by the valence of its words. The
regressor ends in nn.Linear(hidden, 1), so predictions are [B, 1], while the ratings come from
a 1-D tensor, shape [B]. nn.MSELoss broadcasts the pair to [B, B] (only a UserWarning, easy
to miss in the log) and the loss becomes the mean squared distance from every prediction to
every rating in the batch; its minimiser is the batch mean rating for every review, so the
model learns to output a constant and the val MSE stays at the variance of the ratings.
Measured: faulty val_mse=2.0217 vs fixed val_mse=0.0719 (rating variance ~2.1)
(seed 1: 2.1928 vs 0.0553; seed 2: 2.1925 vs 0.0580; 1128 steps)
"""
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

V, N_TRAIN, N_VAL = 800, 3000, 1000
rng = np.random.RandomState(SEED)
valence = np.zeros(V)
emotive = rng.choice(np.arange(1, V), 150, replace=False)       # words that carry sentiment
valence[emotive] = rng.normal(0, 1.5, size=150)


def make_reviews(n):
    """Flattened token ids + offsets, the input format of nn.EmbeddingBag."""
    tokens, offsets, ratings = [], [], []
    pos = 0
    for _ in range(n):
        L = rng.randint(5, 30)
        ids = rng.randint(1, V, size=L)
        k = rng.randint(1, 4)
        ids[:k] = rng.choice(emotive, k)                              # always some sentiment words
        score = 0.7 * valence[ids].sum()
        ratings.append(np.clip(3.0 + score, 1.0, 5.0) + rng.normal(0, 0.1))
        offsets.append(pos)
        tokens.append(ids)
        pos += L
    return (torch.from_numpy(np.concatenate(tokens)), torch.tensor(offsets),
            torch.tensor(ratings, dtype=torch.float32))


def batches(tokens, offsets, ratings, bs, gen):
    n = len(offsets)
    ends = torch.cat([offsets[1:], torch.tensor([len(tokens)])])
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, bs):
        idx = perm[i:i + bs]
        seqs = [tokens[offsets[j]:ends[j]] for j in idx.tolist()]
        lens = torch.tensor([len(s) for s in seqs])
        offs = torch.cat([torch.zeros(1, dtype=torch.long), lens.cumsum(0)[:-1]])
        yield torch.cat(seqs), offs, ratings[idx]


class RatingRegressor(nn.Module):
    def __init__(self, vocab, dim=32, hidden=64):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, dim, mode="sum")
        nn.init.normal_(self.bag.weight, std=0.05)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, tokens, offsets):
        return self.mlp(self.bag(tokens, offsets))


train = make_reviews(N_TRAIN)
val = make_reviews(N_VAL)
print(f"rating mean {train[2].mean():.3f} var {train[2].var():.3f}")

model = RatingRegressor(V)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.MSELoss()
gen = torch.Generator().manual_seed(SEED)

for epoch in range(12):
    model.train()
    losses = []
    for tok, off, y in batches(*train, bs=32, gen=gen):
        pred = model(tok, off)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        val_pred = model(val[0], val[1]).squeeze(-1)
        val_mse = ((val_pred - val[2]) ** 2).mean().item()
    print(f"epoch {epoch:2d} train_loss {np.mean(losses):.4f} val_mse {val_mse:.4f}")

print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
