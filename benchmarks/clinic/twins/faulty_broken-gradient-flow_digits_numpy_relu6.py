"""Fixed version of faulty_broken-gradient-flow_digits_numpy_relu6.py: the one-line fix of its docstring.
Measured: val_acc=0.9738. From the seventh held-out audit (beginner and notebook-style code).
"""
import numpy as np
import torch
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

digits = load_digits()
X = digits.data / 16.0          # pixels are 0..16
y = digits.target

idx = np.arange(len(X))
np.random.shuffle(idx)
X = X[idx]
y = y[idx]
X_train, y_train = X[:1300], y[:1300]
X_val, y_val = X[1300:], y[1300:]

X_train_t = torch.Tensor(X_train)
y_train_t = torch.LongTensor(y_train)
X_val_t = torch.Tensor(X_val)

n_hidden = 12
W1 = torch.randn(64, n_hidden) * np.sqrt(2.0 / 64)
W1.requires_grad = True
b1 = torch.zeros(n_hidden, requires_grad=True)
W2 = torch.randn(n_hidden, 10) * np.sqrt(1.0 / n_hidden)
W2.requires_grad = True
b2 = torch.zeros(10, requires_grad=True)

optimizer = torch.optim.Adam([W1, b1, W2, b2], lr=0.01)
criterion = torch.nn.CrossEntropyLoss()


def forward(x):
    z1 = x @ W1 + b1
    h = torch.clamp(z1, 0, 6)   # relu6
    return h @ W2 + b2


for epoch in range(15):
    order = np.random.permutation(len(X_train))
    for i in range(0, len(order), 32):
        b = order[i:i + 32]
        out = forward(X_train_t[b])
        loss = criterion(out, y_train_t[b])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        pred = forward(X_val_t).argmax(dim=1).numpy()
    acc = (pred == y_val).mean()
    if epoch % 5 == 0:
        print("epoch", epoch, "loss", round(loss.item(), 4), "val acc", round(acc, 4))

with torch.no_grad():
    pred = forward(X_val_t).argmax(dim=1).numpy()
val_acc = float((pred == y_val).mean())
print("val acc", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
