"""GRU language model with tied input/output embeddings on a synthetic 2nd-order Markov language, warmup+cosine LambdaLR, grad clipping, eval/train toggling.

expect: healthy
trap: inputs are integer token ids (not features to normalize); the output projection shares its weight with the embedding (one Parameter used twice, listed once in the optimizer); the embedding gradient is row-sparse (rare tokens); the model is switched to eval() for validation every few steps and back to train(); validation loss is computed under no_grad and is lower than the (dropout) training loss

Data: a random 2nd-order Markov chain over 16 tokens (each context allows only
4 continuations, sampled from a Dirichlet), so the best possible per-token
cross-entropy is the chain's conditional entropy (printed). Model: Embedding
-> dropout -> GRU -> LayerNorm -> Linear(hidden->emb) -> logits through the
*tied* embedding matrix (F.linear(h, emb.weight) + bias). AdamW uses two param
groups (no weight decay on biases/LayerNorm/embedding), gradient norm is
clipped at 1.0, and a LambdaLR gives 30 warmup steps then cosine decay to 5%.
Validation is run every 50 steps in eval mode and the model is put back in
train mode afterwards. The validation loss keeps falling toward the entropy
floor (train loss is above val loss because of dropout); it never rises.
Measured (plain run): val CE 1.81 (step 50) -> 1.15 (step 300); uniform is
2.77 nats, entropy floor 1.02; test CE 1.187, i.e. NNDOCTOR_METRIC
excess_nats=0.1674 (excess of test cross-entropy over the floor, lower is
better).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

V, L = 16, 24
rng = np.random.default_rng(0)
succ = np.stack([[rng.choice(V, 4, replace=False) for _ in range(V)] for _ in range(V)])  # [V,V,4]
probs = rng.dirichlet(np.full(4, 0.7), size=(V, V))                                        # [V,V,4]


def sample(n):
    seq = np.zeros((n, L), dtype=np.int64)
    seq[:, :2] = rng.integers(0, V, size=(n, 2))
    for t in range(2, L):
        a, b = seq[:, t - 2], seq[:, t - 1]
        cum = probs[a, b].cumsum(1)
        j = (rng.random(n)[:, None] > cum).sum(1).clip(max=3)
        seq[:, t] = succ[a, b, j]
    return torch.tensor(seq)


train, val, test = sample(3000), sample(300), sample(500)
# entropy floor of positions t >= 2 (visited contexts weighted by frequency in test)
a, b = test[:, :-2].numpy().ravel(), test[:, 1:-1].numpy().ravel()
p = probs[a, b]
floor = float(-(p * np.log(p)).sum(1).mean())


class TiedGRULM(nn.Module):
    def __init__(self, V, E=32, H=96):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.drop = nn.Dropout(0.1)
        self.rnn = nn.GRU(E, H, batch_first=True)
        self.norm = nn.LayerNorm(H)
        self.proj = nn.Linear(H, E)
        self.out_bias = nn.Parameter(torch.zeros(V))

    def forward(self, tok):
        h, _ = self.rnn(self.drop(self.emb(tok)))
        h = self.proj(self.drop(self.norm(h)))
        return F.linear(h, self.emb.weight, self.out_bias)  # weight tying


def lm_loss(model, seq):
    logits = model(seq[:, :-1])
    return F.cross_entropy(logits[:, 1:].reshape(-1, V), seq[:, 2:].reshape(-1))


model = TiedGRULM(V)
decay = [p_ for n, p_ in model.named_parameters() if n.endswith("weight") and "norm" not in n and "emb" not in n]
no_decay = [p_ for n, p_ in model.named_parameters() if not (n.endswith("weight") and "norm" not in n and "emb" not in n)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                         {"params": no_decay, "weight_decay": 0.0}], lr=1e-2)
total, warm = 300, 30
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: (s + 1) / warm if s < warm else 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (s - warm) / (total - warm))))

print(f"entropy floor {floor:.4f} nats, uniform {math.log(V):.4f}")
bs = 64
step = 0
model.train()
while step < total:
    perm = torch.randperm(len(train))
    for i in range(0, len(perm) - bs + 1, bs):
        loss = lm_loss(model, train[perm[i:i + bs]])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        if step % 50 == 0:
            model.eval()
            with torch.no_grad():
                vl = lm_loss(model, val).item()
            model.train()
            print(f"step {step} train {loss.item():.4f} val {vl:.4f}")
        if step >= total:
            break

model.eval()
with torch.no_grad():
    test_ce = lm_loss(model, test).item()
print(f"test CE {test_ce:.4f} (floor {floor:.4f})")
print(f"NNDOCTOR_METRIC excess_nats={test_ce - floor:.4f} lower")
