"""DQN with a target network on a small corridor environment (offline replay of random transitions).

expect: healthy
trap: target network -- evaluated under torch.no_grad(), its parameters still require grad, belong to no optimizer and get no gradient; synced with load_state_dict every 25 steps; one-hot inputs; a small TD loss that does not fall monotonically
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N_STATES, GOAL, GAMMA = 10, 9, 0.9
ACTIONS = (-1, +1)                 # left, right


def env_step(s, a):
    s2 = min(max(s + ACTIONS[a], 0), N_STATES - 1)
    return s2, (1.0 if s2 == GOAL else 0.0), s2 == GOAL


def one_hot(states):
    return F.one_hot(states, N_STATES).float()


# replay buffer filled by a uniformly random behaviour policy
buffer = []
s = 0
for _ in range(3000):
    a = int(torch.randint(0, 2, ()))
    s2, r, done = env_step(s, a)
    buffer.append((s, a, r, s2, float(done)))
    s = 0 if done else s2
S, A, R, S2, DONE = (torch.tensor(col) for col in zip(*buffer))

# optimal action values, for reporting only
Q_STAR = torch.tensor([[GAMMA ** (GOAL - min(max(s + d, 0), N_STATES - 1)) for d in ACTIONS]
                       for s in range(N_STATES)])


def value_error(net):
    with torch.no_grad():
        q = net(one_hot(torch.arange(GOAL)))
    return (q - Q_STAR[:GOAL]).abs().max().item()


q_net = nn.Sequential(nn.Linear(N_STATES, 64), nn.ReLU(), nn.Linear(64, 2))
target_net = copy.deepcopy(q_net)
optimizer = torch.optim.Adam(q_net.parameters(), lr=3e-3)
print(f"max |Q - Q*| before training: {value_error(q_net):.3f}")

for step in range(400):
    idx = torch.randint(0, len(buffer), (64,))
    q = q_net(one_hot(S[idx])).gather(1, A[idx].unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        next_q = target_net(one_hot(S2[idx])).max(1).values
        target = R[idx].float() + GAMMA * (1 - DONE[idx]) * next_q
    loss = F.mse_loss(q, target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 25 == 0:
        target_net.load_state_dict(q_net.state_dict())
    if step % 80 == 0 or step == 399:
        print(f"step {step:3d}  td loss {loss.item():.5f}  max |Q - Q*| {value_error(q_net):.3f}")

with torch.no_grad():
    greedy = q_net(one_hot(torch.arange(GOAL))).argmax(1)
print("greedy policy (1 = right):", greedy.tolist())
