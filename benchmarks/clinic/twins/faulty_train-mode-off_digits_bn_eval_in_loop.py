"""Fixed version of faulty_train-mode-off_digits_bn_eval_in_loop.py: the one-line fix of its docstring.
Measured: val_acc=0.9866. From the seventh held-out audit (beginner and notebook-style code).
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

digits = load_digits()
X = digits.data / 16.0
y = digits.target

perm = np.random.permutation(len(X))
X, y = X[perm], y[perm]

X_train = torch.Tensor(X[:1200])
y_train = torch.LongTensor(y[:1200])
X_test = torch.Tensor(X[1200:])
y_test = torch.LongTensor(y[1200:])

model = nn.Sequential(
    nn.Linear(64, 256),
    nn.BatchNorm1d(256),
    nn.ReLU(),
    nn.Dropout(0.5),
    nn.Linear(256, 256),
    nn.BatchNorm1d(256),
    nn.ReLU(),
    nn.Dropout(0.5),
    nn.Linear(256, 10),
)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

batch_size = 32
num_epochs = 15

for epoch in range(num_epochs):
    model.train()
    running_loss = 0.0
    shuffle = np.random.permutation(len(X_train))
    for i in range(0, len(X_train), batch_size):
        batch = shuffle[i:i + batch_size]
        inputs = X_train[batch]
        labels = y_train[batch]

        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()

    # check test accuracy
    model.eval()
    with torch.no_grad():
        outputs = model(X_test)
        _, predicted = torch.max(outputs, 1)
        correct = (predicted == y_test).sum().item()
    if epoch % 3 == 0:
        print("Epoch %d loss: %.4f test acc: %.4f" % (epoch + 1, running_loss / (len(X_train) / batch_size), correct / len(y_test)))

test_acc = correct / len(y_test)
print("Final test accuracy:", test_acc)
print(f"NNDOCTOR_METRIC val_acc={test_acc:.4f} higher")
