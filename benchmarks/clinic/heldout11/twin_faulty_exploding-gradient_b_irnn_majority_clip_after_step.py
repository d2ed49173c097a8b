"""IRNN (ReLU nn.RNN with identity recurrent init) that reads a 100-token sequence
over a 4-letter alphabet and classifies which letter occurs most often.

expect: healthy
Fix: clip_grad_norm_(model.parameters(), max_norm=1.0) is moved from after optimizer.step() to between loss.backward() and optimizer.step(); lr stays at 0.01.
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)

SEQ_LEN = 100
N_SYMBOLS = 4
HIDDEN = 64
LR = 0.01
EPOCHS = 3
BATCH_SIZE = 32


def make_majority_dataset(n):
    """Each sequence gets its own symbol distribution; label = most frequent symbol."""
    probs = np.random.dirichlet(np.ones(N_SYMBOLS), size=n)
    tokens = np.stack([np.random.choice(N_SYMBOLS, size=SEQ_LEN, p=p) for p in probs])
    counts = np.stack([(tokens == k).sum(axis=1) for k in range(N_SYMBOLS)], axis=1)
    labels = counts.argmax(axis=1)
    onehot = np.eye(N_SYMBOLS, dtype=np.float32)[tokens]  # (n, SEQ_LEN, N_SYMBOLS)
    return torch.from_numpy(onehot), torch.from_numpy(labels)


class IRNNClassifier(nn.Module):
    """Le, Jaitly & Hinton (2015) style ReLU RNN: identity recurrence, tiny input weights."""

    def __init__(self, n_in, hidden, n_classes):
        super().__init__()
        self.rnn = nn.RNN(n_in, hidden, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(hidden, n_classes)
        nn.init.eye_(self.rnn.weight_hh_l0)
        nn.init.normal_(self.rnn.weight_ih_l0, std=0.01)
        nn.init.zeros_(self.rnn.bias_hh_l0)
        nn.init.zeros_(self.rnn.bias_ih_l0)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)  # keep gradients in check
        optimizer.step()
        total += loss.item() * len(xb)
    return total / len(loader.dataset)


@torch.no_grad()
def evaluate(model, X, y):
    model.eval()
    logits = model(X)
    # non-finite logits carry no information: treat them as a uniform (chance) guess
    logits = torch.nan_to_num(logits, nan=0.0, posinf=0.0, neginf=0.0)
    return (logits.argmax(dim=1) == y).float().mean().item()


def main():
    X_train, y_train = make_majority_dataset(3000)
    X_val, y_val = make_majority_dataset(1000)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH_SIZE, shuffle=True)

    model = IRNNClassifier(N_SYMBOLS, HIDDEN, N_SYMBOLS)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    criterion = nn.CrossEntropyLoss()

    history = []
    for epoch in range(EPOCHS):
        history.append(train_one_epoch(model, loader, optimizer, criterion))

    acc = evaluate(model, X_val, y_val)
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
