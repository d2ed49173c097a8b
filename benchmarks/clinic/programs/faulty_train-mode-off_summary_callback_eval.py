"""Wine MLP (Linear-BatchNorm-ReLU-Dropout blocks, SGD at the high LR BatchNorm allows) in a callback-driven loop; a model-summary callback calls model.eval() at train start and never switches back.

expect: train-mode-off
allow: learning-rate-too-high, exploding-gradient, non-finite, dead-relu

ShapeSummary.on_train_begin runs a dummy batch through the model in eval mode (so BatchNorm
does not update its statistics on fake data), prints the output shape, and forgets
model.train(). The whole run trains in eval mode: every BatchNorm applies its initial running
statistics (mean 0, var 1), i.e. normalizes nothing and never updates, and Dropout is off. The
LR of 0.2 was chosen for the BatchNorm net; without normalization it is far too high for the
deep plain MLP.
Fixed (model.train() at the end of on_train_begin): val acc 1.000 vs 0.333 here, where the
loss is NaN by epoch 10 (the eval-mode net diverges).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

torch.manual_seed(0)


class ShapeSummary:
    def on_train_begin(self, model, example):
        model.eval()
        with torch.no_grad():
            out = model(example)
        print(f"model output shape: {tuple(out.shape)}, parameters: {sum(p.numel() for p in model.parameters())}")

    def on_epoch_end(self, model, epoch, loss):
        pass


class PrintEvery:
    def __init__(self, every, Xv, yv):
        self.every, self.Xv, self.yv = every, Xv, yv

    def on_train_begin(self, model, example):
        pass

    def on_epoch_end(self, model, epoch, loss):
        if epoch % self.every == self.every - 1:
            with torch.no_grad():
                acc = (model(self.Xv).argmax(1) == self.yv).float().mean().item()
            print(f"epoch {epoch + 1:3d}  loss {loss:.4f}  val acc {acc:.3f}")


def block(i, o):
    return [nn.Linear(i, o), nn.BatchNorm1d(o), nn.ReLU(), nn.Dropout(0.2)]


X, y = load_wine(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
mu, sd = Xtr.mean(0), Xtr.std(0)
Xtr = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
Xva = torch.tensor((Xva - mu) / sd, dtype=torch.float32)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

model = nn.Sequential(*block(13, 128), *block(128, 128), *block(128, 128), *block(128, 128), nn.Linear(128, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
criterion = nn.CrossEntropyLoss()
callbacks = [ShapeSummary(), PrintEvery(10, Xva, yva)]

model.train()
for cb in callbacks:
    cb.on_train_begin(model, Xtr[:4])
for epoch in range(40):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 16):
        idx = perm[i:i + 16]
        optimizer.zero_grad()
        loss = criterion(model(Xtr[idx]), ytr[idx])
        loss.backward()
        optimizer.step()
    for cb in callbacks:
        cb.on_epoch_end(model, epoch, loss.item())

model.eval()
with torch.no_grad():
    print(f"NNDOCTOR_METRIC val_acc={(model(Xva).argmax(1) == yva).float().mean().item():.4f} higher")
