"""Random-Fourier-feature classifier on make_moons: a frozen random nn.Linear + cos, features cached under no_grad, only the readout trained.
expect: healthy
trap: a layer whose parameters have requires_grad=False and are not in the optimizer; its output computed once under torch.no_grad(); weights overwritten through .data; 1-unit output with BCEWithLogitsLoss and a [N,1] target

The first layer is a fixed random projection (weights set through .data to randn*2, bias uniform in
[0, 2pi]) followed by cos, i.e. random Fourier features for an RBF kernel. Its parameters are frozen on
purpose (requires_grad=False) and therefore left out of the optimizer, and because they never change
the features are computed once under torch.no_grad() before the loop. Only the readout layer learns
(SGD with momentum on mini-batches); that is the whole model design, not a cut graph. Targets are
reshaped to [N,1] to match the single logit.
Measured: val_acc=0.9533   (noise 0.25 moons; seeds 1, 2: 0.9533, 0.9533)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import make_moons

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = make_moons(n_samples=800, noise=0.25, random_state=0)
X_train, y_train = X[:500], y[:500]
X_val, y_val = X[500:], y[500:]

X_train = torch.Tensor(X_train)
X_val = torch.Tensor(X_val)
y_train = torch.Tensor(y_train).view(-1, 1)
y_val_np = y_val

n_features = 300
random_layer = nn.Linear(2, n_features)
random_layer.weight.data = torch.randn(n_features, 2) * 2.0
random_layer.bias.data = torch.rand(n_features) * 2 * np.pi
random_layer.weight.requires_grad = False
random_layer.bias.requires_grad = False

readout = nn.Linear(n_features, 1)

# the random layer never changes, so compute the features only once
with torch.no_grad():
    F_train = torch.cos(random_layer(X_train)) * np.sqrt(2.0 / n_features)
    F_val = torch.cos(random_layer(X_val)) * np.sqrt(2.0 / n_features)

loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(readout.parameters(), lr=0.5, momentum=0.9)

for epoch in range(40):
    perm = torch.randperm(500)
    for i in range(0, 500, 25):
        b = perm[i:i + 25]
        logits = readout(F_train[b])
        loss = loss_fn(logits, y_train[b])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch % 10 == 0:
        with torch.no_grad():
            full_loss = loss_fn(readout(F_train), y_train).item()
        print("epoch", epoch, "train loss", round(full_loss, 4))

with torch.no_grad():
    p = torch.sigmoid(readout(F_val)).numpy()[:, 0]
val_acc = float(((p > 0.5).astype(int) == y_val_np).mean())
print("val acc", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
