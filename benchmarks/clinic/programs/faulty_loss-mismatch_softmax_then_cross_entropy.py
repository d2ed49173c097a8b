"""Digits classifier whose forward() ends in softmax, trained with nn.CrossEntropyLoss.

expect: loss-mismatch

nn.CrossEntropyLoss applies log_softmax itself, so here it receives probabilities and computes
log_softmax(softmax(z)). Its inputs live in [0, 1]: the loss can never go below
-log(e / (e + 9)) = 1.46 and its gradient shrinks as the probabilities saturate, so SGD learns
slowly and unevenly (the loss hovers at 1.5..1.8, accuracy creeps to 0.85).
Fixed (return the logits self.fc3(x); softmax only for reporting): test acc 0.965 vs 0.854 here
(final batch loss 0.02 vs 1.73).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)


class DigitNet(nn.Module):
    def __init__(self, n_in=64, hidden=128, n_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, n_classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.softmax(self.fc3(x), dim=1)   # return class probabilities


digits = load_digits()
X_tr, X_te, y_tr, y_te = train_test_split(digits.data / 16.0, digits.target, test_size=0.3, random_state=0)
X_tr, X_te = torch.tensor(X_tr, dtype=torch.float32), torch.tensor(X_te, dtype=torch.float32)
y_tr, y_te = torch.tensor(y_tr), torch.tensor(y_te)

model = DigitNet()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

for epoch in range(15):
    perm = torch.randperm(len(X_tr))
    for i in range(0, len(X_tr), 64):
        idx = perm[i:i + 64]
        probs = model(X_tr[idx])
        loss = criterion(probs, y_tr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(X_te).argmax(1) == y_te).float().mean().item()
    if epoch % 3 == 2:
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test acc {acc:.3f}")
print(f"final test accuracy: {acc:.3f}")
