"""GRU on a delayed-copy task with gradient accumulation, active grad clipping and cosine LR decay to ~0.
expect: healthy
trap: zero_grad() only every ACCUM backward passes (gradient accumulation, grads grow within a cycle by design); clip_grad_norm_ clips the large early gradients; cosine schedule ends with LR near zero so late updates are tiny; integer token inputs through nn.Embedding (not unnormalized); small global grad norms (~0.1) because the loss is averaged over mostly-blank positions.

The model reads 4 random symbols, then blanks, and must output the symbols after a delay.
Gradients are accumulated over 4 micro-batches before each step (loss divided by 4), clipping is
applied to the accumulated gradient before step(), and CosineAnnealingLR drives the LR to 1e-5 at
the end. All of this is correct; the loss falls steadily and copy accuracy ends far above chance (0.20).
Measured: val_acc=0.6985 (chance 0.20)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

CFG = dict(seed=0, n_sym=5, copy_len=4, delay=4, hidden=64, micro_batch=16, accum=4,
           updates=200, lr=1e-2, clip=1.0)


def copy_batch(n, cfg, gen):
    K, D = cfg["copy_len"], cfg["delay"]
    sym = torch.randint(1, cfg["n_sym"] + 1, (n, K), generator=gen)
    blank = torch.zeros(n, D, dtype=torch.long)
    go = torch.full((n, 1), cfg["n_sym"] + 1)
    tail = torch.zeros(n, K - 1, dtype=torch.long)
    x = torch.cat([sym, blank, go, tail], 1)
    y = torch.cat([torch.zeros(n, K + D, dtype=torch.long), sym], 1)
    return x, y


class CopyGRU(nn.Module):
    def __init__(self, vocab, hidden, n_out):
        super().__init__()
        self.emb = nn.Embedding(vocab, 16)
        self.gru = nn.GRU(16, hidden, batch_first=True)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x):
        h, _ = self.gru(self.emb(x))
        return self.out(h)


def main(cfg):
    torch.manual_seed(cfg["seed"])
    np.random.seed(cfg["seed"])
    gen = torch.Generator().manual_seed(cfg["seed"])
    model = CopyGRU(cfg["n_sym"] + 2, cfg["hidden"], cfg["n_sym"] + 1)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["updates"], eta_min=1e-5)
    K = cfg["copy_len"]
    opt.zero_grad()
    for it in range(cfg["updates"] * cfg["accum"]):
        x, y = copy_batch(cfg["micro_batch"], cfg, gen)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        (loss / cfg["accum"]).backward()
        if (it + 1) % cfg["accum"] == 0:
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
            opt.step()
            sched.step()
            opt.zero_grad()
            u = (it + 1) // cfg["accum"]
            if u % 30 == 0:
                print(f"update {u} loss {loss.item():.4f} gnorm {gn.item():.3f} lr {sched.get_last_lr()[0]:.2e}")
    model.eval()
    with torch.no_grad():
        x, y = copy_batch(500, cfg, torch.Generator().manual_seed(77))
        pred = model(x).argmax(-1)
        acc = (pred[:, -K:] == y[:, -K:]).float().mean().item()
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main(CFG)
