"""1-D CNN classifying synthetic motif sequences; the optimizer was switched Adam -> SGD but kept Adam's lr=1e-4.
expect: learning-rate-too-low

The config dict still carries lr=1e-4 from when the script used Adam; the author switched to plain
SGD with momentum for reproducibility and left the value. For SGD on this small conv net the
update/weight ratio is ~1e-6 per step, so the loss barely moves from ln(4) in the whole budget and
validation accuracy stays far below what the same loop reaches at lr=0.05.
Fix: raise the SGD learning rate (lr=0.05).
Measured: faulty val_acc=0.3600 vs fixed val_acc=0.8560; seeds 1/2: 0.2660 vs 0.8160, 0.3280 vs 0.8000
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

CFG = dict(seed=0, n_train=2000, n_val=500, L=48, batch=64, steps=300, lr=1e-4, momentum=0.9,
           channels=16, optim="sgd")

MOTIFS = np.array([[1, 1, -1, -1, 1], [1, -1, 1, -1, 1], [-1, -1, 1, 1, 1], [1, 1, 1, -1, -1]],
                  dtype=np.float32)


def make_data(n, L, rng):
    y = rng.integers(0, 4, size=n)
    x = 0.6 * rng.standard_normal((n, L)).astype(np.float32)
    for i in range(n):
        for _ in range(2):
            p = rng.integers(0, L - 5)
            x[i, p:p + 5] += MOTIFS[y[i]]
    return torch.from_numpy(x[:, None, :]), torch.from_numpy(y).long()


def build(ch):
    return nn.Sequential(
        nn.Conv1d(1, ch, 5, padding=2), nn.ReLU(),
        nn.Conv1d(ch, ch, 5, padding=2), nn.ReLU(),
        nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(ch, 4))


def main(cfg):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    Xtr, ytr = make_data(cfg["n_train"], cfg["L"], rng)
    Xva, yva = make_data(cfg["n_val"], cfg["L"], rng)
    model = build(cfg["channels"])
    if cfg["optim"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    for step in range(cfg["steps"]):
        idx = torch.randint(0, cfg["n_train"], (cfg["batch"],))
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f}")
    model.eval()
    with torch.no_grad():
        acc = (model(Xva).argmax(1) == yva).float().mean().item()
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main(CFG)
