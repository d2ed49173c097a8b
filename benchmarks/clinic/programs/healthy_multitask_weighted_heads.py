"""Multi-task wine model: a shared trunk with a cultivar-classification head and an alcohol-regression head.

expect: healthy
trap: multi-task -- two heads on a shared trunk and a weighted sum of two losses on different scales (cross-entropy + 0.3 * MSE); each head gets gradient only from its own loss; StepLR halving the LR every 8 epochs; a TensorDataset + shuffled DataLoader; per-task validation metrics under model.eval()/no_grad and back to model.train()

Alcohol content is removed from the inputs and used as the regression target (standardised).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_wine
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

LOSS_WEIGHTS = {"cls": 1.0, "reg": 0.3}


class MultiTaskNet(nn.Module):
    def __init__(self, n_in, n_classes, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.LayerNorm(hidden),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.cls_head = nn.Linear(hidden, n_classes)
        self.reg_head = nn.Sequential(nn.Linear(hidden, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        h = self.trunk(x)
        return self.cls_head(h), self.reg_head(h).squeeze(-1)


def compute_losses(model, x, y_cls, y_reg):
    logits, reg = model(x)
    return {"cls": F.cross_entropy(logits, y_cls), "reg": F.mse_loss(reg, y_reg)}, logits


wine = load_wine()
feats = torch.tensor(wine.data, dtype=torch.float32)
alcohol = feats[:, 0]
X = feats[:, 1:]
y_cls = torch.tensor(wine.target)
perm = torch.randperm(len(X))
tr, va = perm[:130], perm[130:]
X = (X - X[tr].mean(0)) / X[tr].std(0)
y_reg = (alcohol - alcohol[tr].mean()) / alcohol[tr].std()

loader = DataLoader(TensorDataset(X[tr], y_cls[tr], y_reg[tr]), batch_size=16, shuffle=True)
model = MultiTaskNet(X.shape[1], 3)
opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=8, gamma=0.5)

for epoch in range(24):
    sums = {"cls": 0.0, "reg": 0.0}
    for xb, yc, yr in loader:
        losses, _ = compute_losses(model, xb, yc, yr)
        total = sum(LOSS_WEIGHTS[k] * v for k, v in losses.items())
        opt.zero_grad()
        total.backward()
        opt.step()
        for k in sums:
            sums[k] += losses[k].item() * len(xb)
    sched.step()
    if epoch % 3 == 0 or epoch == 23:
        model.eval()
        with torch.no_grad():
            val_losses, logits = compute_losses(model, X[va], y_cls[va], y_reg[va])
            acc = (logits.argmax(1) == y_cls[va]).float().mean().item()
        model.train()
        print(f"epoch {epoch:2d}  train ce {sums['cls'] / len(tr):.4f}  train mse {sums['reg'] / len(tr):.4f}  "
              f"val acc {acc:.3f}  val mse {val_losses['reg'].item():.4f}  lr {sched.get_last_lr()[0]:.1e}")
