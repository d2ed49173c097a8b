"""Breast-cancer logistic regression whose loss uses reduction="sum" with an LR tuned for a mean.

expect: learning-rate-too-high

The author took lr=0.5 from a recipe that used the default mean-reduced BCE loss, but wrote
BCEWithLogitsLoss(reduction="sum") so that "the gradient does not depend on the batch size".
With batches of 32 the gradient is 32x larger, so the effective step is lr=16 with momentum 0.9
on standardized features: every step overshoots, the weight norm jumps to ~200 within the first
epochs and the per-sample batch loss keeps swinging between ~0 and 2-5 (summed loss up to ~170)
for the whole run, never settling. The model stays finite (a linear model cannot blow up to NaN
under a logistic loss) and its decisions stay mostly right, but its probabilities are useless.
Fixed (reduction="mean", same lr): full-data loss 0.072, test loss 0.155, |w| 8; here full-data
loss 1.05, test loss ~3.3, |w| 180.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)

data = load_breast_cancer()
X = torch.tensor(data.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(data.target, dtype=torch.float32)

perm = torch.randperm(len(X))
train_idx, test_idx = perm[:450], perm[450:]
X_train, y_train = X[train_idx], y[train_idx]
X_test, y_test = X[test_idx], y[test_idx]

model = nn.Linear(X.shape[1], 1)
criterion = nn.BCEWithLogitsLoss(reduction="sum")    # summed over the batch
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
batch_size = 32

for epoch in range(25):
    order = torch.randperm(len(X_train))
    batch_losses = []
    for i in range(0, len(X_train) - batch_size + 1, batch_size):
        idx = order[i:i + batch_size]
        logits = model(X_train[idx]).squeeze(-1)
        loss = criterion(logits, y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item() / batch_size)
    if epoch % 5 == 4:
        with torch.no_grad():
            test_logits = model(X_test).squeeze(-1)
            test_loss = nn.functional.binary_cross_entropy_with_logits(test_logits, y_test).item()
            test_acc = ((test_logits > 0).float() == y_test).float().mean().item()
        print(f"epoch {epoch + 1:2d}  batch loss min {min(batch_losses):.3f} max {max(batch_losses):.3f}"
              f"  test loss {test_loss:.3f}  test acc {test_acc:.3f}")

with torch.no_grad():
    full_loss = nn.functional.binary_cross_entropy_with_logits(model(X).squeeze(-1), y).item()
print(f"final full-data loss {full_loss:.4f}  |w| = {model.weight.norm().item():.1f}")
print(f"NNDOCTOR_METRIC accuracy={((model(X).squeeze(-1) > 0).float() == y).float().mean().item():.4f} higher")
