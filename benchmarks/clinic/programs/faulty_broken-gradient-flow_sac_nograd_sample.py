"""SAC (squashed Gaussian actor, twin Q, Polyak targets, learned temperature) parking a 1-D cart; bug: policy.sample is decorated with @torch.no_grad().
expect: broken-gradient-flow
allow: loss-not-decreasing

The decorator was added so that environment rollouts do not build graphs, but the actor update calls
the same method to get reparameterized actions. The actions and log-probs come back without a graph,
so actor_loss = (alpha * logp - min Q(s, a)).mean() only depends on the critic's weights: backward()
runs without error, every actor parameter gets grad None, and actor_opt.step() is a silent no-op. The
critics and the temperature keep training, so the logs look alive. Fix: only wrap the rollout call in
torch.no_grad().
Measured: faulty eval_return=-80.9404 vs fixed eval_return=-13.1281 (seed 1: -107.83 vs -12.21, seed 2: -142.53 vs -13.94)
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


class CartParking:
    """x'' = u - 0.3 x'; start somewhere on [-2, 2]; reward -(x^2 + 0.1 v^2 + 0.05 u^2)."""

    def __init__(self, n, horizon=50, seed=0):
        self.n, self.h = n, horizon
        self.rng = np.random.default_rng(seed)

    def reset(self):
        self.x = self.rng.uniform(-2, 2, self.n)
        self.v = self.rng.uniform(-0.5, 0.5, self.n)
        self.t = 0
        return self._obs()

    def _obs(self):
        return np.stack([self.x / 2, self.v], 1).astype(np.float32)

    def step(self, u):
        u = np.clip(u[:, 0], -1, 1) * 2.0
        self.v = self.v + 0.1 * (u - 0.3 * self.v)
        self.x = self.x + 0.1 * self.v
        r = -(self.x ** 2 + 0.1 * self.v ** 2 + 0.05 * u ** 2)
        self.t += 1
        return self._obs(), r.astype(np.float32), self.t >= self.h


class Policy(nn.Module):
    def __init__(self, h=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.mu, self.log_std = nn.Linear(h, 1), nn.Linear(h, 1)

    @torch.no_grad()
    def sample(self, obs, deterministic=False):
        h = self.body(obs)
        mu, log_std = self.mu(h), self.log_std(h).clamp(-5, 2)
        std = log_std.exp()
        u = mu if deterministic else mu + std * torch.randn_like(mu)
        a = torch.tanh(u)
        logp = (-0.5 * ((u - mu) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        logp = logp - torch.log(1 - a.pow(2) + 1e-6).sum(-1)
        return a, logp


class QNet(nn.Module):
    def __init__(self, h=64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))

    def forward(self, s, a):
        return self.net(torch.cat([s, a], -1)).squeeze(-1)


pi = Policy()
q1, q2 = QNet(), QNet()
q1_t, q2_t = copy.deepcopy(q1), copy.deepcopy(q2)
for p in list(q1_t.parameters()) + list(q2_t.parameters()):
    p.requires_grad_(False)
log_alpha = torch.zeros(1, requires_grad=True)
target_entropy = -1.0
pi_opt = torch.optim.Adam(pi.parameters(), lr=1e-3)
q_opt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=1e-3)
alpha_opt = torch.optim.Adam([log_alpha], lr=1e-3)
GAMMA, TAU, BATCH, N_ENV = 0.95, 0.01, 128, 8

env = CartParking(N_ENV, seed=SEED)
buf = {k: [] for k in "s a r s2".split()}
obs = env.reset()
returns, run = [], np.zeros(N_ENV)

for step in range(900):
    a, _ = pi.sample(torch.from_numpy(obs))
    obs2, r, timeout = env.step(a.numpy())
    for k, v in zip("s a r s2".split(), (obs, a.numpy(), r, obs2)):
        buf[k].append(v)
    run += r
    obs = obs2
    if timeout:
        returns.append(run.mean()); run[:] = 0
        obs = env.reset()
    if step < 50:
        continue

    n = len(buf["s"]) * N_ENV
    idx = np.random.randint(0, n, BATCH)
    S, A, R, S2 = (torch.from_numpy(np.concatenate(buf[k])[idx]) for k in "s a r s2".split())
    alpha = log_alpha.exp().detach()

    with torch.no_grad():
        a2, logp2 = pi.sample(S2)
        y = R + GAMMA * (torch.min(q1_t(S2, a2), q2_t(S2, a2)) - alpha * logp2)
    q_loss = F.mse_loss(q1(S, A), y) + F.mse_loss(q2(S, A), y)
    q_opt.zero_grad()
    q_loss.backward()
    q_opt.step()

    a_new, logp = pi.sample(S)
    pi_loss = (alpha * logp - torch.min(q1(S, a_new), q2(S, a_new))).mean()
    pi_opt.zero_grad()
    pi_loss.backward()
    pi_opt.step()

    alpha_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
    alpha_opt.zero_grad()
    alpha_loss.backward()
    alpha_opt.step()

    with torch.no_grad():
        for net, targ in ((q1, q1_t), (q2, q2_t)):
            for p, pt in zip(net.parameters(), targ.parameters()):
                pt.lerp_(p, TAU)

    if step % 150 == 0:
        print(f"step {step:4d} q_loss {q_loss.item():.4f} pi_loss {pi_loss.item():+.3f} "
              f"alpha {alpha.item():.3f} last return {returns[-1] if returns else float('nan'):.2f}")

test_env = CartParking(64, seed=1234 + SEED)
o, total = test_env.reset(), np.zeros(64)
for _ in range(test_env.h):
    a, _ = pi.sample(torch.from_numpy(o), deterministic=True)
    o, r, _ = test_env.step(a.numpy())
    total += r
print(f"NNDOCTOR_METRIC eval_return={total.mean():.4f} higher")
