"""Advantage actor-critic (REINFORCE with a learned baseline) on a batched 5x5 gridworld.

expect: healthy
trap: policy gradient -- the advantages are (returns - values).detach(), so the policy loss sends no gradient into the value head by design (it learns from its own MSE term); a shared trunk with two heads; the total loss is not a quantity that goes down (it can rise as the policy improves and the entropy bonus shrinks): progress shows in the return; sampled actions (torch.distributions.Categorical); one backward per batch of 32 episodes

The agent starts in a random cell and must reach the goal corner (reward +1) within 16
moves; each move costs 0.02. A random policy reaches the goal in ~20% of episodes, the
trained one in nearly all of them.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

torch.manual_seed(0)

SIZE, MAX_STEPS, N_ENVS, GAMMA = 5, 16, 32, 0.97
MOVES = torch.tensor([[0, 1], [1, 0], [0, -1], [-1, 0]])
GOAL = torch.tensor([SIZE - 1, SIZE - 1])


def observe(pos):
    return F.one_hot(pos[:, 0] * SIZE + pos[:, 1], SIZE * SIZE).float()


class ActorCritic(nn.Module):
    def __init__(self, n_obs, n_act, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(n_obs, hidden), nn.Tanh())
        self.policy = nn.Linear(hidden, n_act)
        self.value = nn.Linear(hidden, 1)

    def forward(self, obs):
        h = self.trunk(obs)
        return self.policy(h), self.value(h).squeeze(-1)


def rollout(model):
    pos = torch.randint(0, SIZE, (N_ENVS, 2))
    alive = torch.ones(N_ENVS)
    logps, values, rewards, masks, entropies = [], [], [], [], []
    for _ in range(MAX_STEPS):
        logits, value = model(observe(pos))
        dist = Categorical(logits=logits)
        action = dist.sample()
        pos = (pos + MOVES[action]).clamp(0, SIZE - 1)
        at_goal = (pos == GOAL).all(1).float()
        reward = (at_goal - 0.02) * alive
        logps.append(dist.log_prob(action))
        values.append(value)
        entropies.append(dist.entropy())
        rewards.append(reward)
        masks.append(alive.clone())
        alive = alive * (1 - at_goal)
        pos = torch.where(alive.bool().unsqueeze(1), pos, torch.zeros_like(pos))
    return logps, values, rewards, masks, entropies


def discounted_returns(rewards, masks):
    ret, out = torch.zeros(N_ENVS), []
    for r, m in zip(reversed(rewards), reversed(masks)):
        ret = r + GAMMA * ret * m
        out.append(ret)
    return list(reversed(out))


model = ActorCritic(SIZE * SIZE, 4)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)

for it in range(100):
    logps, values, rewards, masks, entropies = rollout(model)
    returns = torch.stack(discounted_returns(rewards, masks))
    logps, values, masks = torch.stack(logps), torch.stack(values), torch.stack(masks)
    advantages = (returns - values).detach()
    n = masks.sum()
    policy_loss = -(logps * advantages * masks).sum() / n
    value_loss = ((returns - values).pow(2) * masks).sum() / n
    entropy = (torch.stack(entropies) * masks).sum() / n
    loss = policy_loss + 0.5 * value_loss - 0.01 * entropy
    opt.zero_grad()
    loss.backward()
    opt.step()
    if it % 10 == 0 or it == 99:
        success = torch.stack(rewards).gt(0.5).any(0).float().mean().item()
        print(f"iter {it:3d}  loss {loss.item():+.4f}  value loss {value_loss.item():.4f}  "
              f"mean return {returns[0].mean().item():+.3f}  success {success:.2f}  entropy {entropy.item():.2f}")
