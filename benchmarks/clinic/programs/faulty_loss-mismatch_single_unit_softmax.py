"""Binary churn predictor with ONE output unit followed by softmax, trained with nn.BCELoss.

expect: loss-mismatch
allow: loss-not-decreasing, broken-gradient-flow

softmax over a dimension of size 1 is identically 1.0, whatever the logit: every prediction is
"churn" with probability 1, BCELoss clamps log(0) to -100 for the non-churners (train loss a
constant 58.35 = 100 x the non-churn share), and the gradient through the softmax is exactly
zero, so nothing learns (test acc = churn rate, 0.428).
Fixed (torch.sigmoid instead of softmax for a single unit): test acc 0.868 vs 0.428 here.
"""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


class ChurnDataset(Dataset):
    """Synthetic customers: standardised usage features; churn depends on a few of them."""

    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 12, generator=g)
        score = 1.5 * self.x[:, 0] - 1.0 * self.x[:, 3] + 0.8 * self.x[:, 5] * self.x[:, 7]
        self.y = (score + 0.5 * torch.randn(n, generator=g) > 0.4).float()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class ChurnModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(12, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU(), nn.Linear(48, 1))

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)        # churn probability, shape (N, 1)


train_loader = DataLoader(ChurnDataset(2000, seed=1), batch_size=64, shuffle=True)
test_set = ChurnDataset(500, seed=2)

model = ChurnModel()
criterion = nn.BCELoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)

for epoch in range(8):
    total, n = 0.0, 0
    for xb, yb in train_loader:
        prob = model(xb).squeeze(1)
        loss = criterion(prob, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        n += len(xb)
    with torch.no_grad():
        acc = ((model(test_set.x).squeeze(1) > 0.5).float() == test_set.y).float().mean().item()
    print(f"epoch {epoch}  train loss {total / n:.4f}  test acc {acc:.3f}")
