"""MLP on the wine data with a manual SGD update that rebinds the loop variable instead of changing the parameter.
expect: optimizer-step-missing
allow: loss-not-decreasing

The update was first written as `p -= lr * p.grad`, which raises "a leaf Variable that requires grad is
being used in an in-place operation". The error went away after changing it to `p = p - lr * p.grad`,
but that only makes the name p point to a new tensor that is thrown away at the next iteration: the
model's parameters are never touched. Gradients are computed (and zeroed) every step, the loss stays
where it started, and the model predicts as at initialization. The fix is p.data -= lr * p.grad (or the
update inside torch.no_grad()).
Measured: faulty val_acc=0.3125 vs fixed val_acc=1.0000   (seed 1: 0.3958 vs 0.9792; seed 2: 0.5208 vs 0.9375)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_wine

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

wine = load_wine()
X = wine.data
Y = wine.target

# standardize
X = (X - X.mean(axis=0)) / X.std(axis=0)

# train / val split
shuffle = np.random.permutation(len(X))
X = X[shuffle]
Y = Y[shuffle]
X_train = torch.Tensor(X[:130])
Y_train = torch.LongTensor(Y[:130])
X_val = torch.Tensor(X[130:])
Y_val = torch.LongTensor(Y[130:])


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(13, 20)
        self.fc2 = nn.Linear(20, 3)

    def forward(self, x):
        x = torch.sigmoid(self.fc1(x))
        x = self.fc2(x)
        return x


model = Net()
criterion = nn.CrossEntropyLoss()
lr = 0.1

for epoch in range(100):
    for i in range(0, 130, 10):
        x = X_train[i:i+10]
        t = Y_train[i:i+10]

        output = model(x)
        loss = criterion(output, t)

        model.zero_grad()
        loss.backward()

        for p in model.parameters():
            p = p - lr * p.grad

    if epoch % 20 == 0:
        output = model(X_train)
        correct = (output.argmax(1) == Y_train).sum().item()
        print("epoch", epoch, "loss", loss.item(), "train acc", correct / 130)

output = model(X_val)
correct = (output.argmax(1) == Y_val).sum().item()
val_acc = correct / len(Y_val)
print("val acc", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
