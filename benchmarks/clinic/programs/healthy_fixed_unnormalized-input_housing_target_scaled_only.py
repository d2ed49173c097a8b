"""California-like synthetic housing regression with a Learner; the data pipeline scales the target but feeds raw features.
expect: healthy
trap: the fixed version of a faulty held-out program

The `TabularData` helper has a `procs` list of preprocessing steps.  The author put a
`ScaleTarget` proc there (to get house values in units of $100k) and believed the
`Normalize` proc was applied by default, but the default only kicks in when `procs` is
None.  So the MLP sees raw features: median income in dollars (~1e4..1e5), population
(~1e2..1e4), rooms (~1..10), latitude/longitude (~30..40 / -124..-114).  The first layer's
pre-activations are dominated by income and population, Adam's per-parameter steps are
tiny relative to those scales, and the model ends up far worse than with standardized
inputs.  The fix is `procs=[Normalize(), ScaleTarget(1e5)]`.
Measured: faulty val_mse=0.8870 vs fixed val_mse=0.0440   (seed 1: 0.4061 vs 0.0450; seed 2: 1.8064 vs 0.0428)
"""
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

CFG = {"lr": 3e-3, "bs": 64, "epochs": 25, "hidden": [64, 32]}


def make_housing(n, rng):
    income = rng.lognormal(mean=10.4, sigma=0.45, size=n)            # dollars
    age = rng.uniform(1, 52, size=n)                                  # years
    rooms = np.clip(rng.normal(5.4, 1.3, size=n), 1, 12)
    population = rng.lognormal(mean=7.0, sigma=0.7, size=n)
    lat = rng.uniform(32.5, 42.0, size=n)
    lon = rng.uniform(-124.3, -114.3, size=n)
    coast = np.exp(-((lon + 122.0) ** 2) / 4.0) + np.exp(-((lat - 34.0) ** 2 + (lon + 118.3) ** 2) / 2.0)
    value = (40_000 + 3.2 * income + 1_000 * age - 0.004 * population ** 1.2
             + 8_000 * rooms + 120_000 * coast
             + 25_000 * np.sin(income / 12_000.0) + rng.normal(0, 15_000, size=n))
    X = np.stack([income, age, rooms, population, lat, lon], 1)
    return X.astype(np.float32), np.clip(value, 15_000, 500_000).astype(np.float32)


class Normalize:
    def setup(self, X, y):
        self.mu, self.sd = X.mean(0), X.std(0) + 1e-6

    def __call__(self, X, y):
        return (X - self.mu) / self.sd, y


class ScaleTarget:
    def __init__(self, scale):
        self.scale = scale

    def setup(self, X, y):
        pass

    def __call__(self, X, y):
        return X, y / self.scale


class TabularData:
    def __init__(self, X, y, valid_frac=0.2, procs=None, seed=SEED):
        self.procs = procs if procs is not None else [Normalize()]
        idx = np.random.default_rng(seed).permutation(len(X))
        n_val = int(len(X) * valid_frac)
        va, tr = idx[:n_val], idx[n_val:]
        for p in self.procs:
            p.setup(X[tr], y[tr])
        for p in self.procs:
            X, y = p(X, y)
        self.train = (torch.from_numpy(X[tr]), torch.from_numpy(y[tr])[:, None])
        self.valid = (torch.from_numpy(X[va]), torch.from_numpy(y[va])[:, None])

    def train_batches(self, bs, gen):
        X, y = self.train
        perm = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), bs):
            j = perm[i:i + bs]
            yield X[j], y[j]


class Learner:
    def __init__(self, data, model, cfg, loss_func=nn.MSELoss()):
        self.data, self.model, self.cfg, self.loss_func = data, model, cfg, loss_func
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.log = {"train_loss": [], "valid_loss": []}

    def fit(self):
        gen = torch.Generator().manual_seed(SEED)
        for epoch in range(self.cfg["epochs"]):
            self.model.train()
            running = []
            for xb, yb in self.data.train_batches(self.cfg["bs"], gen):
                loss = self.loss_func(self.model(xb), yb)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                running.append(loss.item())
            self.log["train_loss"].append(float(np.mean(running)))
            self.log["valid_loss"].append(self.validate())
            if epoch % 5 == 4:
                print(f"epoch {epoch+1}: train {self.log['train_loss'][-1]:.4f}  valid {self.log['valid_loss'][-1]:.4f}")

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        X, y = self.data.valid
        return self.loss_func(self.model(X), y).item()


def build_mlp(n_in, sizes):
    layers = []
    for h in sizes:
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        n_in = h
    return nn.Sequential(*layers, nn.Linear(n_in, 1))


def main():
    X, y = make_housing(4000, np.random.default_rng(SEED))
    data = TabularData(X, y, procs=[Normalize(), ScaleTarget(1e5)])
    learn = Learner(data, build_mlp(X.shape[1], CFG["hidden"]), CFG)
    learn.fit()
    print(f"NNDOCTOR_METRIC val_mse={learn.log['valid_loss'][-1]:.4f} lower")


if __name__ == "__main__":
    main()
