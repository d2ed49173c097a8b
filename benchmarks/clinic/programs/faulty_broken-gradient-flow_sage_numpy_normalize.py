"""Two-layer GraphSAGE-style GNN on a kNN graph over sklearn digits; the L2 row-normalisation of the hidden embeddings goes through numpy/sklearn and cuts the graph.
expect: broken-gradient-flow

Semi-supervised node classification: 1797 digit images are nodes, edges join each image to
its 8 nearest neighbours (symmetrised, sparse mean aggregation), and only 120 nodes carry a
label. The GraphSAGE paper normalises hidden embeddings to unit length after each layer;
the author did that with sklearn.preprocessing.normalize on h.detach().cpu().numpy() and
wrapped the result back with torch.from_numpy. The forward pass still works and the loss
still falls (the second layer learns on whatever the first layer produces), but layer 1
(layer1.self_lin, layer1.neigh_lin) never receives a gradient (.grad stays None): its
weights stay at their random initialisation, so the model is a classifier on 16 random
ReLU features of the pixels and their neighbourhood mean.
Measured: faulty val_acc=0.8067 vs fixed val_acc=0.9267 (seed 1: 0.8717 vs 0.9550; seed 2: 0.8133 vs 0.9633)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.neighbors import kneighbors_graph
from sklearn.preprocessing import StandardScaler, normalize

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X).astype(np.float32)
n = X.shape[0]

A = kneighbors_graph(X, n_neighbors=8, mode="connectivity", include_self=False)
A = ((A + A.T) > 0).astype(np.float32).toarray()
deg = A.sum(1, keepdims=True)
A_mean = torch.from_numpy(A / np.maximum(deg, 1.0)).to_sparse()  # row-normalised (mean aggregator)

rng = np.random.default_rng(SEED)
perm = rng.permutation(n)
train_idx = torch.from_numpy(np.sort(perm[:120]))
val_idx = torch.from_numpy(np.sort(perm[120:720]))
X_t = torch.from_numpy(X)
y_t = torch.from_numpy(y).long()


class SAGELayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.self_lin = nn.Linear(d_in, d_out)
        self.neigh_lin = nn.Linear(d_in, d_out, bias=False)

    def forward(self, h, adj):
        return self.self_lin(h) + self.neigh_lin(torch.sparse.mm(adj, h))


class SAGE(nn.Module):
    def __init__(self, d_in, d_hid, n_cls):
        super().__init__()
        self.layer1 = SAGELayer(d_in, d_hid)
        self.layer2 = SAGELayer(d_hid, n_cls)
        self.drop = nn.Dropout(0.3)

    def forward(self, x, adj):
        h = F.relu(self.layer1(self.drop(x), adj))
        # unit-length embeddings, as in Hamilton et al. (2017), Alg. 1 line 7
        h = torch.from_numpy(normalize(h.detach().cpu().numpy(), norm="l2"))
        h = self.drop(h) * 4.0
        return self.layer2(h, adj)


model = SAGE(64, 16, 10)
opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)

for epoch in range(100):
    model.train()
    out = model(X_t, A_mean)
    loss = F.cross_entropy(out[train_idx], y_t[train_idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 25 == 0 or epoch == 99:
        model.eval()
        with torch.no_grad():
            out = model(X_t, A_mean)
            val_loss = F.cross_entropy(out[val_idx], y_t[val_idx]).item()
            acc = (out[val_idx].argmax(1) == y_t[val_idx]).float().mean().item()
        print(f"epoch {epoch:3d} loss {loss.item():.4f} val_loss {val_loss:.4f} val_acc {acc:.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(X_t, A_mean)[val_idx].argmax(1) == y_t[val_idx]).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
