"""Deep MLP on digits uses torch.sigmoid after every one of its 10 hidden layers.
expect: vanishing-gradient

Every one of the 10 hidden layers is followed by torch.sigmoid, whose derivative is at most
0.25; with PyTorch's default Linear init each layer shrinks the backpropagated gradient by
roughly an order of magnitude, so fc1's weight gradient is ~1e8 times smaller than the
output layer's and the early layers never learn. The network stays at chance level.
Fix: F.relu with nn.init.kaiming_normal_ (zero biases) on the hidden layers.
Measured: faulty val_acc=0.1022 vs fixed val_acc=0.9378
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.manual_seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_tr)
X_tr = torch.tensor(scaler.transform(X_tr), dtype=torch.float32)
X_te = torch.tensor(scaler.transform(X_te), dtype=torch.float32)
y_tr = torch.tensor(y_tr, dtype=torch.long)
y_te = torch.tensor(y_te, dtype=torch.long)


class DeepNet(nn.Module):
    def __init__(self, d_in=64, width=64, n_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(d_in, width)
        self.fc2 = nn.Linear(width, width)
        self.fc3 = nn.Linear(width, width)
        self.fc4 = nn.Linear(width, width)
        self.fc5 = nn.Linear(width, width)
        self.fc6 = nn.Linear(width, width)
        self.fc7 = nn.Linear(width, width)
        self.fc8 = nn.Linear(width, width)
        self.fc9 = nn.Linear(width, width)
        self.fc10 = nn.Linear(width, width)
        self.out = nn.Linear(width, n_classes)

    def forward(self, x):
        x = torch.sigmoid(self.fc1(x))
        x = torch.sigmoid(self.fc2(x))
        x = torch.sigmoid(self.fc3(x))
        x = torch.sigmoid(self.fc4(x))
        x = torch.sigmoid(self.fc5(x))
        x = torch.sigmoid(self.fc6(x))
        x = torch.sigmoid(self.fc7(x))
        x = torch.sigmoid(self.fc8(x))
        x = torch.sigmoid(self.fc9(x))
        x = torch.sigmoid(self.fc10(x))
        return self.out(x)


model = DeepNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

batch_size = 64
n_epochs = 20
step = 0
for epoch in range(n_epochs):
    model.train()
    perm = torch.randperm(len(X_tr))
    for i in range(0, len(X_tr), batch_size):
        idx = perm[i:i + batch_size]
        logits = model(X_tr[idx])
        loss = F.cross_entropy(logits, y_tr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
    if epoch % 5 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(X_te).argmax(1) == y_te).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
