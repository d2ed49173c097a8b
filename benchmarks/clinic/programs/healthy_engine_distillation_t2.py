"""Class-based engine (fit()/evaluate()) that trains a teacher MLP on the digits, then distills it into a small student with KL(student/T || teacher/T) * T^2 + CE.

expect: healthy
trap: two phases with two optimizers, a KL-divergence loss on softened distributions (T=4) multiplied by T^2 = 16, a teacher in eval() under no_grad during distillation

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: student (16 hidden units) test acc 0.927.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    epochs: int = 12
    lr: float = 3e-3
    batch_size: int = 64
    temperature: float = 4.0
    alpha: float = 0.7


class Engine:
    def __init__(self, model, cfg, teacher=None):
        self.model, self.cfg, self.teacher = model, cfg, teacher
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    def loss(self, xb, yb):
        logits = self.model(xb)
        ce = F.cross_entropy(logits, yb)
        if self.teacher is None:
            return ce
        with torch.no_grad():
            t_logits = self.teacher(xb)
        T = self.cfg.temperature
        kd = F.kl_div(F.log_softmax(logits / T, dim=1), F.softmax(t_logits / T, dim=1),
                      reduction="batchmean") * T * T
        return self.cfg.alpha * kd + (1 - self.cfg.alpha) * ce

    def fit(self, loader, val_loader):
        for epoch in range(self.cfg.epochs):
            self.model.train()
            for xb, yb in loader:
                loss = self.loss(xb, yb)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            if epoch % 4 == 3:
                print(f"  epoch {epoch} loss {loss.item():.4f} val acc {self.evaluate(val_loader):.3f}")
        return self

    @torch.no_grad()
    def evaluate(self, loader):
        self.model.eval()
        correct = sum((self.model(xb).argmax(1) == yb).sum().item() for xb, yb in loader)
        return correct / len(loader.dataset)


def main():
    torch.manual_seed(0)
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
    tr = TensorDataset(torch.tensor(Xtr, dtype=torch.float32), torch.tensor(ytr))
    te = TensorDataset(torch.tensor(Xte, dtype=torch.float32), torch.tensor(yte))
    cfg = Config()
    loader = DataLoader(tr, batch_size=cfg.batch_size, shuffle=True)
    val_loader = DataLoader(te, batch_size=512)
    teacher = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    print("teacher")
    Engine(teacher, cfg).fit(loader, val_loader)
    teacher.eval()
    student = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    print("student")
    acc = Engine(student, cfg, teacher=teacher).fit(loader, val_loader).evaluate(val_loader)
    print(f"NNDOCTOR_METRIC student_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
