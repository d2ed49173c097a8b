"""Hidden-layer biases are initialised to -4.0, so F.relu outputs zero for almost every input and the units are dead from step 0.
expect: dead-relu

The model's __init__ sets every hidden bias to -4.0 ("start units off"). With standardised
inputs and default weights the pre-activations are far below zero, so F.relu outputs exactly
0 for ~99.98% of (sample, unit) pairs in the first layer and for all units in the later
layers; those units receive zero gradient and never recover, even with Adam. Only the
output bias learns, so the classifier predicts the majority class.
Fix: initialise the hidden biases to zero.
Measured: faulty val_acc=0.6257 vs fixed val_acc=0.9649
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.manual_seed(0)
torch.set_num_threads(1)


class MLP(nn.Module):
    def __init__(self, d_in, hidden=(64, 64, 32)):
        super().__init__()
        self.l1 = nn.Linear(d_in, hidden[0])
        self.l2 = nn.Linear(hidden[0], hidden[1])
        self.l3 = nn.Linear(hidden[1], hidden[2])
        self.head = nn.Linear(hidden[2], 1)
        # sparse activations: start hidden units "off" unless strongly driven
        for layer in (self.l1, self.l2, self.l3):
            nn.init.constant_(layer.bias, -4.0)

    def forward(self, x):
        h = F.relu(self.l1(x))
        h = F.relu(self.l2(h))
        h = F.relu(self.l3(h))
        return self.head(h).squeeze(-1)


class Trainer:
    def __init__(self, model, lr=1e-3, batch_size=32, epochs=25):
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=lr)
        self.loss_fn = nn.BCEWithLogitsLoss()
        self.batch_size = batch_size
        self.epochs = epochs
        self.history = []

    def train_epoch(self, X, y):
        self.model.train()
        perm = torch.randperm(len(X))
        total = 0.0
        for i in range(0, len(X), self.batch_size):
            idx = perm[i:i + self.batch_size]
            loss = self.loss_fn(self.model(X[idx]), y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            total += loss.item() * len(idx)
        return total / len(X)

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        pred = (self.model(X) > 0).float()
        return (pred == y).float().mean().item()

    def fit(self, X_tr, y_tr, X_val, y_val):
        for epoch in range(self.epochs):
            tr_loss = self.train_epoch(X_tr, y_tr)
            val_acc = self.evaluate(X_val, y_val)
            self.history.append((tr_loss, val_acc))
            if epoch % 5 == 0 or epoch == self.epochs - 1:
                print(f"epoch {epoch:2d}  train_loss {tr_loss:.4f}  val_acc {val_acc:.4f}")
        return self


def load_data():
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.3, random_state=42, stratify=y)
    sc = StandardScaler().fit(X_tr)
    to_t = lambda a: torch.tensor(a, dtype=torch.float32)
    return to_t(sc.transform(X_tr)), to_t(y_tr), to_t(sc.transform(X_val)), to_t(y_val)


if __name__ == "__main__":
    X_tr, y_tr, X_val, y_val = load_data()
    model = MLP(X_tr.shape[1])
    trainer = Trainer(model).fit(X_tr, y_tr, X_val, y_val)
    val_acc = trainer.evaluate(X_val, y_val)
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
