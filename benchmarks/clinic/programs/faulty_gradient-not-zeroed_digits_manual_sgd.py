"""Two-layer net on the digits data with hand-written weights and a manual SGD loop that never clears .grad.
expect: gradient-not-zeroed
allow: learning-rate-too-high, exploding-gradient, loss-not-decreasing

The weights are plain tensors made with torch.randn(..., requires_grad=True) and updated by hand inside
torch.no_grad(). The notebook this came from zeroed the gradients in a separate cell that was not copied
into the script, so every backward() adds onto the gradient of all previous mini-batches. The step taken
is then lr * (sum of all past gradients): it grows without bound, the weights swing back and forth and the
loss never settles. The fix is W.grad.zero_() (for every weight) after the update.
Measured: faulty val_acc=0.8463 vs fixed val_acc=0.9500   (seed 1: 0.7778 vs 0.9593; seed 2: 0.7704 vs 0.9648)
"""
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

data = load_digits()
X = data.data
y = data.target

X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

# scale the features (mean 0 std 1) using the training part
mean = X_train.mean(axis=0)
std = X_train.std(axis=0)
std[std == 0] = 1  # some pixels are always 0
X_train = (X_train - mean) / std
X_val = (X_val - mean) / std

X_train = torch.Tensor(X_train)
X_val = torch.Tensor(X_val)
y_train = torch.LongTensor(y_train)
y_val = torch.LongTensor(y_val)

n_in = 64
n_hidden = 32
n_out = 10

W1 = torch.randn(n_in, n_hidden) * 0.3
W1.requires_grad = True
b1 = torch.zeros(n_hidden, requires_grad=True)
W2 = torch.randn(n_hidden, n_out) * 0.3
W2.requires_grad = True
b2 = torch.zeros(n_out, requires_grad=True)

lr = 0.05
epochs = 15
batch_size = 16

loss_fn = torch.nn.CrossEntropyLoss()

for epoch in range(epochs):
    perm = np.random.permutation(len(X_train))
    total_loss = 0
    for i in range(0, len(X_train), batch_size):
        idx = perm[i:i + batch_size]
        xb = X_train[idx]
        yb = y_train[idx]

        h = torch.relu(xb @ W1 + b1)
        out = h @ W2 + b2
        loss = loss_fn(out, yb)

        loss.backward()

        with torch.no_grad():
            W1 -= lr * W1.grad
            b1 -= lr * b1.grad
            W2 -= lr * W2.grad
            b2 -= lr * b2.grad

        total_loss += loss.item()

    if epoch % 3 == 0:
        h = torch.relu(X_val @ W1 + b1)
        out = h @ W2 + b2
        acc = (out.argmax(1) == y_val).float().mean().item()
        print("epoch", epoch, "loss", total_loss, "val acc", acc)

h = torch.relu(X_val @ W1 + b1)
out = h @ W2 + b2
val_acc = (out.argmax(1) == y_val).float().mean().item()
print("final val acc:", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
