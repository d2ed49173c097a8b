"""Two-task continual learning with a ModuleDict of task heads; the head for task 2 is added after the optimizer was built, so it never trains.

expect: parameter-not-optimized
allow: loss-not-decreasing, optimizer-step-missing

Task 1 = digits 0-4, task 2 = digits 5-9 (sklearn digits, 8x8). A shared
residual MLP backbone feeds per-task linear heads kept in an nn.ModuleDict.
One AdamW optimizer is created at the start over model.parameters() (at that
moment: backbone + head "t1"). After task 1 the backbone is frozen
(requires_grad_(False), the "frozen feature extractor" continual-learning
baseline that avoids forgetting), a new head is registered with
model.heads["t2"] = nn.Linear(...), and training continues with the same
optimizer. The new head requires grad and receives gradients every step, but
it is in no param group, so opt.step() never updates it; head "t1" is in the
optimizer but unused by task 2 (by design). Task 2 therefore keeps a random
linear readout of frozen features.
Fix (fixed/f3_multihead_new_head_fixed.py): build the task-2 optimizer over
model.heads["t2"].parameters() after adding the head.
Measured: task-2 test accuracy faulty 0.1830 vs fixed 0.9554 (task-2 last
batch loss 1.71 vs 0.17; task-1 test accuracy 0.9912 in both).
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
train_task(model, opt, "t2", epochs=10)
acc2 = evaluate(model, "t2")
print(f"task1 acc {acc1:.4f} task2 acc {acc2:.4f}")
print(f"NNDOCTOR_METRIC task2_acc={acc2:.4f} higher")
