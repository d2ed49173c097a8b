"""Breast-cancer classifier whose forward returns a dataclass; gradient accumulation over 8 micro-batches with loss/8, and an exponential moving average of the weights (torch.optim.swa_utils.AveragedModel) used for evaluation.

expect: healthy
trap: backward runs 8 times per optimizer step (micro-batches of 8 examples), the loss is divided by 8, an EMA copy of the model is updated after every step and evaluated instead of the model itself, the model returns a dataclass instead of a tensor

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: EMA model test acc 0.951.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

torch.manual_seed(0)


@dataclass
class ClassifierOutput:
    logits: torch.Tensor
    embedding: torch.Tensor


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        h = self.body(x)
        return ClassifierOutput(logits=self.head(h), embedding=h)


X, y = load_breast_cancer(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
sc = StandardScaler().fit(Xtr)
Xtr, Xte = torch.tensor(sc.transform(Xtr), dtype=torch.float32), torch.tensor(sc.transform(Xte), dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

model = Classifier()
ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.98))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
ACCUM, MICRO = 8, 8
step = 0
for epoch in range(12):
    model.train()
    perm = torch.randperm(len(Xtr))
    optimizer.zero_grad()
    for k, i in enumerate(range(0, len(Xtr) - MICRO + 1, MICRO)):
        idx = perm[i:i + MICRO]
        out = model(Xtr[idx])
        loss = F.cross_entropy(out.logits, ytr[idx]) / ACCUM
        loss.backward()
        if (k + 1) % ACCUM == 0:
            optimizer.step()
            optimizer.zero_grad()
            ema.update_parameters(model)
            step += 1
    ema.eval()
    with torch.no_grad():
        acc = (ema(Xte).logits.argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch} steps {step} loss {loss.item() * ACCUM:.4f} ema test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC ema_test_acc={acc:.4f} higher")
