"""Matrix-factorisation recommender (user/item nn.Embedding + item bias) trained with BPR on synthetic implicit feedback, with L2 applied only to the rows touched in each minibatch.
expect: healthy
trap: very sparse embedding gradients (each step touches ~30% of item rows and ~35% of user rows; the rest get exactly zero gradient), BPR loss that falls to ~0.1 (tiny but normal), integer index inputs (not features to normalise), per-row L2 in the loss instead of optimizer weight_decay

BPR pushes the score of an observed item above a sampled unobserved one.  Because nn.Embedding only
produces gradient for the rows indexed in the batch, most rows of every table have zero gradient at
any given step; the per-layer gradient norms of the embedding tables therefore look tiny compared with
their weights, which is normal for recommenders and not vanishing gradient.  The model is trained with
plain Adam over all three tables (all are in the optimizer).
Measured: test_auc=0.8075 (AUC plateaus: 0.7969 after 6 epochs, 0.8072 after 16)
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

rng = np.random.default_rng(SEED)
n_users, n_items, k_true = 600, 1500, 8
U = rng.normal(size=(n_users, k_true))
V = rng.normal(size=(n_items, k_true))
scores = U @ V.T / np.sqrt(k_true) + rng.normal(0, 0.3, n_items)
noisy = scores + rng.gumbel(size=scores.shape) * 0.5
inter = np.argsort(-noisy, axis=1)[:, :40]
train_pairs, test_pairs = [], []
for u in range(n_users):
    items = rng.permutation(inter[u])
    test_pairs += [(u, i) for i in items[:5]]
    train_pairs += [(u, i) for i in items[5:]]
train_pairs, test_pairs = np.array(train_pairs), np.array(test_pairs)
seen = np.zeros((n_users, n_items), dtype=bool)
seen[train_pairs[:, 0], train_pairs[:, 1]] = True
held = np.zeros_like(seen)
held[test_pairs[:, 0], test_pairs[:, 1]] = True

dim, l2 = 32, 1e-4
user_emb = nn.Embedding(n_users, dim)
item_emb = nn.Embedding(n_items, dim)
item_bias = nn.Embedding(n_items, 1)
for e in (user_emb, item_emb):
    nn.init.normal_(e.weight, std=0.05)
nn.init.zeros_(item_bias.weight)
params = list(user_emb.parameters()) + list(item_emb.parameters()) + list(item_bias.parameters())
opt = torch.optim.Adam(params, lr=5e-3)


def score(u, i):
    return (user_emb(u) * item_emb(i)).sum(-1) + item_bias(i).squeeze(-1)


bs = 256
step = 0
for epoch in range(12):
    order = rng.permutation(len(train_pairs))
    run = 0.0
    for b in range(0, len(order), bs):
        batch = train_pairs[order[b:b + bs]]
        users = batch[:, 0]
        neg = rng.integers(0, n_items, len(users))
        clash = seen[users, neg]
        while clash.any():
            neg[clash] = rng.integers(0, n_items, clash.sum())
            clash = seen[users, neg]
        u, i, j = (torch.from_numpy(a) for a in (users, batch[:, 1], neg))
        x_uij = score(u, i) - score(u, j)
        reg = l2 * (user_emb(u).pow(2).sum() + item_emb(i).pow(2).sum() + item_emb(j).pow(2).sum()) / len(u)
        loss = -F.logsigmoid(x_uij).mean() + reg
        opt.zero_grad()
        loss.backward()
        opt.step()
        run += loss.item()
        step += 1
    print(f"epoch {epoch:2d} step {step} mean_bpr={run / ((len(order) + bs - 1) // bs):.4f}")

with torch.no_grad():
    S = (user_emb.weight @ item_emb.weight.T + item_bias.weight.T).numpy()
aucs = []
for u in range(n_users):
    pos = S[u][held[u]]
    neg = S[u][~seen[u] & ~held[u]]
    aucs.append((pos[:, None] > neg[None, :]).mean())
test_auc = float(np.mean(aucs))
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC test_auc={test_auc:.4f} higher")
