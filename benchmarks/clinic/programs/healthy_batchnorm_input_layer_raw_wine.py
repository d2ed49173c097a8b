"""Wine classifier whose first layer is BatchNorm1d, applied directly to the raw chemical measurements.

expect: healthy
trap: raw, unscaled inputs (proline ~280..1680, hue ~0.5..1.4, per-feature std from 0.12 to 330) -- but the model's first layer is nn.BatchNorm1d(13), which standardises every feature with batch statistics in training and running statistics in eval, so the Linear layers only ever see normalised values; eval() for validation and train() again

The running mean/var of the input BatchNorm converge to the training set's per-feature mean and
variance, so the network is equivalent to one trained on standardised data.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

torch.manual_seed(0)

wine = load_wine()
X_tr, X_val, y_tr, y_val = train_test_split(wine.data, wine.target, test_size=0.3, random_state=0,
                                            stratify=wine.target)
X_tr, X_val = torch.tensor(X_tr, dtype=torch.float32), torch.tensor(X_val, dtype=torch.float32)
y_tr, y_val = torch.tensor(y_tr), torch.tensor(y_val)
print("raw feature std range:", f"{X_tr.std(0).min():.3f} .. {X_tr.std(0).max():.1f}")


class WineNet(nn.Module):
    def __init__(self, n_features=13, hidden=32, n_classes=3):
        super().__init__()
        self.input_norm = nn.BatchNorm1d(n_features)
        self.mlp = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.mlp(self.input_norm(x))


model = WineNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(20):
    model.train()
    perm = torch.randperm(len(X_tr))
    for i in range(0, len(X_tr), 16):
        idx = perm[i:i + 16]
        if len(idx) < 2:
            continue
        optimizer.zero_grad()
        loss = criterion(model(X_tr[idx]), y_tr[idx])
        loss.backward()
        optimizer.step()
    if epoch % 4 == 3:
        model.eval()
        with torch.no_grad():
            logits = model(X_val)
            val_loss = criterion(logits, y_val).item()
            val_acc = (logits.argmax(1) == y_val).float().mean().item()
        print(f"epoch {epoch + 1:2d}  train loss {loss.item():.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
