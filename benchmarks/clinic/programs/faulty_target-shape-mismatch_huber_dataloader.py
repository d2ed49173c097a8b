"""Diabetes regression through a Dataset/DataLoader pipeline: the model returns (B, 1), the Dataset yields scalar targets so batches are (B,), and nn.HuberLoss broadcasts the pair to (B, B).

expect: target-shape-mismatch

HuberLoss (like MSELoss and L1Loss) broadcasts without an error (only a UserWarning that is
easy to miss in a log), so every prediction is compared with every target in the batch and the
minimizer is "predict the batch median for everyone": the model learns next to nothing about
the individual patient.
Fixed (model(xb).squeeze(1)): test R^2 0.448 vs 0.156 here at epoch 30 (0.473 vs 0.021 at
epoch 20).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


class DiabetesDataset(Dataset):
    def __init__(self, X, y):
        self.X = torch.tensor(X, dtype=torch.float32)
        self.y = torch.tensor(y, dtype=torch.float32)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


X, y = load_diabetes(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=2)
mu, sd, ymu, ysd = Xtr.mean(0), Xtr.std(0), ytr.mean(), ytr.std()
train_ds = DiabetesDataset((Xtr - mu) / sd, (ytr - ymu) / ysd)
test_ds = DiabetesDataset((Xte - mu) / sd, (yte - ymu) / ysd)
loader = DataLoader(train_ds, batch_size=32, shuffle=True)

model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.HuberLoss()

for epoch in range(30):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    if epoch % 10 == 9:
        with torch.no_grad():
            pred = model(test_ds.X).view(-1)
            r2 = 1 - ((pred - test_ds.y) ** 2).sum() / ((test_ds.y - test_ds.y.mean()) ** 2).sum()
        print(f"epoch {epoch + 1}  loss {loss.item():.4f}  test R^2 {r2.item():.3f}")
