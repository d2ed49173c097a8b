"""LSTM classifying synthetic multi-sensor sequences (3 activity classes) fed in raw physical units.
expect: unnormalized-input
allow: saturated-activation

Each sequence has three channels recorded in their natural units: temperature in kelvin (~300),
pressure in pascal (~1e5, fluctuating by a few hundred) and acceleration in g (~0.05 swings).
The class lives in the small fluctuations (acceleration frequency and pressure drift), but the
script feeds the raw values straight into the LSTM. The huge offsets push the gate
pre-activations deep into the sigmoid/tanh tails, the informative channel is drowned by
channels 1e3-1e6 times larger, and the classifier stays near chance. Fix: standardize each
channel with mean/std computed on the training set.
Measured: faulty val_acc=0.3325 vs fixed val_acc=0.8925; seeds 1/2: 0.3475 vs 1.0000, 0.3050 vs 0.9900
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

CFG = dict(seed=0, n_train=1000, n_val=400, T=40, hidden=32, batch=64, epochs=11, lr=3e-3)


def make_sensors(n, T, rng):
    y = rng.integers(0, 3, size=n)
    t = np.arange(T)[None, :]
    freq = np.array([0.15, 0.35, 0.6])[y][:, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    acc = 0.05 * np.sin(freq * t + phase) + 0.01 * rng.standard_normal((n, T))
    drift = np.array([-3.0, 0.0, 3.0])[y][:, None]
    pres = 101325 + rng.normal(0, 200, size=(n, 1)) + drift * t + 20 * rng.standard_normal((n, T))
    temp = 295 + rng.normal(0, 5, size=(n, 1)) + 0.3 * rng.standard_normal((n, T))
    X = np.stack([temp, pres, acc], axis=-1).astype(np.float32)
    return X, y


class SeqClassifier(nn.Module):
    def __init__(self, n_in, hidden, n_cls):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, n_cls)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


def main(cfg):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    Xtr, ytr = make_sensors(cfg["n_train"], cfg["T"], rng)
    Xva, yva = make_sensors(cfg["n_val"], cfg["T"], rng)
    mu, sd = Xtr.mean(axis=(0, 1)), Xtr.std(axis=(0, 1)) + 1e-8
    Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd
    Xtr, Xva = torch.from_numpy(Xtr), torch.from_numpy(Xva)
    ytr, yva = torch.from_numpy(ytr).long(), torch.from_numpy(yva).long()
    model = SeqClassifier(3, cfg["hidden"], 3)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    n = len(Xtr)
    for epoch in range(cfg["epochs"]):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, cfg["batch"]):
            idx = perm[i:i + cfg["batch"]]
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(Xva).argmax(1) == yva).float().mean().item()
        print(f"epoch {epoch} loss {loss.item():.4f} val_acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main(CFG)
