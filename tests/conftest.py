import os

import pytest
import torch
from torch import nn

# The tests train tiny models: one intra-op thread is as fast as two, and far faster when the cores are
# shared (OpenMP threads spin-wait; a 64-wide BatchNorm step took 80 ms with 2 threads on a loaded
# 2-core machine against 3 ms with 1). Subprocesses the tests start (`nndoctor run ...`) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


def blobs(n=256, d=20, classes=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long() if classes == 2 else torch.randint(0, classes, (n,), generator=g)
    return X, y


def mlp(d=20, h=32, out=2, depth=2, act=nn.ReLU, seed=0):
    torch.manual_seed(seed)
    layers, w = [], d
    for _ in range(depth):
        layers += [nn.Linear(w, h), act()]
        w = h
    return nn.Sequential(*layers, nn.Linear(w, out))


def train(model, opt, X, y, steps=60, batch=32, zero=True, step=True, accum=1, loss_fn=None):
    loss_fn = loss_fn or nn.functional.cross_entropy
    losses = []
    n = len(X)
    for i in range(steps):
        for k in range(accum):
            j = ((i * accum + k) * batch) % n
            xb, yb = X[j:j + batch], y[j:j + batch]
            loss = loss_fn(model(xb), yb) / accum
            loss.backward()
            losses.append(loss.detach().clone())
        if step:
            opt.step()
        if zero:
            opt.zero_grad()
    return torch.stack(losses)
