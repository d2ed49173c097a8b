"""Transfer learning on digits: CNN pretrained on 0-4, head-only phase on 5-9, then full fine-tune.

expect: healthy
trap: three phases, each with a freshly built optimizer: Adam 1e-3 (pretrain on classes 0-4),
Adam 1e-2 on the new head only with the backbone frozen (requires_grad=False), then SGD
momentum 0.9 at 2e-2 on everything.  The head-only phase plateaus (loss 1.60 -> 0.72, the
linear-probe limit of features learnt on other digits), which can look like "LR too low";
at the switch to full fine-tuning the loss jumps UP (0.72 -> 0.89 epoch mean) under the new,
higher LR and fresh momentum buffers -- which can look like "LR too high" -- and then drops.

Measured: val_acc = 0.9665 on the held-out half of digits 5-9, with only 300 target training
images (head-only alone reached 0.64-0.72); ~4.3 s wall including imports.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(7)
np.random.seed(7)


@dataclass
class PhaseConfig:
    name: str
    epochs: int
    optimizer: str
    lr: float
    train_backbone: bool
    momentum: float = 0.0


PRETRAIN = PhaseConfig("pretrain(0-4)", 6, "adam", 1e-3, True)
HEAD_ONLY = PhaseConfig("head-only(5-9)", 5, "adam", 1e-2, False)
FINETUNE = PhaseConfig("finetune(5-9)", 6, "sgd", 2e-2, True, momentum=0.9)
BATCH = 32


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 24, 3, padding=1)
        self.conv2 = nn.Conv2d(24, 48, 3, padding=1)
        self.proj = nn.Linear(48 * 4 * 4, 96)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.proj(x.flatten(1)))


class Classifier(nn.Module):
    def __init__(self, backbone, n_classes):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(96, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def make_optimizer(model, phase: PhaseConfig):
    params = [p for p in model.parameters() if p.requires_grad]
    if phase.optimizer == "adam":
        return torch.optim.Adam(params, lr=phase.lr)
    return torch.optim.SGD(params, lr=phase.lr, momentum=phase.momentum)


class PhaseTrainer:
    """Runs one training phase with its own, freshly built optimizer."""

    def __init__(self, model, phase: PhaseConfig):
        self.model, self.phase = model, phase
        for p in model.backbone.parameters():
            p.requires_grad_(phase.train_backbone)
        self.optimizer = make_optimizer(model, phase)

    def run(self, X, y, Xv, yv):
        for epoch in range(self.phase.epochs):
            self.model.train()
            perm = torch.randperm(len(X))
            tot = 0.0
            for s in range(0, len(X), BATCH):
                idx = perm[s:s + BATCH]
                self.optimizer.zero_grad()
                loss = F.cross_entropy(self.model(X[idx]), y[idx])
                loss.backward()
                self.optimizer.step()
                tot += loss.item() * len(idx)
            print(f"[{self.phase.name}] epoch {epoch} lr={self.phase.lr:g} "
                  f"loss={tot / len(X):.4f} val_acc={accuracy(self.model, Xv, yv):.4f}")


@torch.no_grad()
def accuracy(model, X, y):
    model.eval()
    return (model(X).argmax(1) == y).float().mean().item()


def split_tasks():
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)
    y = torch.tensor(y)
    src, tgt = y < 5, y >= 5
    Xs, ys = X[src], y[src]
    Xt, yt = X[tgt], y[tgt] - 5
    tr, va = train_test_split(np.arange(len(Xt)), test_size=0.5, random_state=7, stratify=yt.numpy())
    tr = tr[:300]  # the target task only has a few labelled examples
    return (Xs, ys), (Xt[tr], yt[tr]), (Xt[va], yt[va])


def main():
    (Xs, ys), (Xt, yt), (Xv, yv) = split_tasks()
    backbone = Backbone()
    source_model = Classifier(backbone, 5)
    PhaseTrainer(source_model, PRETRAIN).run(Xs, ys, Xs[:200], ys[:200])
    target_model = Classifier(backbone, 5)          # fresh head on the pretrained backbone
    PhaseTrainer(target_model, HEAD_ONLY).run(Xt, yt, Xv, yv)
    PhaseTrainer(target_model, FINETUNE).run(Xt, yt, Xv, yv)
    v = accuracy(target_model, Xv, yv)
    print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")


if __name__ == "__main__":
    main()
