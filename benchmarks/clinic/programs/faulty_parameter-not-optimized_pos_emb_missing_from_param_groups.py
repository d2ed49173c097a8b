"""Tiny from-scratch Transformer classifying "does token A come before token B"; pos_emb falls out of the AdamW param groups.
expect: parameter-not-optimized

configure_optimizers() follows the minGPT recipe: walk the modules, put Linear weights in the
weight-decay group and biases / LayerNorm / Embedding weights in the no-decay group. minGPT
special-cases the root module's `pos_emb` nn.Parameter (initialised to zeros); this copy
does not, so pos_emb is in neither group. It requires grad and receives a gradient every step
but AdamW never touches it, so it stays all zeros and the model is permutation-invariant.
The label depends only on the order of A and B, so the classifier is stuck near chance.
Measured: faulty val_acc=0.4600 vs fixed val_acc=0.9880
(seed 1: 0.4840 vs 0.9750; seed 2: 0.5290 vs 1.0000; 300 steps)
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

CONFIG = dict(vocab_size=24, block_size=12, n_embd=32, n_head=4, n_layer=2,
              lr=3e-3, weight_decay=0.1, batch_size=64, max_iters=300, eval_interval=50)
TOK_A, TOK_B = 22, 23   # fillers are 1..21, 0 unused


def make_data(n, rng):
    T = CONFIG["block_size"]
    x = rng.randint(1, 22, size=(n, T))
    pos = np.stack([rng.choice(T, 2, replace=False) for _ in range(n)])
    x[np.arange(n), pos[:, 0]] = TOK_A
    x[np.arange(n), pos[:, 1]] = TOK_B
    y = (pos[:, 0] < pos[:, 1]).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


class SelfAttention(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(d, h)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class OrderClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.pos_emb = nn.Parameter(torch.zeros(1, cfg["block_size"], cfg["n_embd"]))
        self.blocks = nn.Sequential(*[Block(cfg["n_embd"], cfg["n_head"]) for _ in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(cfg["n_embd"])
        self.head = nn.Linear(cfg["n_embd"], 2)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx):
        x = self.tok_emb(idx) + self.pos_emb[:, : idx.size(1)]
        x = self.ln_f(self.blocks(x))
        return self.head(x.mean(1))

    def configure_optimizers(self, cfg):
        decay, no_decay = [], []
        for mn, m in self.named_modules():
            for pn, p in m.named_parameters(recurse=False):
                if pn.endswith("bias") or isinstance(m, (nn.LayerNorm, nn.Embedding)):
                    no_decay.append(p)
                elif pn.endswith("weight") and isinstance(m, nn.Linear):
                    decay.append(p)
        groups = [{"params": decay, "weight_decay": cfg["weight_decay"]},
                  {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=cfg["lr"], betas=(0.9, 0.98))


rng = np.random.RandomState(SEED)
x_train, y_train = make_data(4000, rng)
x_val, y_val = make_data(1000, rng)

model = OrderClassifier(CONFIG)
optimizer = model.configure_optimizers(CONFIG)
n_params = sum(p.numel() for p in model.parameters())
print(f"{n_params} parameters")


@torch.no_grad()
def evaluate():
    model.eval()
    logits = model(x_val)
    model.train()
    return F.cross_entropy(logits, y_val).item(), (logits.argmax(-1) == y_val).float().mean().item()


t0 = time.time()
gen = torch.Generator().manual_seed(SEED)
for it in range(1, CONFIG["max_iters"] + 1):
    ix = torch.randint(len(x_train), (CONFIG["batch_size"],), generator=gen)
    loss = F.cross_entropy(model(x_train[ix]), y_train[ix])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if it % CONFIG["eval_interval"] == 0:
        vl, va = evaluate()
        print(f"iter {it:4d} train_loss {loss.item():.4f} val_loss {vl:.4f} val_acc {va:.4f}")

val_loss, val_acc = evaluate()
print(f"trained in {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
