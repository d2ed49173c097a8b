"""Wide ReLU MLP on digits with pixels scaled to [0, 1] and no per-pixel standardisation.

expect: healthy
trap: normal ReLU sparsity -- about half of all hidden activations are 0 and ~3% of the units never fire on the training set -- plus input pixels (border columns) that are 0 for every image

The 8x8 digit images are divided by 16, so inputs are in [0, 1]; some border pixels are
always 0, which is fine (their weights simply get no gradient).  The hidden representation is
sparse, as ReLU features normally are: each unit fires on the subset of digits it detects, so
about 45% of the activations are 0, and a handful of units (2-3% of each layer) happen to be
off for every training digit.  That is ordinary sparsity, not a dying network: the model trains
to ~96% test accuracy (train loss 0.07) with SGD + StepLR.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)

digits = load_digits()
X = digits.data / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.25, random_state=3)
X_train = torch.tensor(X_train, dtype=torch.float32)
X_test = torch.tensor(X_test, dtype=torch.float32)
y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)
print(f"always-zero input pixels: {(X_train.amax(0) == 0).sum().item()} of {X_train.shape[1]}")

model = nn.Sequential(
    nn.Linear(64, 256),
    nn.ReLU(),
    nn.Linear(256, 128),
    nn.ReLU(),
    nn.Linear(128, 10),
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=6, gamma=0.2)
loss_fn = nn.CrossEntropyLoss()
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X_train, y_train), batch_size=64, shuffle=True)

for epoch in range(10):
    model.train()
    running = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item() * len(xb)
    scheduler.step()
    model.eval()
    with torch.no_grad():
        hidden = model[1](model[0](X_test))
        sparsity = (hidden == 0).float().mean().item()
        acc = (model(X_test).argmax(1) == y_test).float().mean().item()
    print(f"epoch {epoch + 1}: loss {running / len(X_train):.4f}  test acc {acc:.3f}  hidden zeros {sparsity:.2f}")
