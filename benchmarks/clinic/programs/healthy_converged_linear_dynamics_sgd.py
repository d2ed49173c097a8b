"""System identification: fit the transition matrix of a noise-free linear dynamical system with plain SGD.

expect: healthy
trap: a converged run with a constant LR -- the one-step prediction loss falls to ~1e-14 (float32 round-off) within ~150 of the 500 steps; for the remaining 350 steps the gradient norm is ~5e-8, updates are ~1e-8 relative to the weights and the loss curve is flat. Nothing is wrong: the model has found the exact matrix (max error ~2e-7). A rule that sees "flat loss + tiny update/weight ratio" must check that the loss is already at its floor before calling the LR too low.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

STATE_DIM = 8
A_true = torch.linalg.qr(torch.randn(STATE_DIM, STATE_DIM))[0] * 0.95     # stable rotation-like dynamics


def simulate(n_traj, length):
    x = torch.randn(n_traj, STATE_DIM)
    states = [x]
    for _ in range(length):
        x = x @ A_true.T
        states.append(x)
    traj = torch.stack(states, 1)
    return traj[:, :-1].reshape(-1, STATE_DIM), traj[:, 1:].reshape(-1, STATE_DIM)


inputs, targets = simulate(n_traj=64, length=20)
model = nn.Linear(STATE_DIM, STATE_DIM, bias=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
loss_fn = nn.MSELoss()

for step in range(1, 501):
    idx = torch.randint(0, len(inputs), (64,))
    loss = loss_fn(model(inputs[idx]), targets[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.3e}  grad norm {model.weight.grad.norm().item():.2e}")

err = (model.weight.detach() - A_true).abs().max().item()
print(f"max |A_hat - A_true| = {err:.2e}")
