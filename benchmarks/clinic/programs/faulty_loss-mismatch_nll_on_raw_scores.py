"""Iris classifier trained with nn.NLLLoss on the raw output scores (no log_softmax).

expect: loss-mismatch
allow: exploding-gradient

nn.NLLLoss expects log-probabilities; given raw scores it just returns -score[target], which is
unbounded below. Training pushes the target-class scores (and with them all the weights) up
without limit: the loss runs to -1e5, the gradient norm grows several hundred times, and
accuracy stays at 0.65 because nothing makes the other classes' scores go down.
Fixed (nn.CrossEntropyLoss, or F.log_softmax before NLLLoss): test acc 0.950 vs 0.650 here.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_iris

torch.manual_seed(0)

iris = load_iris()
X = torch.tensor(iris.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(iris.target)
perm = torch.randperm(len(X))
train_idx, test_idx = perm[:110], perm[110:]


class IrisClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


model = IrisClassifier()
criterion = nn.NLLLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.02)

for epoch in range(40):
    order = train_idx[torch.randperm(len(train_idx))]
    for i in range(0, len(order), 10):
        batch = order[i:i + 10]
        optimizer.zero_grad()
        loss = criterion(model(X[batch]), y[batch])
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        with torch.no_grad():
            acc = (model(X[test_idx]).argmax(1) == y[test_idx]).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test acc {acc:.3f}")
