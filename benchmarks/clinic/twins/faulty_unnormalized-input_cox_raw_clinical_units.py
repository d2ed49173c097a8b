"""MLP Cox proportional-hazards model (DeepSurv-style) on synthetic clinical covariates fed in raw physical units.
expect: unnormalized-input
allow: exploding-gradient, learning-rate-too-high, dead-relu, saturated-activation

The covariate matrix is assembled from the "lab export" columns (age in years, systolic pressure in
mmHg, cholesterol in mg/dL, NT-proBNP in pg/mL, creatinine in mg/dL, BMI, smoker flag) and goes straight
into the network (train and test alike); no standardisation step was ever written because "the
network will learn the scales".  Feature scales span 1e0..1e3
(NT-proBNP alone is in the thousands), so the first layer's pre-activations have std ~200 and are
dominated by NT-proBNP (its |weight| x feature-std contribution is ~50x that of the next column and
~2000x that of creatinine or the smoker flag); 12-34% of the ReLUs in the first layer end up dead and the
small-scale predictors are effectively invisible to the optimiser.
Measured: faulty test_cindex=0.6505 vs fixed test_cindex=0.8296 (seed 0); seeds 1/2: 0.4642 vs 0.8172, 0.6980 vs 0.8285
"""
import time
import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

# ----------------------------------------------------------------- synthetic cohort
rng = np.random.default_rng(SEED)
n = 1600
age = rng.uniform(35, 85, n)
sbp = rng.normal(135, 18, n)
chol = rng.normal(210, 35, n)
bnp = np.exp(rng.normal(6.0, 1.0, n))          # pg/mL, heavy tailed
creat = np.exp(rng.normal(0.0, 0.3, n))        # mg/dL
bmi = rng.normal(27, 4.5, n)
smoker = (rng.random(n) < 0.3).astype(float)

z = lambda v: (v - v.mean()) / v.std()
log_hazard = (0.8 * z(age) + 0.4 * z(sbp) + 0.6 * np.log(bnp / 400) + 1.2 * z(creat)
              + 0.7 * smoker - 0.5 * z(bmi) ** 2 + 0.4 * z(age) * smoker)
event_time = rng.exponential(1.0 / np.exp(log_hazard))
censor_time = rng.exponential(np.median(event_time) * 2.0, n)
time_obs = np.minimum(event_time, censor_time)
event = (event_time <= censor_time).astype(float)

X = np.stack([age, sbp, chol, bnp, creat, bmi, smoker], 1).astype(np.float32)
perm = rng.permutation(n)
tr, te = perm[:1200], perm[1200:]
Xtr, Xte = X[tr], X[te]
Ttr, Tte, Etr, Ete = time_obs[tr], time_obs[te], event[tr], event[te]

# standardise with train-set statistics
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd


def cox_ph_loss(risk, t, e):
    """Negative Breslow partial log-likelihood; risk [N], t [N], e [N]."""
    order = torch.argsort(t, descending=True)
    risk, e = risk[order], e[order]
    log_risk_set = torch.logcumsumexp(risk, dim=0)
    return -((risk - log_risk_set) * e).sum() / e.sum().clamp_min(1.0)


def concordance(risk, t, e):
    risk, t, e = np.asarray(risk), np.asarray(t), np.asarray(e)
    conc, total = 0.0, 0.0
    for i in np.where(e == 1)[0]:
        later = t > t[i]
        total += later.sum()
        conc += (risk[i] > risk[later]).sum() + 0.5 * (risk[i] == risk[later]).sum()
    return conc / total


net = nn.Sequential(nn.Linear(7, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)

Xtr_t = torch.from_numpy(Xtr)
Ttr_t, Etr_t = torch.from_numpy(Ttr).float(), torch.from_numpy(Etr).float()
bs = 256
step = 0
for epoch in range(60):
    p = torch.randperm(len(Xtr_t))
    for b in range(0, len(p), bs):
        i = p[b:b + bs]
        risk = net(Xtr_t[i]).squeeze(-1)
        loss = cox_ph_loss(risk, Ttr_t[i], Etr_t[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    if epoch % 10 == 0 or epoch == 59:
        print(f"epoch {epoch:2d} step {step} cox_loss={loss.item():.4f}")

with torch.no_grad():
    r = net(torch.from_numpy(Xte)).squeeze(-1).numpy()
cidx = concordance(r, Tte, Ete)
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC test_cindex={cidx:.4f} higher")
