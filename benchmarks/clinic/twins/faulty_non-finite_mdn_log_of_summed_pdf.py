"""MDN for 2-link arm inverse kinematics (end-effector -> shoulder angle); bug: NLL computed as log(sum(pi * exp(log_prob))) instead of logsumexp.
expect: non-finite

The training log has a few corrupted angle readings (encoder glitches). Once the components sharpen
(sigma ~ 0.1-0.2 rad), a glitched target 2-3 rad away sits more than ~14 sigmas from every
component, exp(log_prob) underflows to exactly 0 in float32 for all of them, and log(0) = -inf. The backward pass of that
log gives inf * 0 = NaN gradients, Adam writes NaN into every weight and training is dead from then on.
The script keeps the best-validation checkpoint, so the final metric is that of the early model.
Fix: torch.logsumexp(log_pi + log_prob, -1).
Measured: faulty test_nll=0.1014 vs fixed test_nll=-1.3661 (seed 1: -0.0417 vs -1.1119, seed 2: -0.1913 vs -0.5448);
the first infinite loss (a glitched target at -2.92 rad) appears at step 138 (seed 0); that
step already writes NaN into the weights.
"""
import copy
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

L1, L2 = 1.0, 0.8


def arm_dataset(n, rng, glitch_rate=0.0):
    th1 = rng.uniform(-np.pi / 2, np.pi / 2, n)
    th2 = rng.uniform(0.3, 2.5, n) * rng.choice([-1.0, 1.0], n)  # elbow up / elbow down
    ex = L1 * np.cos(th1) + L2 * np.cos(th1 + th2) + 0.01 * rng.standard_normal(n)
    ey = L1 * np.sin(th1) + L2 * np.sin(th1 + th2) + 0.01 * rng.standard_normal(n)
    target = th1.copy()
    bad = rng.random(n) < glitch_rate
    target[bad] = rng.uniform(-np.pi, np.pi, bad.sum())  # encoder glitch: random reading
    X = torch.tensor(np.stack([ex, ey], 1), dtype=torch.float32)
    return X, torch.tensor(target, dtype=torch.float32).unsqueeze(1)


rng = np.random.default_rng(SEED)
X_tr, Y_tr = arm_dataset(4000, rng, glitch_rate=0.02)
X_va, Y_va = arm_dataset(500, rng)
X_te, Y_te = arm_dataset(1000, rng)


class MixtureDensityNet(nn.Module):
    def __init__(self, k=2, h=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.head = nn.Linear(h, 3 * k)

    def forward(self, x):
        logits, mu, s = self.head(self.body(x)).chunk(3, dim=-1)
        return F.softmax(logits, -1), mu, F.softplus(s) + 1e-4


def neg_log_lik(model, x, y):
    pi, mu, sigma = model(x)
    log_prob = -0.5 * ((y - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(torch.log(pi) + log_prob, dim=-1).mean()


model = MixtureDensityNet()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
best_val, best_state = float("inf"), copy.deepcopy(model.state_dict())

for step in range(1500):
    idx = torch.randint(0, len(X_tr), (128,))
    loss = neg_log_lik(model, X_tr[idx], Y_tr[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        with torch.no_grad():
            val = neg_log_lik(model, X_va, Y_va).item()
        if val < best_val:
            best_val, best_state = val, copy.deepcopy(model.state_dict())
        if step % 250 == 0:
            print(f"step {step:4d} train nll {loss.item():+.4f} val nll {val:+.4f}")

model.load_state_dict(best_state)
with torch.no_grad():
    test_nll = neg_log_lik(model, X_te, Y_te).item()
print(f"best val nll {best_val:+.4f}")
print(f"NNDOCTOR_METRIC test_nll={test_nll:.4f} lower")
