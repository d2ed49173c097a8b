"""A mixture-of-experts regressor whose gate weights are copied out with .tolist() and re-wrapped with torch.tensor().

expect: broken-gradient-flow
allow: loss-not-decreasing

The data come from four regimes, each with its own linear rule, and the regime can be read
off the input. Four linear experts are mixed by a softmax gate. The model also accumulates
routing statistics, and to get rid of a "Can't call numpy() on Tensor that requires grad"
error the author copied the gate probabilities out with `torch.tensor(probs.tolist())` and
used that copy for the mixing too: the mixing weights are now constants, so the gate
network (in the optimizer, requires_grad=True) never receives a gradient and keeps its
random initial routing (the routing shares stay at 0.18/0.27/0.28/0.28). The experts still
learn, but can only fit a blend of the regimes: the full-data MSE stalls at ~0.41, where the
same model mixing with `probs` (and counting `probs.detach()`) reaches ~0.04.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N, D, K = 4000, 8, 4

regime_centers = torch.randn(K, D) * 3.0
rules = torch.randn(K, D)
regime = torch.randint(0, K, (N,))
X = regime_centers[regime] + torch.randn(N, D)
y = (X * rules[regime]).sum(1) / D ** 0.5 + 0.1 * torch.randn(N)
y = (y - y.mean()) / y.std()


class MoE(nn.Module):
    def __init__(self, d_in, n_experts):
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, n_experts))
        self.experts = nn.ModuleList(nn.Linear(d_in, 1) for _ in range(n_experts))
        self.routing_counts = torch.zeros(n_experts)

    def forward(self, x):
        probs = F.softmax(self.gate(x), dim=-1)
        weights = torch.tensor(probs.tolist())
        self.routing_counts += weights.sum(0)
        outs = torch.cat([e(x) for e in self.experts], dim=1)
        return (weights * outs).sum(1)


model = MoE(D, K)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)

for step in range(400):
    idx = torch.randint(0, N, (128,))
    loss = F.mse_loss(model(X[idx]), y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0 or step == 399:
        with torch.no_grad():
            full = F.mse_loss(model(X), y).item()
        share = model.routing_counts / model.routing_counts.sum()
        print(f"step {step:3d}  batch mse {loss.item():.4f}  full mse {full:.4f}  routing share {share.numpy().round(2)}")
