"""Softmax regression on iris written with plain tensors: no nn.Module anywhere.

expect: healthy
trap: there is no model object: the optimizer steps two requires_grad tensors (W, b), which `nndoctor run` must watch as the training (accuracy 0.93)
"""
import torch
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
torch.manual_seed(17)
X, y = load_iris(return_X_y=True)
X = torch.tensor(StandardScaler().fit_transform(X), dtype=torch.float32); y = torch.tensor(y)
W = (0.01 * torch.randn(4, 3)).requires_grad_(); b = torch.zeros(3, requires_grad=True)
opt = torch.optim.SGD([W, b], lr=0.1)
for step in range(300):
    logits = X @ W + b
    loss = torch.nn.functional.cross_entropy(logits, y)
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 100 == 0: print(step, loss.item())
print("acc", ((X @ W + b).argmax(1) == y).float().mean().item())
