"""Three-layer mean-aggregation GNN on a seeded stochastic-block-model graph, with a hand-written scatter-mean autograd.Function whose backward forgets the 1/deg.
expect: exploding-gradient
allow: dead-relu, learning-rate-too-high, loss-not-decreasing

Message passing is done with an edge list and index_add_ (a "scatter mean") wrapped in a
custom torch.autograd.Function to avoid building a dense adjacency. The forward divides the
summed neighbour messages by the in-degree; the hand-written backward scatters grad_out back
along the edges but does not divide by the degree of the receiving node. The forward pass is
correct, so the first loss value is normal, but every aggregation multiplies the gradient by
the node degree (~47 here). At step 0 the first layer's weight gradient is ~36 against
~0.07 in the fixed version (output layer ~0.15 in both), it spikes to ~150 a few steps
later, SGD+momentum (lr 0.1, right for correct gradients) takes huge steps, the weights grow
to |w| ~ 200, the loss jumps up and oscillates, and the run ends with almost all ReLUs of the
second layer dead and the loss stuck at ~1.34 (chance level for 4 classes is 1.39).
Measured: faulty val_acc=0.2429 vs fixed val_acc=0.8500 (seed 1: 0.2518 vs 0.8018; seed 2: 0.2268 vs 0.8446)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

# ---------------------------------------------------------------- synthetic SBM graph
rng = np.random.default_rng(SEED)
N, C, D_FEAT = 800, 4, 16
labels = rng.integers(0, C, size=N)
P_IN, P_OUT = 0.12, 0.04
same = labels[:, None] == labels[None, :]
probs = np.where(same, P_IN, P_OUT)
upper = np.triu(rng.random((N, N)) < probs, k=1)
adj = upper | upper.T
src, dst = np.nonzero(adj)                     # edge j -> i stored as (src=j, dst=i)
centroids = rng.normal(size=(C, D_FEAT))
feats = centroids[labels] * 0.3 + rng.normal(size=(N, D_FEAT))   # weak, noisy features

x = torch.tensor(feats, dtype=torch.float32)
y = torch.tensor(labels, dtype=torch.long)
src_t = torch.tensor(src, dtype=torch.long)
dst_t = torch.tensor(dst, dtype=torch.long)
deg = torch.bincount(dst_t, minlength=N).clamp_min(1).float()
perm = rng.permutation(N)
train_idx = torch.tensor(perm[:240])
val_idx = torch.tensor(perm[240:])
print(f"nodes {N} edges {len(src)} mean degree {deg.mean():.1f}")


class ScatterMean(torch.autograd.Function):
    """out[i] = mean_{j -> i} h[j], computed from an edge list."""

    @staticmethod
    def forward(ctx, h, src, dst, deg):
        out = torch.zeros_like(h).index_add_(0, dst, h[src])
        ctx.save_for_backward(src, dst, deg)
        return out / deg.unsqueeze(1)

    @staticmethod
    def backward(ctx, grad_out):
        src, dst, deg = ctx.saved_tensors
        # d out[i] / d h[j] = 1/deg[i] for every edge j -> i: send grad back along the edges
        grad_h = torch.zeros_like(grad_out).index_add_(0, src, grad_out[dst])
        return grad_h, None, None, None


class MeanConv(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.lin_self = nn.Linear(d_in, d_out)
        self.lin_neigh = nn.Linear(d_in, d_out, bias=False)

    def forward(self, h):
        return self.lin_self(h) + self.lin_neigh(ScatterMean.apply(h, src_t, dst_t, deg))


class GNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([MeanConv(D_FEAT, 32), MeanConv(32, 32), MeanConv(32, C)])

    def forward(self, h):
        for i, conv in enumerate(self.convs):
            h = conv(h)
            if i < len(self.convs) - 1:
                h = F.relu(h)
        return h


model = GNN()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

for epoch in range(200):
    model.train()
    out = model(x)
    loss = F.cross_entropy(out[train_idx], y[train_idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 25 == 0 or epoch == 199:
        model.eval()
        with torch.no_grad():
            acc = (model(x)[val_idx].argmax(1) == y[val_idx]).float().mean().item()
        print(f"epoch {epoch:3d} loss {loss.item():.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(x)[val_idx].argmax(1) == y[val_idx]).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
