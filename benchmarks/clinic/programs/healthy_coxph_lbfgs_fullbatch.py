"""Ridge-penalized Cox proportional-hazards model on synthetic censored survival data, fitted full-batch with L-BFGS (strong Wolfe line search).
expect: healthy
trap: only 25 optimizer.step(closure) calls, each running the closure (forward+backward) up to 5 times, so backward passes outnumber steps; the loss converges within 4 steps and from step 5 on L-BFGS returns at once on its gradient tolerance, so the parameters do not change at all for the last 20 steps (converged, not a missing step); the negative partial log-likelihood sits around 6 (about the log of the risk-set size), nowhere near 0; treatment flag and stage one-hot columns are left as 0/1 next to standardized labs.

The Cox partial likelihood is computed with the Breslow convention on times sorted in
descending order, -(sum over events of eta_i - logcumsumexp(eta)_i) / n_events, plus a small
ridge term. This is the textbook way to fit a CoxPH model: a deterministic, full-batch
quasi-Newton optimizer that converges in a handful of outer iterations (float64, as usual for
survival likelihoods). Held-out Harrell's C matches the C of the true risk score.
Measured: test_cindex=0.7119
"""
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

rng = np.random.default_rng(SEED)
N = 3000
labs = rng.normal(size=(N, 6))
labs_raw = labs * np.array([12, 0.8, 30, 5, 1.5, 40]) + np.array([60, 4, 140, 25, 7, 200])
treated = (rng.random(N) < 0.5).astype(float)
stage = rng.integers(0, 4, N)
stage_oh = np.eye(4)[stage]
beta_true = np.array([0.6, -0.4, 0.3, 0.0, 0.25, -0.2])
eta_true = labs @ beta_true - 0.5 * treated + np.array([0.0, 0.3, 0.8, 1.4])[stage]
event_time = rng.exponential(1.0 / (0.05 * np.exp(eta_true)))     # exponential baseline hazard
censor_time = rng.uniform(0, 40, N)
time = np.minimum(event_time, censor_time)
event = (event_time <= censor_time).astype(float)
print(f"event rate {event.mean():.2f}")

tr, te = np.arange(2200), np.arange(2200, N)
mu, sd = labs_raw[tr].mean(0), labs_raw[tr].std(0)
X = np.hstack([(labs_raw - mu) / sd, treated[:, None], stage_oh[:, 1:]])   # stage 0 = reference
T = lambda a: torch.tensor(a, dtype=torch.float64)   # float64: partial likelihood sums over 2k rows


def sort_desc(idx):
    order = idx[np.argsort(-time[idx], kind="stable")]
    return T(X[order]), T(event[order]), order


X_tr, e_tr, _ = sort_desc(tr)


def neg_partial_loglik(eta, ev):
    """eta, ev sorted by descending time: risk set of i = rows 0..i."""
    log_risk = torch.logcumsumexp(eta, dim=0)
    return -((eta - log_risk) * ev).sum() / ev.sum()


def harrell_c(risk, t, e):
    conc = ties = comparable = 0.0
    for i in np.where(e == 1)[0]:
        later = t > t[i]
        comparable += later.sum()
        conc += (risk[i] > risk[later]).sum()
        ties += (risk[i] == risk[later]).sum()
    return (conc + 0.5 * ties) / comparable


model = nn.Linear(X.shape[1], 1, bias=False).double()    # a Cox model has no intercept
nn.init.zeros_(model.weight)
opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=4, history_size=10,
                        line_search_fn="strong_wolfe")
RIDGE = 1e-3
n_closure = 0


def closure():
    global n_closure
    n_closure += 1
    opt.zero_grad()
    loss = neg_partial_loglik(model(X_tr).squeeze(1), e_tr) + RIDGE * model.weight.pow(2).sum()
    loss.backward()
    return loss


for it in range(25):
    loss = opt.step(closure)
    if it < 5 or it % 5 == 4:
        g = model.weight.grad.norm().item()
        print(f"step {it + 1}: loss {loss.item():.4f} grad_norm {g:.2e} closures so far {n_closure}")

with torch.no_grad():
    risk_te = model(T(X[te])).squeeze(1).numpy()
c_model = harrell_c(risk_te, time[te], event[te])
c_oracle = harrell_c(eta_true[te], time[te], event[te])
print("fitted coefs:", np.round(model.weight.detach().numpy().ravel(), 2))
print(f"test C-index {c_model:.4f} (true risk score: {c_oracle:.4f})")
print(f"NNDOCTOR_METRIC test_cindex={c_model:.4f} higher")
