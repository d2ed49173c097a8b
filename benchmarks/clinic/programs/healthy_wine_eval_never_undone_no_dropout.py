"""Plain Linear/ReLU MLP on wine that calls model.eval() for validation and never model.train() again, but has no Dropout or BatchNorm.
expect: healthy
trap: the model trains in eval mode from the second epoch on (model.training is False during backward), which is harmless because no layer behaves differently in eval mode; validation loss computed under no_grad every epoch; best weights kept as p.data.clone() copies and restored through .data

The script follows the usual notebook pattern: model.train() once before the loop, model.eval() in the
validation block of every epoch, and nobody switches back. For a network with Dropout or BatchNorm this
is a real bug, but this model is only nn.Linear and nn.ReLU layers, whose forward is identical in train
and eval mode, so training is unaffected. The best validation-loss weights are saved with
[p.data.clone() ...] and copied back with p.data.copy_(...) at the end (a manual early stopping).
Measured: val_acc=1.0000   (val loss 0.95 -> 0.008; seeds 1, 2: 0.9828, 0.9483)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_wine

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_wine(return_X_y=True)
perm = np.random.permutation(len(X))
X, y = X[perm], y[perm]
X_train, X_val = X[:120], X[120:]
y_train, y_val = y[:120], y[120:]

mean = X_train.mean(0)
std = X_train.std(0)
X_train = torch.Tensor((X_train - mean) / std)
X_val = torch.Tensor((X_val - mean) / std)
y_train = torch.LongTensor(y_train)
y_val = torch.LongTensor(y_val)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(13, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 3)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)

best_val = 1e9
best_weights = None

net.train()
for epoch in range(60):
    perm = torch.randperm(120)
    for i in range(0, 120, 12):
        b = perm[i:i + 12]
        optimizer.zero_grad()
        loss = criterion(net(X_train[b]), y_train[b])
        loss.backward()
        optimizer.step()

    net.eval()
    with torch.no_grad():
        val_out = net(X_val)
        val_loss = criterion(val_out, y_val).item()
        val_acc = (val_out.argmax(1) == y_val).float().mean().item()
    if val_loss < best_val:
        best_val = val_loss
        best_weights = [p.data.clone() for p in net.parameters()]
    if epoch % 10 == 0:
        print("epoch", epoch, "train loss", round(loss.item(), 4), "val loss", round(val_loss, 4), "val acc", round(val_acc, 4))

for p, w in zip(net.parameters(), best_weights):
    p.data.copy_(w)

with torch.no_grad():
    val_acc = (net(X_val).argmax(1) == y_val).float().mean().item()
print("best val loss", best_val, "val acc", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
