"""REINFORCE on a contextual bandit with a hand-written entropy bonus, -(p * log p).sum(), that turns into NaN.

expect: non-finite
allow: loss-not-decreasing

A policy network picks one of 5 arms from a 6-d context; the reward is 1 when it picks the
arm a hidden linear rule prefers. The loss is the REINFORCE term with a mean baseline
(detached advantages) plus a 0.01 entropy bonus computed by hand as
`-(probs * torch.log(probs)).sum(-1)`, with Adam at lr=0.02. The policy learns quickly
(reward ~0.94 by step 100) and grows confident: the logit gaps keep increasing, the
smallest probability falls to ~1e-28 by step 100, and at step 173 one of them underflows
to exactly 0 in float32. log(0) = -inf and 0 * -inf = NaN, so the entropy, the loss and
every gradient are NaN at that step and Adam writes NaN into all the weights; at step 174
the NaN probabilities make torch.multinomial raise "RuntimeError: probability tensor
contains either `inf`, `nan` or element < 0" and the script dies (exit code 1), as it would
for the user. (Categorical(logits=...).entropy() or log_softmax avoid it.)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N_ARMS, CTX_DIM, BATCH, ENTROPY_COEF = 5, 6, 256, 0.01
hidden_rule = torch.randn(CTX_DIM, N_ARMS)


def pull(context, arms):
    best = (context @ hidden_rule).argmax(1)
    return (arms == best).float()


def policy_loss(probs, arms, rewards):
    advantages = (rewards - rewards.mean()).detach()
    log_p = torch.log(probs.gather(1, arms.unsqueeze(1)).squeeze(1))
    entropy = -(probs * torch.log(probs)).sum(-1).mean()
    return -(log_p * advantages).mean() - ENTROPY_COEF * entropy, entropy


policy = nn.Sequential(nn.Linear(CTX_DIM, 64), nn.ReLU(), nn.Linear(64, N_ARMS))
opt = torch.optim.Adam(policy.parameters(), lr=0.02)

for it in range(300):
    ctx = torch.randn(BATCH, CTX_DIM)
    probs = F.softmax(policy(ctx), dim=-1)
    arms = torch.multinomial(probs.detach(), 1).squeeze(1)
    rewards = pull(ctx, arms)
    loss, entropy = policy_loss(probs, arms, rewards)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if it % 25 == 0:
        print(f"iter {it:3d}  mean reward {rewards.mean().item():.3f}  loss {loss.item():+.4f}  "
              f"entropy {entropy.item():.4f}  min prob {probs.min().item():.2e}")
