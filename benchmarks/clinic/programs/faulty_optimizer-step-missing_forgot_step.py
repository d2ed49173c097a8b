"""Iris classifier whose training loop never calls optimizer.step().

expect: optimizer-step-missing
allow: loss-not-decreasing

The loop zeroes the gradients, computes the loss and calls backward(), then moves on to
the scheduler -- optimizer.step() was lost when the loop was refactored. Gradients are
computed on every iteration but the weights never change, so the loss printed each epoch
is the same number (up to batch order) as at initialisation.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_iris

torch.manual_seed(0)

iris = load_iris()
X = torch.tensor(iris.data, dtype=torch.float32)
X = (X - X.mean(dim=0)) / X.std(dim=0)
y = torch.tensor(iris.target)
train_loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X, y), batch_size=16, shuffle=True
)

model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
criterion = nn.CrossEntropyLoss()

for epoch in range(20):
    model.train()
    running = 0.0
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        running += loss.item() * inputs.size(0)
    scheduler.step()
    if epoch % 5 == 0 or epoch == 19:
        print(f"epoch {epoch:2d}  loss {running / len(X):.4f}")
