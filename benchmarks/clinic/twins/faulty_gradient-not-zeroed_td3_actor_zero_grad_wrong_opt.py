"""TD3 (twin critics, delayed actor, Polyak targets) on a 2-D point-mass reach task; bug: the actor step zeroes the critic optimizer instead of the actor's.
expect: gradient-not-zeroed

The actor update was copy-pasted from the critic update and kept critic_opt.zero_grad(). The actor's
.grad is therefore never cleared: every delayed actor step adds dQ/da * da/dtheta to the running sum
of all previous actor gradients, and Adam follows that stale, ever-growing sum instead of the current
gradient of -Q(s, pi(s)). The critic trains normally (its own zero_grad runs), so the critic loss
looks fine; learning of the policy is slowed and biased toward old critic landscapes.
Fix: actor_opt.zero_grad() before actor_loss.backward() (the twin also keeps the critic zeroing).
Measured: faulty eval_return=-15.2776 vs fixed eval_return=-9.0573 (seed 1: -18.43 vs -12.99, seed 2: -14.15 vs -11.99;
random policy ~ -43). The damage is consistent but moderate: Adam normalizes the growing sum.
"""
import copy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class PointMass:
    """n parallel 2-D point masses; action = acceleration in [-1, 1]^2; reward = -distance to goal."""

    def __init__(self, n, horizon=40, seed=0):
        self.n, self.horizon = n, horizon
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self):
        self.pos = self.rng.uniform(-1, 1, (self.n, 2))
        self.vel = np.zeros((self.n, 2))
        self.goal = self.rng.uniform(-1, 1, (self.n, 2))
        self.t = 0
        return self.obs()

    def obs(self):
        return np.concatenate([self.pos, self.vel, self.goal], 1).astype(np.float32)

    def step(self, a):
        a = np.clip(a, -1, 1)
        self.vel = 0.9 * self.vel + 0.1 * a
        self.pos = np.clip(self.pos + 0.1 * self.vel * 5, -1.5, 1.5)
        r = -np.linalg.norm(self.pos - self.goal, axis=1) - 0.01 * (a ** 2).sum(1)
        self.t += 1
        return self.obs(), r.astype(np.float32), self.t >= self.horizon


def mlp(i, o, h=64):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp(6, 2)

    def forward(self, s):
        return torch.tanh(self.net(s))


class TwinCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.q1, self.q2 = mlp(8, 1), mlp(8, 1)

    def forward(self, s, a):
        sa = torch.cat([s, a], -1)
        return self.q1(sa).squeeze(-1), self.q2(sa).squeeze(-1)


actor, critic = Actor(), TwinCritic()
actor_targ, critic_targ = copy.deepcopy(actor), copy.deepcopy(critic)
actor_opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
critic_opt = torch.optim.Adam(critic.parameters(), lr=1e-3)

GAMMA, TAU, POLICY_DELAY, EXPL, TARGET_NOISE, NOISE_CLIP = 0.95, 0.005, 2, 0.2, 0.2, 0.5
N_ENV, BATCH = 8, 128
env = PointMass(N_ENV, seed=SEED)
cap = 20000
S = np.zeros((cap, 6), np.float32); A = np.zeros((cap, 2), np.float32)
R = np.zeros(cap, np.float32); S2 = np.zeros((cap, 6), np.float32); D = np.zeros(cap, np.float32)
ptr = 0
s = env.reset()
ep_returns, ep_ret = [], np.zeros(N_ENV)

for it in range(1000):
    if ptr < 400:
        a = np.random.uniform(-1, 1, (N_ENV, 2)).astype(np.float32)
    else:
        with torch.no_grad():
            a = actor(torch.from_numpy(s)).numpy()
        a = np.clip(a + EXPL * np.random.randn(*a.shape), -1, 1).astype(np.float32)
    s2, r, timeout = env.step(a)
    sl = slice(ptr, ptr + N_ENV)
    S[sl], A[sl], R[sl], S2[sl], D[sl] = s, a, r, s2, 0.0  # time-limit: not a terminal
    ptr += N_ENV
    ep_ret += r
    s = s2
    if timeout:
        ep_returns.extend(ep_ret.tolist()); ep_ret[:] = 0
        s = env.reset()
    if ptr < 400:
        continue

    idx = np.random.randint(0, ptr, BATCH)
    bs, ba, br, bs2, bd = (torch.from_numpy(x[idx]) for x in (S, A, R, S2, D))
    with torch.no_grad():
        noise = (torch.randn_like(ba) * TARGET_NOISE).clamp(-NOISE_CLIP, NOISE_CLIP)
        a2 = (actor_targ(bs2) + noise).clamp(-1, 1)
        q1_t, q2_t = critic_targ(bs2, a2)
        y = br + GAMMA * (1 - bd) * torch.min(q1_t, q2_t)
    q1, q2 = critic(bs, ba)
    critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
    critic_opt.zero_grad()
    critic_loss.backward()
    critic_opt.step()

    if it % POLICY_DELAY == 0:
        actor_loss = -critic(bs, actor(bs))[0].mean()
        actor_opt.zero_grad()
        critic_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        with torch.no_grad():
            for net, targ in ((actor, actor_targ), (critic, critic_targ)):
                for p, pt in zip(net.parameters(), targ.parameters()):
                    pt.mul_(1 - TAU).add_(TAU * p)

    if it % 100 == 0:
        last = np.mean(ep_returns[-16:]) if ep_returns else float("nan")
        print(f"it {it:4d} critic {critic_loss.item():7.3f} Q {q1.mean().item():7.2f} return {last:7.2f}")


def evaluate(policy, n=32):
    e = PointMass(n, seed=10_000 + SEED)
    o, total = e.reset(), np.zeros(n)
    with torch.no_grad():
        for _ in range(e.horizon):
            o, r, _ = e.step(policy(torch.from_numpy(o)).numpy())
            total += r
    return total.mean()


print(f"random-policy return {np.mean(ep_returns[:N_ENV]):.2f}")
print(f"NNDOCTOR_METRIC eval_return={evaluate(actor):.4f} higher")
