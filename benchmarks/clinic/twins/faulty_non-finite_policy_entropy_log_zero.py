"""Healthy twin of faulty_non-finite_policy_entropy_log_zero.py: the entropy from log_softmax (log-probabilities never -inf) instead of log(softmax).
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


def policy_loss(logits, arms, rewards):
    advantages = (rewards - rewards.mean()).detach()
    log_probs = F.log_softmax(logits, dim=-1)
    log_p = log_probs.gather(1, arms.unsqueeze(1)).squeeze(1)
    entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
    return -(log_p * advantages).mean() - ENTROPY_COEF * entropy, entropy


policy = nn.Sequential(nn.Linear(CTX_DIM, 64), nn.ReLU(), nn.Linear(64, N_ARMS))
opt = torch.optim.Adam(policy.parameters(), lr=0.02)

for it in range(300):
    ctx = torch.randn(BATCH, CTX_DIM)
    logits = policy(ctx)
    probs = F.softmax(logits, dim=-1)
    arms = torch.multinomial(probs.detach(), 1).squeeze(1)
    rewards = pull(ctx, arms)
    loss, entropy = policy_loss(logits, arms, rewards)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if it % 25 == 0:
        print(f"iter {it:3d}  mean reward {rewards.mean().item():.3f}  loss {loss.item():+.4f}  "
              f"entropy {entropy.item():.4f}  min prob {probs.min().item():.2e}")

# greedy reward on a fixed evaluation batch of contexts (the same evaluation as twins/*.metric.py)
torch.manual_seed(1234)
eval_ctx = torch.randn(4096, CTX_DIM)
with torch.no_grad():
    greedy_reward = pull(eval_ctx, policy(eval_ctx).argmax(1)).mean().item()
print(f"NNDOCTOR_METRIC greedy_reward={greedy_reward:.4f} higher")
