"""MAML with a second-order inner loop (autograd.grad, create_graph=True) on sine-wave regression tasks.
expect: healthy
trap: the model is evaluated with "fast weights" (non-leaf tensors computed from the parameters) through torch.func.functional_call, so the nn.Parameters never appear directly in the forward of the loss that is back-propagated; torch.autograd.grad with create_graph=True builds a graph through the inner gradient step (second-order terms, the meta-gradient reaches the parameters only through it); the inner SGD step is written by hand and is not an optimizer; the meta-loss is averaged over 4 freshly sampled tasks per step, so it is noisy; the pre-adaptation loss of the meta-initialisation stays high by design (it is an initialisation, not a solution)

Each meta-step samples 4 sine tasks (amplitude 0.1..5, phase 0..pi), takes
one hand-written inner SGD step (lr 0.05) on 10 support points with create_graph=True,
evaluates the adapted weights on 10 query points, and lets Adam update the
meta-parameters with the mean query loss. The metric is the query MSE after
one adaptation step on held-out tasks, which falls far below the
unadapted baseline.
Measured: test_mse=0.7372 (seeds 1, 2: 0.7661, 0.6564; unadapted meta-init mse on the same tasks 3.92)
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

rng = np.random.default_rng(SEED)


def sample_task():
    amp, phase = rng.uniform(0.1, 5.0), rng.uniform(0.0, math.pi)

    def draw(n):
        x = rng.uniform(-5.0, 5.0, size=(n, 1)).astype(np.float32)
        return torch.tensor(x), torch.tensor(amp * np.sin(x - phase), dtype=torch.float32)

    return draw


model = nn.Sequential(nn.Linear(1, 40), nn.Tanh(), nn.Linear(40, 40), nn.Tanh(), nn.Linear(40, 1))
meta_opt = torch.optim.Adam(model.parameters(), lr=3e-3)
INNER_LR, INNER_STEPS, META_BATCH, K = 0.05, 1, 4, 10


def adapt(params, xs, ys, create_graph):
    fast = dict(params)
    for _ in range(INNER_STEPS):
        loss = F.mse_loss(functional_call(model, fast, (xs,)), ys)
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph)
        fast = {n: w - INNER_LR * g for (n, w), g in zip(fast.items(), grads)}
    return fast


def evaluate(n_tasks=100):
    pre = post = 0.0
    params = dict(model.named_parameters())
    for _ in range(n_tasks):
        draw = sample_task()
        xs, ys = draw(K)
        xq, yq = draw(50)
        fast = adapt(params, xs, ys, create_graph=False)
        with torch.no_grad():
            pre += F.mse_loss(model(xq), yq).item()
            post += F.mse_loss(functional_call(model, fast, (xq,)), yq).item()
    return pre / n_tasks, post / n_tasks


window = []
for it in range(500):
    meta_opt.zero_grad()
    params = dict(model.named_parameters())
    meta_loss = 0.0
    for _ in range(META_BATCH):
        draw = sample_task()
        xs, ys = draw(K)
        xq, yq = draw(K)
        fast = adapt(params, xs, ys, create_graph=True)
        meta_loss = meta_loss + F.mse_loss(functional_call(model, fast, (xq,)), yq) / META_BATCH
    meta_loss.backward()
    meta_opt.step()
    window.append(meta_loss.item())
    if (it + 1) % 100 == 0:
        print(f"iter {it + 1:4d} mean meta_loss over last 100 {np.mean(window[-100:]):.4f}")

rng = np.random.default_rng(SEED + 1000)   # held-out tasks
pre, post = evaluate()
print(f"held-out tasks: mse before adaptation {pre:.4f}, after {INNER_STEPS} steps {post:.4f}")
print(f"NNDOCTOR_METRIC test_mse={post:.4f} lower")
