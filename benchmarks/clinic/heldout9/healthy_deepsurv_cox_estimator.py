"""sklearn-style DeepSurv estimator: an MLP risk score trained with a hand-written Cox partial-likelihood loss.
expect: healthy
trap: the custom loss (negative Cox partial log-likelihood) has a high floor (~log of the risk-set size), so it only falls from 6.91 to 6.50 over 300 steps and looks almost flat; the quality signal is the concordance index, which rises from 0.53 to 0.73. 37% of samples are censored and contribute no event term.

`DeepSurvRegressor` has fit(X, time, event) / predict(X) (log-risk) / score(X, time, event) (Harrell's C).
Synthetic survival data (3000 subjects, 75/25 split): 10 standardized covariates, a nonlinear true log-hazard
(0.8*x0 - 0.6*x1 + 0.5*x2*x3 + 0.7*sin(2*x4)), exponential event times and independent exponential
censoring. The loss is computed full-batch over the training set with samples sorted by descending time so
the risk set is a cumulative logsumexp (Breslow ties). Two-layer ReLU MLP with dropout, Adam, weight
decay 1e-3, 300 steps; validation loss decreases throughout. When run, validation C-index was 0.733 (the
oracle true log-hazard scores 0.752 on the same split; 0.5 is random), so the model recovers most of the
achievable ranking.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


def cox_ph_loss(log_risk, time, event):
    """Negative Breslow partial log-likelihood, averaged over events."""
    order = torch.argsort(time, descending=True)
    lr_sorted, ev_sorted = log_risk[order], event[order]
    log_cum_hazard = torch.logcumsumexp(lr_sorted, dim=0)  # log sum_{j: t_j >= t_i} exp(r_j)
    ll = (lr_sorted - log_cum_hazard) * ev_sorted
    return -ll.sum() / ev_sorted.sum().clamp(min=1.0)


def concordance_index(time, event, score):
    """Harrell's C: among comparable pairs, fraction where the earlier event has the higher risk."""
    t, e, s = map(np.asarray, (time, event, score))
    earlier = (t[:, None] < t[None, :]) & (e[:, None] == 1)
    conc = (s[:, None] > s[None, :]) & earlier
    ties = (s[:, None] == s[None, :]) & earlier
    return (conc.sum() + 0.5 * ties.sum()) / earlier.sum()


class DeepSurvRegressor(BaseEstimator):
    def __init__(self, hidden=(32, 16), lr=2e-3, weight_decay=1e-3, n_steps=300, dropout=0.2, verbose=0):
        self.hidden = hidden
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_steps = n_steps
        self.dropout = dropout
        self.verbose = verbose

    def fit(self, X, time, event, X_val=None, time_val=None, event_val=None):
        self.mean_, self.std_ = X.mean(0), X.std(0) + 1e-8
        Xt = torch.tensor((X - self.mean_) / self.std_, dtype=torch.float32)
        tt = torch.tensor(time, dtype=torch.float32)
        et = torch.tensor(event, dtype=torch.float32)
        layers, prev = [], X.shape[1]
        for h in self.hidden:
            layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(self.dropout)]
            prev = h
        layers.append(nn.Linear(prev, 1, bias=False))  # Cox model: the baseline hazard absorbs any bias
        self.net_ = nn.Sequential(*layers)
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        for step in range(self.n_steps):
            self.net_.train()
            opt.zero_grad()
            loss = cox_ph_loss(self.net_(Xt).squeeze(-1), tt, et)
            loss.backward()
            opt.step()
            if self.verbose and (step % 50 == 0 or step == self.n_steps - 1) and X_val is not None:
                self.net_.eval()
                with torch.no_grad():
                    Xv = torch.tensor((X_val - self.mean_) / self.std_, dtype=torch.float32)
                    vloss = cox_ph_loss(self.net_(Xv).squeeze(-1), torch.tensor(time_val, dtype=torch.float32),
                                        torch.tensor(event_val, dtype=torch.float32)).item()
                print(f"step {step:3d} train {loss.item():.4f} val {vloss:.4f} "
                      f"val C {self.score(X_val, time_val, event_val):.4f}")
        return self

    def predict(self, X):
        self.net_.eval()
        with torch.no_grad():
            Xt = torch.tensor((X - self.mean_) / self.std_, dtype=torch.float32)
            return self.net_(Xt).squeeze(-1).numpy()

    def score(self, X, time, event):
        return concordance_index(time, event, self.predict(X))


def make_survival_data(n, rng):
    X = rng.normal(size=(n, 10))
    log_h = 0.8 * X[:, 0] - 0.6 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + 0.7 * np.sin(2 * X[:, 4])
    t_event = rng.exponential(1.0 / np.exp(log_h))
    t_cens = rng.exponential(2.0, size=n)
    time = np.minimum(t_event, t_cens)
    event = (t_event <= t_cens).astype(np.float64)
    return X, time, event, log_h


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X, time, event, log_h = make_survival_data(3000, rng)
    tr, va = slice(0, 2250), slice(2250, 3000)
    print(f"censoring rate {1 - event.mean():.2f}")
    est = DeepSurvRegressor(verbose=1).fit(X[tr], time[tr], event[tr], X[va], time[va], event[va])
    c_val = est.score(X[va], time[va], event[va])
    c_oracle = concordance_index(time[va], event[va], log_h[va])
    print(f"val C-index {c_val:.4f} (oracle {c_oracle:.4f})")
    print(f"NNDOCTOR_METRIC val_cindex={c_val:.4f} higher")
