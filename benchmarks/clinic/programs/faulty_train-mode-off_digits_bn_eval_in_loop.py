"""BatchNorm + Dropout MLP on digits where model.eval() in the per-epoch validation is never undone, so training runs in eval mode.
expect: train-mode-off
allow: non-finite, learning-rate-too-high, exploding-gradient

model.train() is called once, before the epoch loop, and the validation block at the end of every epoch
calls model.eval(). From epoch 2 on the network therefore trains in eval mode: Dropout is off and
BatchNorm normalizes with the running statistics frozen after the first epoch instead of the batch
statistics. The learning rate (plain SGD, lr=0.5) is one that the batch-normalized network tolerates,
but without batch statistics the hidden activations are no longer kept at unit scale; the weights grow,
the loss blows up to inf/NaN a few epochs later and the model ends at chance. The fix is to call
model.train() at the start of every epoch.
Measured: faulty val_acc=0.0921 vs fixed val_acc=0.9866   (loss NaN by epoch 4; seed 1: 0.1122 vs 0.9665; seed 2: 0.0988 vs 0.9732)
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

model.train()
for epoch in range(num_epochs):
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
