"""Fixed version of f3_multihead_new_head.py: a new optimizer over the task-2 head after it is added.

Measured: task2_acc 0.9554 (faulty 0.1830).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=3, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0) + 0.05
Xtr, Xte = torch.tensor((Xtr - mu) / sd), torch.tensor((Xte - mu) / sd)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)
tasks = {"t1": (0, 5), "t2": (5, 10)}


def task_split(X, y, t):
    lo, hi = tasks[t]
    m = (y >= lo) & (y < hi)
    return X[m], y[m] - lo


class ResBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc = nn.Linear(d, d)

    def forward(self, x):
        return x + self.fc(F.gelu(self.norm(x)))


class MultiHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(64, 96), ResBlock(96), ResBlock(96), nn.LayerNorm(96))
        self.heads = nn.ModuleDict()

    def add_head(self, name, n_out):
        self.heads[name] = nn.Linear(96, n_out)

    def forward(self, x, task):
        return self.heads[task](self.backbone(x))


def train_task(model, opt, task, epochs):
    Xt, yt = task_split(Xtr, ytr, task)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(Xt))
        for i in range(0, len(perm), 32):
            idx = perm[i:i + 32]
            loss = F.cross_entropy(model(Xt[idx], task), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    print(f"{task}: last loss {loss.item():.4f}")


@torch.no_grad()
def evaluate(model, task):
    model.eval()
    Xv, yv = task_split(Xte, yte, task)
    return (model(Xv, task).argmax(1) == yv).float().mean().item()


model = MultiHead()
model.add_head("t1", 5)
opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)

train_task(model, opt, "t1", epochs=10)
acc1 = evaluate(model, "t1")

# task 2: freeze the shared feature extractor, add a fresh head, keep training
model.backbone.requires_grad_(False)
model.add_head("t2", 5)
opt = torch.optim.AdamW(model.heads["t2"].parameters(), lr=2e-3, weight_decay=1e-2)
train_task(model, opt, "t2", epochs=10)
acc2 = evaluate(model, "t2")
print(f"task1 acc {acc1:.4f} task2 acc {acc2:.4f}")
print(f"NNDOCTOR_METRIC task2_acc={acc2:.4f} higher")
