"""Semi-supervised GCN on a kNN graph over make_moons points, with frozen random Fourier features, a hand-written sparse-aggregation autograd.Function and a weighted graph-smoothness term.
expect: healthy
trap: a custom autograd.Function with a hand-written (correct) backward; a frozen random-feature layer (requires_grad=False) that is still handed to the optimizer; a loss on 20 labelled nodes out of 1000; a Laplacian smoothness term ~7000x smaller than the CE term at the start; training CE that reaches ~1e-4 within 20 epochs and then drifts back up to ~1e-3 (dropout + weight decay) - a converged run, not a stalled one

1000 two-moons points become nodes; each is joined to its 10 nearest neighbours and the
symmetric normalised adjacency D^-1/2 (A + I) D^-1/2 is stored as a sparse tensor. Node
inputs are random Fourier features of the 2-D coordinates, computed by an nn.Linear whose
weights are frozen (requires_grad_(False)); the model's full parameter list still goes to
Adam, which simply skips tensors whose grad is None. Aggregation is a custom
torch.autograd.Function around torch.sparse.mm with a hand-written backward (A^T @ grad,
checked with gradcheck at start-up). Only 10 labelled nodes per class exist, so the loss
sees 2% of the graph; a small Dirichlet-energy term tr(P^T L P) on the softmax outputs
(weight 0.05) keeps predictions smooth along the graph. eval()/train() are toggled around
the periodic no_grad evaluation.
Measured: val_acc=0.9888 (seed 1: 0.9316; seed 2: 0.9949)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy import sparse as sp
from sklearn.datasets import make_moons
from sklearn.neighbors import kneighbors_graph

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = make_moons(n_samples=1000, noise=0.12, random_state=SEED)
A = kneighbors_graph(X, n_neighbors=10, include_self=False)
A = ((A + A.T) > 0).astype(np.float64)
A_hat = A + sp.eye(A.shape[0])
d_inv_sqrt = 1.0 / np.sqrt(np.asarray(A_hat.sum(1)).ravel())
A_norm = sp.diags(d_inv_sqrt) @ A_hat @ sp.diags(d_inv_sqrt)
deg_is = 1.0 / np.sqrt(np.asarray(A.sum(1)).ravel())
L = sp.eye(A.shape[0]) - sp.diags(deg_is) @ A @ sp.diags(deg_is)   # symmetric normalised Laplacian


def to_torch_sparse(m):
    m = m.tocoo()
    idx = torch.tensor(np.vstack([m.row, m.col]), dtype=torch.long)
    return torch.sparse_coo_tensor(idx, torch.tensor(m.data, dtype=torch.float32), m.shape).coalesce()


A_t, L_t = to_torch_sparse(A_norm), to_torch_sparse(L)
x = torch.tensor(X, dtype=torch.float32)
y_t = torch.tensor(y)
rng = np.random.default_rng(SEED)
train_idx = torch.tensor(np.concatenate([rng.choice(np.where(y == c)[0], 10, replace=False)
                                         for c in (0, 1)]))
val_mask = torch.ones(len(y), dtype=torch.bool)
val_mask[train_idx] = False


class SparseAgg(torch.autograd.Function):
    @staticmethod
    def forward(ctx, adj, h):
        ctx.save_for_backward(adj)
        return torch.sparse.mm(adj, h)

    @staticmethod
    def backward(ctx, grad_out):
        (adj,) = ctx.saved_tensors
        return None, torch.sparse.mm(adj.t(), grad_out)


# start-up check of the hand-written backward in double precision
_a = to_torch_sparse(A_norm[:30, :30]).double()
_h = torch.randn(30, 3, dtype=torch.double, requires_grad=True)
assert torch.autograd.gradcheck(lambda h: SparseAgg.apply(_a, h), (_h,))


class RFFGCN(nn.Module):
    def __init__(self, n_rff=64, hidden=32):
        super().__init__()
        self.rff = nn.Linear(2, n_rff)
        nn.init.normal_(self.rff.weight, std=2.0)
        nn.init.uniform_(self.rff.bias, 0, 2 * np.pi)
        self.rff.requires_grad_(False)                      # fixed random features
        self.lin1 = nn.Linear(n_rff, hidden)
        self.lin2 = nn.Linear(hidden, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, pos, adj):
        h = torch.cos(self.rff(pos)) * np.sqrt(2.0 / self.rff.out_features)
        h = F.relu(SparseAgg.apply(adj, self.lin1(self.drop(h))))
        h = SparseAgg.apply(adj, self.lin2(self.drop(h)))
        return SparseAgg.apply(adj, h)                      # one more propagation step


model = RFFGCN()
opt = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)
W_SMOOTH = 0.05

for epoch in range(120):
    model.train()
    logits = model(x, A_t)
    ce = F.cross_entropy(logits[train_idx], y_t[train_idx])
    P = torch.softmax(logits, 1)
    smooth = (P * torch.sparse.mm(L_t, P)).sum() / len(P)
    loss = ce + W_SMOOTH * smooth
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 20 == 0 or epoch == 119:
        model.eval()
        with torch.no_grad():
            acc = (model(x, A_t).argmax(1)[val_mask] == y_t[val_mask]).float().mean().item()
        print(f"epoch {epoch:3d} ce {ce.item():.4f} smooth-term {W_SMOOTH * smooth.item():.5f} "
              f"val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(x, A_t).argmax(1)[val_mask] == y_t[val_mask]).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
