"""Fixed version of faulty_target-shape-mismatch_poisson_claims.py: the one-line fix of its docstring.
Measured: test_deviance=0.4829. From the sixth held-out audit (tabular / recommender code).
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


def make_claims(n=4000, rng=None):
    """Synthetic motor-insurance portfolio: numeric risk factors + region one-hot + exposure."""
    rng = rng or np.random.default_rng(SEED)
    driver_age = rng.uniform(18, 85, n)
    veh_power = rng.integers(4, 15, n).astype(float)
    bonus_malus = rng.uniform(50, 200, n)
    density = np.exp(rng.normal(6, 1.5, n))
    region = rng.integers(0, 6, n)
    exposure = rng.uniform(0.1, 1.0, n)
    log_rate = (-2.3 + 0.9 * np.exp(-(driver_age - 18) / 8) + 0.04 * (veh_power - 9)
                + 0.012 * (bonus_malus - 100) + 0.12 * (np.log(density) - 6)
                + np.array([0.0, 0.3, -0.2, 0.5, -0.4, 0.1])[region])
    counts = rng.poisson(exposure * np.exp(log_rate))
    X_num = np.column_stack([driver_age, veh_power, bonus_malus, np.log(density)])
    X_reg = np.eye(6)[region]
    return X_num, X_reg, exposure, counts.astype(np.float32)


def poisson_deviance(y, mu):
    mu = np.clip(mu, 1e-8, None)
    term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
    return float(2 * np.mean(term - (y - mu)))


class PoissonNetRegressor(BaseEstimator, RegressorMixin):
    def __init__(self, hidden=32, lr=3e-3, epochs=25, batch_size=128, weight_decay=1e-5):
        self.hidden = hidden
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay

    def _build(self, d):
        return nn.Sequential(nn.Linear(d, self.hidden), nn.ReLU(),
                             nn.Linear(self.hidden, self.hidden), nn.ReLU(),
                             nn.Linear(self.hidden, 1))

    def fit(self, X, y, exposure):
        X = torch.as_tensor(X, dtype=torch.float32)
        y = torch.as_tensor(y, dtype=torch.float32)
        log_exp = torch.log(torch.as_tensor(exposure, dtype=torch.float32)).unsqueeze(1)
        self.net_ = self._build(X.shape[1])
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.PoissonNLLLoss(log_input=True)
        n = len(X)
        self.history_ = []
        for epoch in range(self.epochs):
            self.net_.train()
            perm = torch.randperm(n)
            running = 0.0
            for i in range(0, n, self.batch_size):
                idx = perm[i:i + self.batch_size]
                log_mu = (self.net_(X[idx]) + log_exp[idx]).squeeze(-1)
                loss = loss_fn(log_mu, y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                running += loss.item() * len(idx)
            self.history_.append(running / n)
        return self

    def predict(self, X, exposure):
        self.net_.eval()
        with torch.no_grad():
            log_mu = self.net_(torch.as_tensor(X, dtype=torch.float32)).squeeze(-1)
        return (torch.exp(log_mu).numpy() * exposure)

    def score(self, X, y, exposure):
        return -poisson_deviance(y, self.predict(X, exposure))


X_num, X_reg, exposure, counts = make_claims()
idx_tr, idx_te = train_test_split(np.arange(len(counts)), test_size=0.25, random_state=SEED)
scaler = StandardScaler().fit(X_num[idx_tr])
X = np.hstack([scaler.transform(X_num), X_reg]).astype(np.float32)

model = PoissonNetRegressor().fit(X[idx_tr], counts[idx_tr], exposure[idx_tr])
print("train loss by epoch:", " ".join(f"{h:.4f}" for h in model.history_[::5]))
null_dev = poisson_deviance(counts[idx_te], np.full(len(idx_te), counts[idx_tr].sum() / exposure[idx_tr].sum()) * exposure[idx_te])
dev = -model.score(X[idx_te], counts[idx_te], exposure[idx_te])
print(f"null deviance {null_dev:.4f}  model deviance {dev:.4f}")
print(f"NNDOCTOR_METRIC test_deviance={dev:.4f} lower")
