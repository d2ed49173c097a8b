"""PPO (clipped surrogate, GAE) on a numpy CartPole; bug: Adam learning rate 1e-1, carried over from an SGD policy-gradient config.
expect: learning-rate-too-high
allow: loss-not-decreasing

lr=0.1 is a sane step for plain SGD on a REINFORCE baseline but ~40x too large for Adam, whose
per-parameter step is ~lr regardless of gradient scale. Within a few updates the policy logits jump
to saturation, the entropy falls to 0, and PPO's clipping cannot help because the ratio is clipped
per sample while each minibatch step already moves the logits by O(1). The policy locks into pushing
the cart one way and episodes last ~9 steps; the linear LR decay comes too late. Fix: lr=2.5e-3.
Measured: faulty eval_return=9.1000 vs fixed eval_return=200.0000 (seed 1: 9.1 vs 200, seed 2: 9.6 vs 200)
"""
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class VecCartPole:
    """Classic cart-pole (Barto et al.), Euler integration, vectorized over n envs, auto-reset."""

    def __init__(self, n, max_steps=200, seed=0):
        self.n, self.max_steps = n, max_steps
        self.rng = np.random.default_rng(seed)
        self.g, self.mc, self.mp, self.l, self.f, self.dt = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
        self.s = self.rng.uniform(-0.05, 0.05, (n, 4))
        self.t = np.zeros(n, dtype=int)

    def reset_idx(self, mask):
        self.s[mask] = self.rng.uniform(-0.05, 0.05, (mask.sum(), 4))
        self.t[mask] = 0

    def step(self, a):
        x, xd, th, thd = self.s.T
        force = np.where(a == 1, self.f, -self.f)
        ct, st = np.cos(th), np.sin(th)
        tm = self.mc + self.mp
        tmp = (force + self.mp * self.l * thd ** 2 * st) / tm
        thacc = (self.g * st - ct * tmp) / (self.l * (4.0 / 3.0 - self.mp * ct ** 2 / tm))
        xacc = tmp - self.mp * self.l * thacc * ct / tm
        self.s = np.stack([x + self.dt * xd, xd + self.dt * xacc, th + self.dt * thd, thd + self.dt * thacc], 1)
        self.t += 1
        fell = (np.abs(self.s[:, 0]) > 2.4) | (np.abs(self.s[:, 2]) > 0.2095)
        timeout = self.t >= self.max_steps
        r = np.ones(self.n)
        done = fell | timeout
        self.reset_idx(done)
        return self.s.copy(), r, fell, done


class ActorCritic(nn.Module):
    def __init__(self, obs_dim=4, n_act=2, h=64):
        super().__init__()
        self.pi = nn.Sequential(nn.Linear(obs_dim, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh(), nn.Linear(h, n_act))
        self.v = nn.Sequential(nn.Linear(obs_dim, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh(), nn.Linear(h, 1))
        nn.init.orthogonal_(self.pi[-1].weight, 0.01)

    def dist(self, obs):
        return Categorical(logits=self.pi(obs))


OBS_SCALE = torch.tensor([2.4, 3.0, 0.21, 3.0])  # fixed physical ranges -> inputs O(1)
N_ENV, HORIZON, ITERS = 16, 64, 45
GAMMA, LAM, CLIP, EPOCHS, N_MB = 0.99, 0.95, 0.2, 4, 4

env = VecCartPole(N_ENV, seed=SEED)
ac = ActorCritic()
LR = 1e-1
opt = torch.optim.Adam(ac.parameters(), lr=LR, eps=1e-5)
obs = torch.tensor(env.s, dtype=torch.float32)
ep_ret, finished = np.zeros(N_ENV), []

for it in range(ITERS):
    for g in opt.param_groups:
        g["lr"] = LR * (1 - it / ITERS)
    buf_o, buf_a, buf_lp, buf_r, buf_d, buf_v, buf_term = [], [], [], [], [], [], []
    with torch.no_grad():
        for _ in range(HORIZON):
            d = ac.dist(obs / OBS_SCALE)
            a = d.sample()
            v = ac.v(obs / OBS_SCALE).squeeze(-1)
            nobs, r, fell, done = env.step(a.numpy())
            ep_ret += r
            for i in np.where(done)[0]:
                finished.append(ep_ret[i])
                ep_ret[i] = 0
            buf_o.append(obs); buf_a.append(a); buf_lp.append(d.log_prob(a)); buf_v.append(v)
            buf_r.append(torch.tensor(r, dtype=torch.float32))
            buf_d.append(torch.tensor(done, dtype=torch.float32))
            buf_term.append(torch.tensor(fell, dtype=torch.float32))
            obs = torch.tensor(nobs, dtype=torch.float32)
        last_v = ac.v(obs / OBS_SCALE).squeeze(-1)
        # GAE; time-outs are treated as episode ends (simple, slightly biased)
        adv = torch.zeros(HORIZON, N_ENV)
        gae = torch.zeros(N_ENV)
        for t in reversed(range(HORIZON)):
            nv = last_v if t == HORIZON - 1 else buf_v[t + 1]
            nonterm = 1.0 - buf_d[t]
            delta = buf_r[t] + GAMMA * nv * nonterm - buf_v[t]
            gae = delta + GAMMA * LAM * nonterm * gae
            adv[t] = gae
        ret = adv + torch.stack(buf_v)

    O = torch.stack(buf_o).reshape(-1, 4) / OBS_SCALE
    A, LP = torch.stack(buf_a).reshape(-1), torch.stack(buf_lp).reshape(-1)
    ADV, RET = adv.reshape(-1), ret.reshape(-1)
    n = O.shape[0]
    for _ in range(EPOCHS):
        perm = torch.randperm(n)
        for mb in perm.chunk(N_MB):
            d = ac.dist(O[mb])
            ratio = torch.exp(d.log_prob(A[mb]) - LP[mb])
            adv_mb = (ADV[mb] - ADV[mb].mean()) / (ADV[mb].std() + 1e-8)
            pg_loss = -torch.min(ratio * adv_mb, ratio.clamp(1 - CLIP, 1 + CLIP) * adv_mb).mean()
            v_loss = 0.5 * (ac.v(O[mb]).squeeze(-1) - RET[mb]).pow(2).mean()
            ent = d.entropy().mean()
            loss = pg_loss + 0.5 * v_loss - 0.01 * ent
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(ac.parameters(), 0.5)
            opt.step()
    if it % 5 == 0 or it == ITERS - 1:
        recent = np.mean(finished[-20:]) if finished else float("nan")
        print(f"iter {it:2d} return(last 20 eps) {recent:6.1f} v_loss {v_loss.item():8.3f} "
              f"entropy {ent.item():.3f}")


def evaluate(policy, episodes=10):
    e = VecCartPole(episodes, seed=1000 + SEED)
    o = torch.tensor(e.s, dtype=torch.float32)
    total, alive = np.zeros(episodes), np.ones(episodes, dtype=bool)
    with torch.no_grad():
        for _ in range(200):
            a = policy.pi(o / OBS_SCALE).argmax(-1).numpy()
            o, r, fell, done = e.step(a)
            o = torch.tensor(o, dtype=torch.float32)
            total += r * alive
            alive &= ~done
    return total.mean()


print(f"NNDOCTOR_METRIC eval_return={evaluate(ac):.4f} higher")
