"""FIXED version: VGG-style BatchNorm CNN on 8x8 digits that trains in eval mode because a baseline evaluate() left it there.

expect: healthy
(fixed counterpart of ../f_cnn_bn_eval_mode.py, which expects train-mode-off)

The script calls model.train() once right after building the model, then logs a "baseline"
accuracy with evaluate(), which switches the model to eval mode and never switches it back.
The training loop has no model.train() of its own, so every step runs with BatchNorm in
inference mode (normalizing with the initial running stats mean=0/var=1, which never update)
and Dropout disabled.  The 8-conv VGG-style stack relies on BatchNorm to keep its signal alive
under PyTorch's default init; without real batch statistics the activations shrink layer after
layer and SGD barely moves the loss.
Measured (test accuracy after 6 epochs): faulty 0.1022 vs fixed 0.9778
(fixed = model.train() at the top of each epoch, fixed/f_cnn_bn_eval_mode_fixed.py).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
Xtr, Xte = torch.tensor(Xtr), torch.tensor(Xte)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)


def conv_bn(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


model = nn.Sequential(
    *conv_bn(1, 16), *conv_bn(16, 16), *conv_bn(16, 16), *conv_bn(16, 32),
    nn.MaxPool2d(2),
    *conv_bn(32, 32), *conv_bn(32, 32), *conv_bn(32, 32), *conv_bn(32, 32),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Dropout(0.3),
    nn.Linear(32, 10),
)
model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)


def evaluate(m, X, y):
    m.eval()
    with torch.no_grad():
        return (m(X).argmax(1) == y).float().mean().item()


print(f"baseline (untrained) acc {evaluate(model, Xte, yte):.3f}")
BS = 32
for epoch in range(6):
    model.train()
    perm = torch.randperm(len(Xtr))
    for s in range(0, len(Xtr), BS):
        idx = perm[s:s + BS]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")

acc = evaluate(model, Xte, yte)
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
