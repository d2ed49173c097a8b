"""Two-head digits model (class + ink-amount regression); the regression term is F.l1_loss on (N, 1) vs (N,).

expect: target-shape-mismatch

The subtle case: the classification head is fine (cross-entropy on (N, 10) logits vs (N,)
labels), and only the auxiliary head is broken -- ink_head returns (N, 1), the ink target is
(N,), and F.l1_loss broadcasts them to (N, N) (a UserWarning is the only sign). The L1 term is
then minimised by predicting the batch median for every image, so the ink head never learns
(test MAE 0.29, worse than predicting the mean, 0.27) while the accuracy looks normal.
Fixed (ink_head(h).squeeze(-1)): ink MAE 0.114 vs 0.293 here, test acc 0.887 vs 0.889.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


class TwoHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.cls_head = nn.Linear(64, 10)
        self.ink_head = nn.Linear(64, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.cls_head(h), self.ink_head(h)


class Trainer:
    def __init__(self, model, lr=1e-3, aux_weight=1.0):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.aux_weight = aux_weight

    def compute_loss(self, x, labels, ink):
        logits, ink_pred = self.model(x)
        cls_loss = F.cross_entropy(logits, labels)
        ink_loss = F.l1_loss(ink_pred, ink)
        return cls_loss + self.aux_weight * ink_loss, cls_loss, ink_loss

    def train_epoch(self, X, labels, ink, batch_size=64):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), batch_size):
            idx = perm[i:i + batch_size]
            loss, cls_loss, ink_loss = self.compute_loss(X[idx], labels[idx], ink[idx])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return cls_loss.item(), ink_loss.item()

    @torch.no_grad()
    def evaluate(self, X, labels, ink):
        logits, ink_pred = self.model(X)
        acc = (logits.argmax(1) == labels).float().mean().item()
        ink_mae = (ink_pred.view(-1) - ink).abs().mean().item()
        return acc, ink_mae


digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
labels = torch.tensor(digits.target)
ink = X.mean(1) * 10                         # total ink on the page (mean intensity x 10), ~2..5
ink = ink - ink[:1400].mean()
X_tr, lab_tr, ink_tr = X[:1400], labels[:1400], ink[:1400]
X_te, lab_te, ink_te = X[1400:], labels[1400:], ink[1400:]

trainer = Trainer(TwoHeadNet(), lr=1e-3)
for epoch in range(12):
    cls_loss, ink_loss = trainer.train_epoch(X_tr, lab_tr, ink_tr)
    if epoch % 3 == 2:
        acc, mae = trainer.evaluate(X_te, lab_te, ink_te)
        print(f"epoch {epoch + 1:2d}  ce {cls_loss:.4f}  l1 {ink_loss:.4f}  test acc {acc:.3f}  ink MAE {mae:.4f}")
acc, mae = trainer.evaluate(X_te, lab_te, ink_te)
print(f"final: test acc {acc:.3f}  ink MAE {mae:.4f}  (MAE of predicting the mean: {(ink_te - ink_tr.mean()).abs().mean():.4f})")
