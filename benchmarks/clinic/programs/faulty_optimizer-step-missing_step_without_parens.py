"""Wine classifier whose training loop writes `optimizer.step` without the call parentheses.

expect: optimizer-step-missing
allow: loss-not-decreasing

`optimizer.step` is a bound-method expression statement: valid Python, evaluated and thrown
away, so no update ever happens. The loop zeroes and recomputes gradients every step, the
loss printout jitters with the batches, and the weights stay at their initialization.
Fixed (optimizer.step()): test acc 1.000 vs 0.500 here (loss 0.012 vs 1.07 at epoch 30).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_wine(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xte = torch.tensor((Xte - mu) / sd, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

model = nn.Sequential(nn.Linear(13, 32), nn.Tanh(), nn.Linear(32, 3))
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(30):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 16):
        idx = perm[i:i + 16]
        optimizer.zero_grad()
        loss = criterion(model(Xtr[idx]), ytr[idx])
        loss.backward()
        optimizer.step
    if epoch % 10 == 9:
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1}  loss {loss.item():.4f}  test acc {acc:.3f}")
