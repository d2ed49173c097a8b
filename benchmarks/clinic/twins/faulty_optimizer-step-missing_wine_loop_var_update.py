"""Fixed version of faulty_optimizer-step-missing_wine_loop_var_update.py: the one-line fix of its docstring.
Measured: val_acc=1.0000. From the seventh held-out audit (beginner and notebook-style code).
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
            p.data -= lr * p.grad

    if epoch % 20 == 0:
        output = model(X_train)
        correct = (output.argmax(1) == Y_train).sum().item()
        print("epoch", epoch, "loss", loss.item(), "train acc", correct / 130)

output = model(X_val)
correct = (output.argmax(1) == Y_val).sum().item()
val_acc = correct / len(Y_val)
print("val acc", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
