"""REINFORCE on a contextual bandit with per-batch normalised rewards: the policy-gradient "loss" does not go down while the reward climbs.

expect: healthy
trap: a policy-gradient surrogate loss, -(log_prob * advantage).mean(), whose advantages are standardised per batch (mean 0, std 1) -- its value starts at 0, dips and then drifts back up toward 0 as the policy grows confident, so it does not go down by design; progress shows in the average reward (from 0.25 to ~0.82, the best possible being 0.9) and in the falling policy entropy; sampled actions (torch.distributions.Categorical)

Each round shows a 6-dim context; one of 5 arms pays 1 with probability 0.9 (which one depends
on the context), every other arm pays with probability 0.1.
"""
import torch
import torch.nn as nn
from torch.distributions import Categorical

torch.manual_seed(0)
N_ARMS, CTX_DIM, BATCH = 5, 6, 64
ARM_PROTOTYPES = torch.randn(N_ARMS, CTX_DIM)


def pull(context, actions):
    best = (context @ ARM_PROTOTYPES.T).argmax(1)
    p_win = torch.where(actions == best, 0.9, 0.1)
    return torch.bernoulli(p_win)


policy = nn.Sequential(nn.Linear(CTX_DIM, 64), nn.Tanh(), nn.Linear(64, N_ARMS))
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)

reward_log = []
for it in range(300):
    context = torch.randn(BATCH, CTX_DIM)
    dist = Categorical(logits=policy(context))
    actions = dist.sample()
    rewards = pull(context, actions)
    advantages = (rewards - rewards.mean()) / (rewards.std() + 1e-8)
    loss = -(dist.log_prob(actions) * advantages).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    reward_log.append(rewards.mean().item())
    if it % 30 == 0 or it == 299:
        recent = sum(reward_log[-30:]) / len(reward_log[-30:])
        print(f"iter {it:3d}  pg loss {loss.item():+.4f}  entropy {dist.entropy().mean().item():.3f}  avg reward (last 30) {recent:.3f}")
