"""Breast-cancer classifier trained by a Trainer class with early stopping and checkpointing.

expect: healthy
trap: a Trainer class with fit()/train_epoch()/evaluate(); a shuffled DataLoader over a Dataset; model.eval() + torch.no_grad() for the validation pass and model.train() again; dropout; early stopping that ends the run before max_epochs; the best state_dict saved to a temp dir and loaded back at the end (parameters jump back to an earlier epoch's values)

The inputs are standardised with statistics of the training split. The Trainer keeps the
best validation loss, writes that epoch's state_dict with torch.save() to a temporary
directory, stops after `patience` epochs without improvement and restores the best
checkpoint before the final test evaluation.
"""
import os
import tempfile

import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


class TabularDataset(Dataset):
    def __init__(self, X, y):
        self.X = torch.as_tensor(X, dtype=torch.float32)
        self.y = torch.as_tensor(y, dtype=torch.float32)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


class Classifier(nn.Module):
    def __init__(self, n_in, hidden=64, p_drop=0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(p_drop),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p_drop),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


class Trainer:
    def __init__(self, model, lr=1e-3, patience=4, ckpt_dir=None):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
        self.criterion = nn.BCEWithLogitsLoss()
        self.patience = patience
        self.ckpt_path = os.path.join(ckpt_dir, "best.pt")
        self.history = []

    def train_epoch(self, loader):
        self.model.train()
        total, n = 0.0, 0
        for xb, yb in loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(xb)
            n += len(xb)
        return total / n

    @torch.no_grad()
    def evaluate(self, loader):
        self.model.eval()
        total, correct, n = 0.0, 0, 0
        for xb, yb in loader:
            logits = self.model(xb)
            total += self.criterion(logits, yb).item() * len(xb)
            correct += ((logits > 0).float() == yb).sum().item()
            n += len(xb)
        self.model.train()
        return total / n, correct / n

    def fit(self, train_loader, val_loader, max_epochs=60):
        best, bad_epochs = float("inf"), 0
        for epoch in range(max_epochs):
            train_loss = self.train_epoch(train_loader)
            val_loss, val_acc = self.evaluate(val_loader)
            self.history.append((train_loss, val_loss))
            print(f"epoch {epoch:2d}  train {train_loss:.4f}  val {val_loss:.4f}  acc {val_acc:.3f}")
            if val_loss < best - 1e-4:
                best, bad_epochs = val_loss, 0
                torch.save(self.model.state_dict(), self.ckpt_path)
            else:
                bad_epochs += 1
                if bad_epochs >= self.patience:
                    print(f"early stopping at epoch {epoch} (best val {best:.4f})")
                    break
        self.model.load_state_dict(torch.load(self.ckpt_path))
        return best


data = load_breast_cancer()
X, y = data.data.astype("float32"), data.target.astype("float32")
perm = torch.randperm(len(X)).numpy()
tr, va, te = perm[:380], perm[380:470], perm[470:]
mean, std = X[tr].mean(0), X[tr].std(0) + 1e-6
X = (X - mean) / std

train_loader = DataLoader(TabularDataset(X[tr], y[tr]), batch_size=32, shuffle=True)
val_loader = DataLoader(TabularDataset(X[va], y[va]), batch_size=128)
test_loader = DataLoader(TabularDataset(X[te], y[te]), batch_size=128)

with tempfile.TemporaryDirectory() as ckpt_dir:
    trainer = Trainer(Classifier(X.shape[1]), lr=1e-3, patience=4, ckpt_dir=ckpt_dir)
    trainer.fit(train_loader, val_loader)
    test_loss, test_acc = trainer.evaluate(test_loader)
    print(f"test loss {test_loss:.4f}  test acc {test_acc:.3f}")
