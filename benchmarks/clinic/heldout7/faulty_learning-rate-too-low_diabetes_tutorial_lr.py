"""Tutorial-style two-layer ReLU net (raw tensors, full-batch GD) on diabetes whose LR was tuned for a summed loss but the loss is a mean.
expect: learning-rate-too-low
allow: loss-not-decreasing

The code follows the classic "PyTorch: Tensors and autograd" example (w1/w2 made with torch.randn and
requires_grad=True, full-batch gradient descent, manual update under no_grad). That example uses
loss = (y_pred - y).pow(2).sum() with a tiny learning rate. Here the loss was changed to .mean() so that
the printed number looks like an MSE, but learning_rate = 1e-4 was kept: the gradient is now N=350 times
smaller, the per-step update is ~1e-6 of the weights, and after 1000 steps the model has barely moved
from predicting ~0. Fix: scale the LR with the reduction (learning_rate = 0.03 for the mean).
Measured: faulty val_mse=1.0831 vs fixed val_mse=0.4397   (seed 1: 0.9957 vs 0.5518; seed 2: 0.9312 vs 0.4954)
"""
import numpy as np
import torch
from sklearn.datasets import load_diabetes

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

data = load_diabetes()
X_np = data.data
y_np = data.target

X_np = (X_np - X_np.mean(0)) / X_np.std(0)
y_np = (y_np - y_np.mean()) / y_np.std()

p = np.random.permutation(len(X_np))
X_np, y_np = X_np[p], y_np[p]

x = torch.from_numpy(X_np[:350]).float()
y = torch.from_numpy(y_np[:350]).float().unsqueeze(1)
x_val = torch.from_numpy(X_np[350:]).float()
y_val = torch.from_numpy(y_np[350:]).float().unsqueeze(1)

N, D_in, H, D_out = 350, 10, 50, 1

w1 = torch.randn(D_in, H) * 0.1
w1.requires_grad = True
w2 = torch.randn(H, D_out) * 0.1
w2.requires_grad = True

learning_rate = 1e-4
for t in range(1000):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)

    loss = (y_pred - y).pow(2).mean()
    if t % 100 == 99:
        print(t, loss.item())

    loss.backward()

    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad

        w1.grad.zero_()
        w2.grad.zero_()

y_val_pred = x_val.mm(w1).clamp(min=0).mm(w2)
val_mse = (y_val_pred - y_val).pow(2).mean().item()
print("val mse", val_mse)
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
