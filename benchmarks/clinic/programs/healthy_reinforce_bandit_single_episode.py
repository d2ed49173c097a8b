"""Contextual bandit solved with REINFORCE: one episode (one context, one action) per policy update.

expect: healthy
trap: single-sample policy-gradient updates -- every optimizer step uses exactly one sampled action (batch size 1) and the surrogate loss -log pi(a|s) * advantage changes sign from step to step and never "decreases" in the supervised sense; its variance is huge relative to its mean. With a running-mean baseline and Adam at lr=1e-2 the policy still learns: the average reward over 100 episodes rises from 0.59 to 0.82-0.92 (random play gets 0.45, the best possible is 0.9), and the greedy action is right in all 6 contexts.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

N_CONTEXTS, N_ARMS, FEAT = 6, 4, 8
context_features = torch.randn(N_CONTEXTS, FEAT)
# success probability of each arm in each context; exactly one good arm (0.9) per context
reward_prob = torch.full((N_CONTEXTS, N_ARMS), 0.3)
best_arm = torch.randint(0, N_ARMS, (N_CONTEXTS,))
reward_prob[torch.arange(N_CONTEXTS), best_arm] = 0.9

policy = nn.Sequential(nn.Linear(FEAT, 32), nn.Tanh(), nn.Linear(32, N_ARMS))
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
baseline, rewards = 0.0, []

for episode in range(1, 601):
    c = torch.randint(0, N_CONTEXTS, ()).item()
    dist = torch.distributions.Categorical(logits=policy(context_features[c]))
    action = dist.sample()
    reward = float(torch.rand(()) < reward_prob[c, action])
    advantage = reward - baseline
    baseline = 0.95 * baseline + 0.05 * reward

    loss = -dist.log_prob(action) * advantage
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    rewards.append(reward)
    if episode % 100 == 0:
        print(f"episode {episode}  loss {loss.item():+.3f}  avg reward (last 100) {sum(rewards[-100:]) / 100:.2f}")

with torch.no_grad():
    greedy = policy(context_features).argmax(1)
    expected = reward_prob[torch.arange(N_CONTEXTS), greedy].mean().item()
print(f"greedy policy correct in {(greedy == best_arm).sum().item()}/{N_CONTEXTS} contexts, expected reward {expected:.2f}")
