"""10-layer MLP with BatchNorm after every Linear, whose weights are initialised N(0, 0.01^2).

expect: healthy
trap: weight std 0.01 in a deep ReLU stack -- more than an order of magnitude below He init (0.18 here), which without normalisation would collapse the signal to nothing after 10 layers -- but each Linear is followed by BatchNorm1d, which rescales the pre-activations to unit variance, so the small init is harmless

BatchNorm makes each layer invariant to the scale of the weights that feed it, so in training
mode the activations keep unit scale at every depth regardless of the 0.01 init (the weights'
small norm only raises their effective learning rate at first).  The training loss falls from
the first epoch; the eval-mode loss stays at ~2.30 for two epochs while BatchNorm's running
statistics catch up with the tiny initial pre-activations, then falls steadily, and the
network reaches 0.96 validation accuracy on digits (val loss 0.22, train loss 0.29).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)


class BNMLP(nn.Module):
    def __init__(self, n_in, n_out, width=64, depth=10):
        super().__init__()
        blocks = []
        for i in range(depth):
            blocks += [nn.Linear(n_in if i == 0 else width, width), nn.BatchNorm1d(width), nn.ReLU()]
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, n_out)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.head(self.body(x))


digits = load_digits()
X_tr, X_va, y_tr, y_va = train_test_split(digits.data, digits.target, test_size=0.3, random_state=0)
mean, std = X_tr.mean(0), X_tr.std(0) + 1e-8
X_tr = torch.tensor((X_tr - mean) / std, dtype=torch.float32)
X_va = torch.tensor((X_va - mean) / std, dtype=torch.float32)
y_tr, y_va = torch.tensor(y_tr), torch.tensor(y_va)

model = BNMLP(64, 10)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(8):
    model.train()
    perm = torch.randperm(len(X_tr))
    running, seen = 0.0, 0
    for i in range(0, len(X_tr) - 63, 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
        loss.backward()
        optimizer.step()
        running += loss.item() * len(idx)
        seen += len(idx)
    model.eval()
    with torch.no_grad():
        logits = model(X_va)
        val_loss = F.cross_entropy(logits, y_va).item()
        val_acc = (logits.argmax(1) == y_va).float().mean().item()
    print(f"epoch {epoch + 1}  train loss {running / seen:.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
