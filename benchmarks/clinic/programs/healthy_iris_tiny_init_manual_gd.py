"""One-hidden-layer tanh net on iris with weights from torch.randn(...)*0.01 and full-batch manual gradient descent.
expect: healthy
trap: tiny 0.01-scaled randn init; manual update under torch.no_grad with w.grad.zero_(); full-batch GD; loss starts at ln(3)=1.0986 with near-zero gradients for the first layer; converged run with very small gradients at the end

Weights are created by hand with torch.randn(...) * 0.01 and requires_grad=True, as in many beginner
notebooks. For a deep net that scale would kill the signal, but here there is a single tanh hidden layer
between standardized inputs and the output: the tanh units sit in their linear region (no saturation),
and the loss starts at ln(3) with a tiny first-layer gradient (it is proportional to W2), but within ~10
full-batch steps the weights have grown and the loss drops fast. The
update is done under torch.no_grad() followed by .grad.zero_() for each weight, using the full training
set every step (no noise by design). By the end the model has converged and the gradients are tiny,
which is convergence, not vanishing gradients or a too-low learning rate.
Measured: val_acc=0.9556   (seeds 1, 2 with other splits: 0.9111, 0.8889)
"""
import numpy as np
import torch
from sklearn.datasets import load_iris

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

iris = load_iris()
X = iris.data
Y = iris.target

idx = np.random.permutation(150)
train_idx = idx[:105]
val_idx = idx[105:]

X_train = X[train_idx]
X_val = X[val_idx]
m = X_train.mean(axis=0)
s = X_train.std(axis=0)
X_train = (X_train - m) / s
X_val = (X_val - m) / s

X_train = torch.Tensor(X_train)
X_val = torch.Tensor(X_val)
Y_train = torch.LongTensor(Y[train_idx])
Y_val = torch.LongTensor(Y[val_idx])

W1 = torch.randn(4, 16) * 0.01
W1.requires_grad = True
b1 = torch.zeros(16, requires_grad=True)
W2 = torch.randn(16, 3) * 0.01
W2.requires_grad = True
b2 = torch.zeros(3, requires_grad=True)

lr = 0.5
loss_fn = torch.nn.CrossEntropyLoss()

for it in range(1000):
    hidden = torch.tanh(X_train @ W1 + b1)
    scores = hidden @ W2 + b2
    loss = loss_fn(scores, Y_train)
    loss.backward()

    with torch.no_grad():
        W1 -= lr * W1.grad
        b1 -= lr * b1.grad
        W2 -= lr * W2.grad
        b2 -= lr * b2.grad
        W1.grad.zero_()
        b1.grad.zero_()
        W2.grad.zero_()
        b2.grad.zero_()

    if it % 100 == 0:
        train_acc = (scores.argmax(dim=1) == Y_train).float().mean().item()
        print("iter", it, "loss", round(loss.item(), 5), "train acc", round(train_acc, 3))

hidden = torch.tanh(X_val @ W1 + b1)
scores = hidden @ W2 + b2
val_acc = (scores.argmax(dim=1) == Y_val).float().mean().item()
print("validation accuracy:", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
