"""Breast-cancer MLP with a "random feature masking" augmentation whose keep-mask is inverted; with keep_prob=1.0 every input becomes zero.

expect: loss-not-decreasing
allow: dead-relu, broken-gradient-flow

feature_mask() builds its mask with rand > keep_prob instead of rand < keep_prob. The config sets
keep_prob=1.0 to switch the augmentation off, which makes the mask all zeros: every training
batch the model sees is a zero tensor. The network can only learn the class prior through its
biases (train loss ~0.68 = the entropy of the 59/41 label split), and the test accuracy
stays at the majority rate (0.773). (With zero inputs the first layer's weights get exactly zero
gradient and each ReLU is either always on or always off -- consequences of the same bug.)
Fixed (rand < keep_prob): test acc 0.966 vs 0.773, train loss 0.04 vs 0.68 here.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

HPARAMS = {"hidden": 64, "lr": 1e-3, "batch_size": 32, "epochs": 15, "keep_prob": 1.0}  # keep_prob=1.0: augmentation off


def feature_mask(x, keep_prob):
    """Randomly zero out features (tabular "dropout" augmentation)."""
    mask = (torch.rand_like(x) > keep_prob).float()
    return x * mask


data = load_breast_cancer()
n_train = 450
scaler = StandardScaler().fit(data.data[:n_train])
X = torch.tensor(scaler.transform(data.data), dtype=torch.float32)
y = torch.tensor(data.target, dtype=torch.float32)
train_loader = DataLoader(TensorDataset(X[:n_train], y[:n_train]), batch_size=HPARAMS["batch_size"], shuffle=True)
X_test, y_test = X[n_train:], y[n_train:]


class Net(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x))))).squeeze(-1)


model = Net(X.shape[1], HPARAMS["hidden"])
optimizer = torch.optim.AdamW(model.parameters(), lr=HPARAMS["lr"])

for epoch in range(HPARAMS["epochs"]):
    losses = []
    for xb, yb in train_loader:
        xb = feature_mask(xb, HPARAMS["keep_prob"])
        loss = F.binary_cross_entropy_with_logits(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = ((model(X_test) > 0).float() == y_test).float().mean().item()
    print(f"epoch {epoch:2d}  mean train loss {sum(losses) / len(losses):.4f}  test acc {acc:.3f}")
