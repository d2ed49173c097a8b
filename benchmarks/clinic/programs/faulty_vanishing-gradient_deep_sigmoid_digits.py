"""A 12-layer sigmoid MLP for digit classification, trained with SGD.

expect: vanishing-gradient
allow: saturated-activation, loss-not-decreasing, poor-initialization, learning-rate-too-low

The sigmoid's derivative is at most 0.25, and with PyTorch's default Linear init each layer
shrinks the backward signal by roughly another factor 4-10. After a dozen layers the
first layer's gradient is ~9 orders of magnitude below the output layer's, so the early layers
never move and the loss sits at chance level (ln 10 = 2.30) for the whole run.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)

digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target, dtype=torch.long)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=64, shuffle=True)

layers = [nn.Linear(64, 64), nn.Sigmoid()]
for _ in range(10):
    layers += [nn.Linear(64, 64), nn.Sigmoid()]
layers.append(nn.Linear(64, 10))
model = nn.Sequential(*layers)

optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(8):
    correct = 0
    for xb, yb in loader:
        optimizer.zero_grad()
        out = model(xb)
        loss = criterion(out, yb)
        loss.backward()
        optimizer.step()
        correct += (out.argmax(1) == yb).sum().item()
    print(f"epoch {epoch}  loss {loss.item():.3f}  acc {correct / len(X):.3f}")
    print(f"NNDOCTOR_METRIC train_acc={correct / len(X):.4f} higher")
