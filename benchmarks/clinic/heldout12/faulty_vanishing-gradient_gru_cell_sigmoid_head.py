"""Row-by-row GRU-style digit classifier whose 8-layer classifier head uses torch.sigmoid as its hidden activation.
expect: vanishing-gradient

The hand-written GRU cell's torch.sigmoid reset/update gates (and tanh candidate) are
correct and must stay. The bug is in the 8-layer classifier head, which applies
torch.sigmoid after each Linear: gradients shrink ~7 orders of magnitude between the output
layer and head[0] (and the GRU cell behind it gets even less), so nothing but the last layer
learns and accuracy stays at chance.
Fix: F.relu with nn.init.kaiming_normal_ (zero biases) in the head only; the gates keep sigmoid.
Measured: faulty val_acc=0.1022 vs fixed val_acc=0.9156
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
torch.set_num_threads(1)


class GatedCell(nn.Module):
    """Minimal hand-written GRU cell."""

    def __init__(self, d_in, d_hid):
        super().__init__()
        self.d_hid = d_hid
        self.x2h = nn.Linear(d_in, 3 * d_hid)
        self.h2h = nn.Linear(d_hid, 3 * d_hid)

    def forward(self, x, h):
        H = self.d_hid
        gx = self.x2h(x)
        gh = self.h2h(h)
        r = torch.sigmoid(gx[:, :H] + gh[:, :H])            # reset gate
        z = torch.sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])  # update gate
        n = torch.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])   # candidate state
        return (1 - z) * n + z * h


class RowGRUClassifier(nn.Module):
    def __init__(self, d_in=8, d_hid=64, head_depth=8, n_classes=10):
        super().__init__()
        self.cell = GatedCell(d_in, d_hid)
        self.head = nn.ModuleList([nn.Linear(d_hid, d_hid) for _ in range(head_depth)])
        self.out = nn.Linear(d_hid, n_classes)

    def forward(self, seq):  # seq: (batch, time, d_in)
        h = seq.new_zeros(seq.shape[0], self.cell.d_hid)
        for t in range(seq.shape[1]):
            h = self.cell(seq[:, t], h)
        for layer in self.head:
            h = torch.sigmoid(layer(h))
        return self.out(h)


digits = load_digits()
X = torch.tensor(digits.images / 16.0, dtype=torch.float32)  # (N, 8 rows, 8 cols) -> sequence of 8 rows
y = torch.tensor(digits.target, dtype=torch.long)
i_tr, i_va = train_test_split(range(len(X)), test_size=0.25, random_state=1, stratify=digits.target)
X_tr, y_tr, X_va, y_va = X[i_tr], y[i_tr], X[i_va], y[i_va]

model = RowGRUClassifier()
opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)

step = 0
for epoch in range(20):
    model.train()
    perm = torch.randperm(len(X_tr))
    for i in range(0, len(X_tr), 64):
        b = perm[i:i + 64]
        loss = F.cross_entropy(model(X_tr[b]), y_tr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1} loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(X_va).argmax(1) == y_va).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
