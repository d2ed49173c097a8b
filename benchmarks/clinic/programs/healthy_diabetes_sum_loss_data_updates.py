"""Two-layer ReLU regressor on diabetes trained full-batch with a summed squared error, a matching tiny LR and .data updates.
expect: healthy
trap: loss reduced with .sum() so loss values are in the hundreds and gradient norms are ~N times a mean loss's; lr=1e-4 looks far too small but matches the sum; parameters updated through .data and grads cleared with .grad.data.zero_(); numpy round trips for the metric

Written after the classic autograd tutorial: w1/w2 are raw tensors with requires_grad=True (He-scaled by
hand), the loss is (y_pred - y).pow(2).sum() over all 350 training rows, and the update is
w.data -= lr * w.grad.data followed by w.grad.data.zero_(). Because the loss is a sum, the gradient is
350x that of the mean and lr=1e-4 is the same step as lr=0.035 on an MSE: the update/weight ratio is
normal, nothing explodes and the loss falls steadily. The raw loss number (hundreds) and raw gradient
norms are large only because of the reduction. Shapes are consistent ([N,1] vs [N,1]).
Measured: val_mse=0.4573   (standardized target; summed loss 940 -> 140; seeds 1, 2: 0.6040, 0.5093 with different splits)
"""
import numpy as np
import torch
from sklearn.datasets import load_diabetes

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X_all, y_all = load_diabetes(return_X_y=True)
X_all = (X_all - X_all.mean(axis=0)) / X_all.std(axis=0)
y_all = (y_all - y_all.mean()) / y_all.std()

order = np.random.permutation(len(X_all))
X_all = X_all[order]
y_all = y_all[order]

x = torch.Tensor(X_all[:350])
y = torch.Tensor(y_all[:350]).view(-1, 1)
x_test = torch.Tensor(X_all[350:])
y_test = y_all[350:]

N, D_in, H, D_out = 350, 10, 32, 1

w1 = torch.randn(D_in, H) * np.sqrt(2.0 / D_in)
w1.requires_grad = True
b1 = torch.zeros(H, requires_grad=True)
w2 = torch.randn(H, D_out) * np.sqrt(1.0 / H)
w2.requires_grad = True
b2 = torch.zeros(D_out, requires_grad=True)

learning_rate = 1e-4

for t in range(800):
    h = x.mm(w1) + b1
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2) + b2

    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 0:
        print(t, loss.item())

    loss.backward()

    w1.data -= learning_rate * w1.grad.data
    b1.data -= learning_rate * b1.grad.data
    w2.data -= learning_rate * w2.grad.data
    b2.data -= learning_rate * b2.grad.data

    w1.grad.data.zero_()
    b1.grad.data.zero_()
    w2.grad.data.zero_()
    b2.grad.data.zero_()

pred_test = (x_test.mm(w1) + b1).clamp(min=0).mm(w2) + b2
pred_test = pred_test.detach().numpy()[:, 0]
val_mse = float(((pred_test - y_test) ** 2).mean())
print("train mse", loss.item() / N, "test mse", val_mse)
print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
