"""Multi-label topic tagging trained with softmax cross-entropy on multi-hot targets.

expect: loss-mismatch
allow: loss-not-decreasing

Synthetic document-tagging data (sklearn make_multilabel_classification: bag-of-words
counts, 12 tags, ~2-3 tags per document). The targets are multi-hot float vectors and the
predictions are made per tag with sigmoid(logit) > 0.5, but the model is trained with
nn.CrossEntropyLoss, which PyTorch accepts silently because float targets are read as
class probabilities. Softmax couples the tags (they compete for one unit of probability
mass) and CE is invariant to shifting all logits, so nothing calibrates the per-tag sigmoid
threshold: at the end ~29% of (doc, tag) pairs are predicted positive against a true rate of
~20% (precision 0.62, recall 0.91), and val F1 gets worse the longer it trains. The task
needs BCEWithLogitsLoss.

Measured (OMP_NUM_THREADS=1): faulty val_micro_f1 = 0.7359, fixed (BCEWithLogitsLoss,
fixed/f_multilabel_softmax_ce_fixed.py) val_micro_f1 = 0.8707.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_multilabel_classification
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, Y = make_multilabel_classification(n_samples=2400, n_features=40, n_classes=12,
                                      n_labels=2, length=250, allow_unlabeled=False,
                                      random_state=0)
X = np.log1p(X)
X_tr, X_va, Y_tr, Y_va = train_test_split(X, Y, test_size=0.25, random_state=0)
mu, sd = X_tr.mean(0), X_tr.std(0) + 1e-8
X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd

Xt = torch.tensor(X_tr, dtype=torch.float32)
Yt = torch.tensor(Y_tr, dtype=torch.float32)
Xv = torch.tensor(X_va, dtype=torch.float32)
Yv = torch.tensor(Y_va, dtype=torch.float32)


class Tagger(nn.Module):
    def __init__(self, d_in, n_tags, hidden=64, p_drop=0.2):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(p_drop),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p_drop),
        )
        self.out = nn.Linear(hidden, n_tags)

    def forward(self, x):
        return self.out(self.body(x))


def micro_f1(logits, targets):
    pred = (torch.sigmoid(logits) > 0.5).float()
    tp = (pred * targets).sum()
    fp = (pred * (1 - targets)).sum()
    fn = ((1 - pred) * targets).sum()
    return (2 * tp / (2 * tp + fp + fn)).item()


model = Tagger(Xt.shape[1], Yt.shape[1])
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
criterion = nn.CrossEntropyLoss()

batch_size = 32
n = Xt.shape[0]
step = 0
for epoch in range(30):
    perm = torch.randperm(n)
    model.train()
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        logits = model(Xt[idx])
        loss = criterion(logits, Yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    if epoch % 5 == 4:
        model.eval()
        with torch.no_grad():
            lv = model(Xv)
            print(f"epoch {epoch:2d} step {step} train_loss {loss.item():.4f} "
                  f"val_loss {criterion(lv, Yv).item():.4f} val_micro_f1 {micro_f1(lv, Yv):.4f}")

model.eval()
with torch.no_grad():
    f1 = micro_f1(model(Xv), Yv)
print(f"NNDOCTOR_METRIC val_micro_f1={f1:.4f} higher")
