"""Implicit-feedback matrix factorization (BPR loss) on synthetic long-tail interactions, with gradient accumulation over 4 micro-batches.
expect: healthy
trap: item popularity is Zipf-like, so in a typical optimizer step ~73% of the rows of the 3000-row item table (and of the item-bias table) receive exactly zero gradient, tail items go hundreds of steps without any, and ~430 items never get a positive; zero_grad()/step() run only every ACCUM=4 backward passes, so .grad legitimately grows across micro-batches between resets; the per-micro-batch BPR loss (starting at log 2) is noisy because negatives are resampled every batch.

Classic BPR-MF: score(u, i) = <p_u, q_i> + b_i, loss = -log sigmoid(score(u, pos) - score(u, neg))
with negatives drawn uniformly from the catalogue, plus L2 on the touched rows. Effective batch
is 4 x 128 triplets via gradient accumulation (loss divided by ACCUM). Evaluation is
leave-one-out HR@10 against all items; the popularity baseline gets ~0.04.
Measured: test_hr10=0.1240
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

rng = np.random.default_rng(SEED)
N_USERS, N_ITEMS, DIM_TRUE = 1000, 3000, 8
pop = 1.0 / np.arange(1, N_ITEMS + 1) ** 0.7
pop = pop[rng.permutation(N_ITEMS)]
U_true = rng.normal(size=(N_USERS, DIM_TRUE))
I_true = rng.normal(size=(N_ITEMS, DIM_TRUE))

user_items = []
for u in range(N_USERS):
    n_u = rng.integers(10, 40)
    affinity = np.exp(3.0 * I_true @ U_true[u] / np.sqrt(DIM_TRUE)) * pop
    items = rng.choice(N_ITEMS, size=n_u, replace=False, p=affinity / affinity.sum())
    user_items.append(items)

# leave-one-out split
train_pairs, test_item = [], np.zeros(N_USERS, dtype=np.int64)
seen = [set() for _ in range(N_USERS)]
for u, items in enumerate(user_items):
    test_item[u] = items[-1]
    for i in items[:-1]:
        train_pairs.append((u, i))
        seen[u].add(i)
train_pairs = torch.tensor(train_pairs)
print(f"{len(train_pairs)} training interactions; items never seen in training: "
      f"{N_ITEMS - len(np.unique(train_pairs[:, 1].numpy()))}")


class BPRMF(nn.Module):
    def __init__(self, n_users, n_items, dim=32):
        super().__init__()
        self.P = nn.Embedding(n_users, dim)
        self.Q = nn.Embedding(n_items, dim)
        self.b = nn.Embedding(n_items, 1)
        nn.init.normal_(self.P.weight, std=0.1)
        nn.init.normal_(self.Q.weight, std=0.1)
        nn.init.zeros_(self.b.weight)

    def score(self, u, i):
        return (self.P(u) * self.Q(i)).sum(-1) + self.b(i).squeeze(-1)

    def full_scores(self):
        return self.P.weight @ self.Q.weight.T + self.b.weight.T


model = BPRMF(N_USERS, N_ITEMS)
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
MICRO, ACCUM, EPOCHS, L2 = 128, 4, 12, 1e-4


def hit_rate_at_10(scores):
    scores = scores.clone()
    for u in range(N_USERS):
        scores[u, list(seen[u])] = -1e9
    top = scores.topk(10, dim=1).indices
    return (top == torch.from_numpy(test_item).unsqueeze(1)).any(1).float().mean().item()


step = 0
zero_rows = []
for epoch in range(EPOCHS):
    perm = torch.randperm(len(train_pairs))
    opt.zero_grad()
    for k, start in enumerate(range(0, len(perm), MICRO)):
        b = train_pairs[perm[start:start + MICRO]]
        u, pos = b[:, 0], b[:, 1]
        neg = torch.randint(0, N_ITEMS, (len(u),))
        diff = model.score(u, pos) - model.score(u, neg)
        reg = L2 * (model.P(u).pow(2).sum() + model.Q(pos).pow(2).sum() + model.Q(neg).pow(2).sum()) / len(u)
        loss = (-F.logsigmoid(diff).mean() + reg) / ACCUM
        loss.backward()
        if (k + 1) % ACCUM == 0:
            zero_rows.append((model.Q.weight.grad.abs().sum(1) == 0).float().mean().item())
            opt.step()
            opt.zero_grad()
            step += 1
    if epoch % 3 == 2:
        with torch.no_grad():
            hr = hit_rate_at_10(model.full_scores())
        print(f"epoch {epoch + 1}: bpr_loss {loss.item() * ACCUM:.4f} HR@10 {hr:.4f} "
              f"(optimizer steps {step}, item rows with zero grad per step {np.mean(zero_rows):.2f})")

pop_counts = torch.bincount(train_pairs[:, 1], minlength=N_ITEMS).float()
print(f"popularity baseline HR@10 {hit_rate_at_10(pop_counts.expand(N_USERS, -1)):.4f}")
print(f"NNDOCTOR_METRIC test_hr10={hr:.4f} higher")
