"""Two-layer GCN (dense symmetric-normalised adjacency, hand-written weights) fitted full-batch with L-BFGS on a synthetic stochastic-block-model graph with binary bag-of-words node features.
expect: healthy
trap: L-BFGS calls the closure (zero_grad + backward) up to 20 times per optimizer.step(), so backward/step counts do not match 1:1; the training loss flattens after ~5 outer steps and then sits on an exact plateau for 35 more (converged, not stuck; later steps are near-no-ops with tiny updates); the printed training loss includes the L2 penalty and stays above the validation cross-entropy; full-batch training on 400 nodes (no minibatch noise); raw 0/1 bag-of-words inputs with mean ~0.08 (not to be standardised)

The model is the Kipf & Welling GCN written with explicit parameter matrices, trained on 15 labelled
nodes per class with an explicit L2 penalty inside the closure (L-BFGS has no weight_decay).  The
strong-Wolfe line search makes each outer step a near-exact minimisation, so the loss curve is a
sharp drop followed by a long flat line while validation accuracy stays where it converged.
Measured: val_acc=0.9312 (seeds 1/2: 0.9062, 0.8938)
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)
t0 = time.time()

rng = np.random.default_rng(SEED)
n_cls, per_cls, n_words = 4, 100, 120
N = n_cls * per_cls
y_np = np.repeat(np.arange(n_cls), per_cls)
P = np.where(y_np[:, None] == y_np[None, :], 0.05, 0.008)
A = np.triu((rng.random((N, N)) < P).astype(np.float32), 1)
A = A + A.T
topic = rng.random((n_cls, n_words)) < 0.25
X_np = (rng.random((N, n_words)) < np.where(topic[y_np], 0.14, 0.05)).astype(np.float32)

At = A + np.eye(N, dtype=np.float32)
dinv = 1.0 / np.sqrt(At.sum(1))
A_hat = torch.from_numpy(At * dinv[:, None] * dinv[None, :])
X = torch.from_numpy(X_np)
y = torch.from_numpy(y_np).long()

tr_idx, va_idx = [], []
for c in range(n_cls):
    m = rng.permutation(np.where(y_np == c)[0])
    tr_idx += list(m[:15])
    va_idx += list(m[15:55])
tr_idx, va_idx = torch.tensor(tr_idx), torch.tensor(va_idx)

W1 = nn.Parameter(torch.empty(n_words, 32))
W2 = nn.Parameter(torch.empty(32, n_cls))
nn.init.xavier_uniform_(W1)
nn.init.xavier_uniform_(W2)
params = [W1, W2]


def gcn(X):
    H = torch.relu(A_hat @ X @ W1)
    return A_hat @ H @ W2


lam = 5e-3
opt = torch.optim.LBFGS(params, lr=1.0, max_iter=20, history_size=10, line_search_fn="strong_wolfe")
n_evals = 0


def closure():
    global n_evals
    opt.zero_grad()
    out = gcn(X)
    loss = F.cross_entropy(out[tr_idx], y[tr_idx]) + lam * (W1.pow(2).sum() + W2.pow(2).sum())
    loss.backward()
    n_evals += 1
    return loss


for it in range(40):
    loss = opt.step(closure)
    if it % 5 == 0 or it == 39:
        with torch.no_grad():
            out = gcn(X)
            val_loss = F.cross_entropy(out[va_idx], y[va_idx]).item()
            va = (out[va_idx].argmax(1) == y[va_idx]).float().mean().item()
        print(f"outer {it:2d} evals {n_evals:4d} loss={loss.item():.5f} val_loss={val_loss:.4f} val_acc={va:.3f}")

with torch.no_grad():
    val_acc = (gcn(X)[va_idx].argmax(1) == y[va_idx]).float().mean().item()
print(f"time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
