"""Character-level GRU language model on toy text generated in the script; zero_grad() sits in the epoch loop, not the batch loop.
expect: gradient-not-zeroed
allow: learning-rate-too-high

A common slip when refactoring a per-epoch loop into mini-batches: opt.zero_grad() stays at the
top of the epoch, so within an epoch every step adds the new gradient on top of all previous
ones. The accumulated gradient keeps growing through the epoch and the update direction is
dominated by stale gradients, so the char model learns the toy grammar much worse than with a
per-batch zero_grad(). Fix: move opt.zero_grad() into the batch loop.
Measured: faulty val_nll=0.4182 vs fixed val_nll=0.2509; seeds 1/2: 0.4691 vs 0.2443, 0.4848 vs 0.2396
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

CFG = dict(seed=0, n_chars=30000, seq_len=24, batch=32, emb=16, hidden=48, epochs=4,
           batches_per_epoch=60, lr=3e-3)

WORDS = ["the", "cat", "dog", "sat", "on", "mat", "ran", "to", "a", "red", "big", "log", "and"]


def make_text(n, rng):
    out = []
    while sum(len(w) + 1 for w in out) < n:
        # tiny grammar: det adj? noun verb prep det noun .
        s = ["the" if rng.random() < 0.7 else "a"]
        if rng.random() < 0.5:
            s.append(["red", "big"][rng.integers(2)])
        s += [["cat", "dog"][rng.integers(2)], ["sat", "ran"][rng.integers(2)],
              ["on", "to"][rng.integers(2)], "the", ["mat", "log"][rng.integers(2)] + "."]
        out += s
    return " ".join(out)[:n]


class CharGRU(nn.Module):
    def __init__(self, vocab, emb, hidden):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.gru(self.emb(x))
        return self.out(h)


def batches(data, seq_len, batch, rng):
    starts = rng.integers(0, len(data) - seq_len - 1, size=batch)
    x = np.stack([data[s:s + seq_len] for s in starts])
    y = np.stack([data[s + 1:s + seq_len + 1] for s in starts])
    return torch.from_numpy(x).long(), torch.from_numpy(y).long()


def main(cfg):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    text = make_text(cfg["n_chars"], rng)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text])
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    model = CharGRU(len(chars), cfg["emb"], cfg["hidden"])
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    for epoch in range(cfg["epochs"]):
        model.train()
        opt.zero_grad()
        tot = 0.0
        for b in range(cfg["batches_per_epoch"]):
            x, y = batches(train, cfg["seq_len"], cfg["batch"], rng)
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
            loss.backward()
            opt.step()
            tot += loss.item()
        print(f"epoch {epoch} train_nll {tot / cfg['batches_per_epoch']:.4f}")
    model.eval()
    vrng = np.random.default_rng(123)
    with torch.no_grad():
        x, y = batches(val, cfg["seq_len"], 256, vrng)
        logits = model(x)
        val_nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1)).item()
    print(f"NNDOCTOR_METRIC val_nll={val_nll:.4f} lower")


if __name__ == "__main__":
    main(CFG)
