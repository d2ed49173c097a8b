"""Multi-label tagging of synthetic 8x8 shape images with a DataLoader whose collate_fn returns dicts; the model's head ends in nn.Sigmoid (its `predict` probabilities are reused in training) and the loss is nn.BCEWithLogitsLoss, which applies a second sigmoid.

expect: loss-mismatch

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

sigmoid(sigmoid(z)) lies in [0.5, 0.73]: the loss cannot drop below ~0.45 per label and the gradient
that reaches the logits is squashed twice.
Fixed (no nn.Sigmoid in the head): val micro-F1 0.947 (thresholding the logits at 0.5,
slightly stricter than 0); here 0.898.
"""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)
TAGS = 5


class Shapes(Dataset):
    """Each image holds a random subset of 5 primitive patterns (bars, corners, dots) plus noise."""

    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.patterns = torch.zeros(TAGS, 8, 8)
        self.patterns[0, 1, :] = 1
        self.patterns[1, :, 6] = 1
        self.patterns[2, 5:8, 0:3] = 1
        self.patterns[3, 3, 3] = self.patterns[3, 4, 4] = 1
        self.patterns[4].fill_diagonal_(1)
        self.tags = (torch.rand(n, TAGS, generator=g) < 0.4).float()
        self.images = (self.tags[:, :, None, None] * self.patterns).sum(1).clamp(max=1)
        self.images = self.images + 0.3 * torch.randn(self.images.shape, generator=g)

    def __len__(self):
        return len(self.tags)

    def __getitem__(self, i):
        return {"pixels": self.images[i], "tags": self.tags[i]}


def collate(items):
    return {"pixels": torch.stack([it["pixels"] for it in items]).flatten(1),
            "tags": torch.stack([it["tags"] for it in items])}


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(64, TAGS), nn.Sigmoid())

    def forward(self, batch):
        return {"probs": self.head(self.body(batch["pixels"]))}


def micro_f1(model, loader):
    tp = fp = fn = 0
    with torch.no_grad():
        for batch in loader:
            pred = model(batch)["probs"] > 0.5
            true = batch["tags"] > 0.5
            tp += (pred & true).sum().item(); fp += (pred & ~true).sum().item(); fn += (~pred & true).sum().item()
    return 2 * tp / max(1, 2 * tp + fp + fn)


train_dl = DataLoader(Shapes(2000, 1), batch_size=32, shuffle=True, collate_fn=collate)
val_dl = DataLoader(Shapes(500, 2), batch_size=250, collate_fn=collate)
model = Tagger()
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(6):
    for batch in train_dl:
        out = model(batch)
        loss = criterion(out["probs"], batch["tags"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} loss {loss.item():.4f} val micro-F1 {micro_f1(model, val_dl):.3f}")
print(f"NNDOCTOR_METRIC val_f1={micro_f1(model, val_dl):.4f} higher")
