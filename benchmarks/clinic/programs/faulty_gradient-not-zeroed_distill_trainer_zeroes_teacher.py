"""A DistillationTrainer that calls zero_grad() on the teacher instead of the student.

expect: gradient-not-zeroed
allow: loss-not-decreasing, learning-rate-too-high, exploding-gradient, dead-relu

The trainer holds a (pre-trained, eval-mode) teacher and a student with its own SGD
optimizer. In train_step() the line meant to be `self.student.zero_grad()` reads
`self.teacher.zero_grad()` -- harmless-looking, since the teacher's forward runs under
torch.no_grad() anyway. The student's .grad is therefore never reset: each step applies
the sum of every gradient since step 0, so the effective step keeps growing along a stale
direction (SGD with momentum 0.9 on top). The student's gradient norm goes 0.31, 0.49,
0.72, ... 10 at step 17, 90 by step 36, and sits at ~306 from step ~50 on, once the
blown-up student's hidden ReLUs are dead and only the output bias still gets new gradient.
The epoch-mean distillation loss goes 7.8, 26.5, 12.0, 28.9, ... 365 and the student's val
accuracy stays at chance (~0.10), where the same trainer zeroing the student reaches loss
~0.11 and accuracy ~0.89.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


def mlp(width):
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


class DistillationTrainer:
    def __init__(self, teacher, student, lr=0.05, temperature=3.0, alpha=0.5):
        self.teacher = teacher.eval()
        self.student = student
        self.optimizer = torch.optim.SGD(student.parameters(), lr=lr, momentum=0.9)
        self.T, self.alpha = temperature, alpha

    def loss(self, s_logits, t_logits, y):
        soft = F.kl_div(F.log_softmax(s_logits / self.T, 1), F.softmax(t_logits / self.T, 1),
                        reduction="batchmean") * self.T ** 2
        return self.alpha * soft + (1 - self.alpha) * F.cross_entropy(s_logits, y)

    def train_step(self, xb, yb):
        with torch.no_grad():
            t_logits = self.teacher(xb)
        self.teacher.zero_grad()
        loss = self.loss(self.student(xb), t_logits, yb)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def evaluate(self, X, y):
        return (self.student(X).argmax(1) == y).float().mean().item()

    def fit(self, loader, X_val, y_val, epochs):
        for epoch in range(epochs):
            losses = [self.train_step(xb, yb) for xb, yb in loader]
            print(f"epoch {epoch}  distill loss {sum(losses) / len(losses):.4f}  "
                  f"student val acc {self.evaluate(X_val, y_val):.3f}")


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, y_tr, X_va, y_va = X[:1400], y[:1400], X[1400:], y[1400:]

teacher = mlp(256)
t_opt = torch.optim.Adam(teacher.parameters(), lr=1e-3)
for step in range(200):
    idx = torch.randint(0, len(X_tr), (64,))
    t_opt.zero_grad()
    F.cross_entropy(teacher(X_tr[idx]), y_tr[idx]).backward()
    t_opt.step()
print(f"teacher val acc {(teacher(X_va).argmax(1) == y_va).float().mean().item():.3f}")

loader = DataLoader(TensorDataset(X_tr, y_tr), batch_size=64, shuffle=True)
trainer = DistillationTrainer(teacher, mlp(32))
trainer.fit(loader, X_va, y_va, epochs=8)
print(f"NNDOCTOR_METRIC val_acc={trainer.evaluate(X_va, y_va):.4f} higher")
