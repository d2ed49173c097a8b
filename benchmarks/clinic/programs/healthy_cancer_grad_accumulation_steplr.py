"""MLP on breast-cancer with gradient accumulation (step and zero_grad every 4 mini-batches of 8) and a StepLR that decays the LR 100x.
expect: healthy
trap: backward() called 4 times between zero_grad() calls (accumulation, loss divided by 4); optimizer.step() only every 4th backward; LR decayed to 3e-5 by the end so the last epochs barely move; tiny batches of 8 but an effective batch of 32

The notebook copies the "gradient accumulation" recipe from a forum post: each mini-batch of 8 samples
calls backward() on loss/4, and every 4th mini-batch the optimizer steps and the gradients are zeroed.
The grads do grow within each group of 4, but they are reset after every step, so nothing leaks between
steps, and every backward is followed by a step within the group. The StepLR schedule divides the LR by
10 every 10 epochs (3e-3 -> 3e-5): the small updates in the last epochs are a deliberate decay of an
already converged model, not a too-low learning rate. Accuracy is counted with .item() per batch.
Measured: val_acc=0.9860   (test loss flat at ~0.05 from epoch 5; seeds 1, 2: 0.9860, 0.9860)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)

mean = X_train.mean(axis=0)
std = X_train.std(axis=0)
X_train = (X_train - mean) / std
X_test = (X_test - mean) / std

X_train = torch.Tensor(X_train)
y_train = torch.Tensor(y_train)
X_test = torch.Tensor(X_test)
y_test = torch.Tensor(y_test)

model = nn.Sequential(
    nn.Linear(30, 32),
    nn.ReLU(),
    nn.Linear(32, 16),
    nn.ReLU(),
    nn.Linear(16, 1),
)
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)

batch_size = 8
accum_steps = 4
n = len(X_train)

for epoch in range(30):
    model.train()
    perm = torch.randperm(n)
    # drop the last incomplete group so every backward is followed by a step
    n_batches = (n // batch_size) // accum_steps * accum_steps
    correct = 0
    optimizer.zero_grad()
    for i in range(n_batches):
        idx = perm[i * batch_size:(i + 1) * batch_size]
        out = model(X_train[idx]).squeeze(1)
        loss = criterion(out, y_train[idx]) / accum_steps
        loss.backward()
        correct += ((out > 0).float() == y_train[idx]).sum().item()

        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
    scheduler.step()

    if epoch % 5 == 0 or epoch == 29:
        model.eval()
        with torch.no_grad():
            out = model(X_test).squeeze(1)
            test_loss = criterion(out, y_test).item()
            test_acc = ((out > 0).float() == y_test).float().mean().item()
        print("epoch", epoch, "lr", scheduler.get_last_lr()[0], "train acc", correct / (n_batches * batch_size),
              "test loss", round(test_loss, 4), "test acc", round(test_acc, 4))

model.eval()
with torch.no_grad():
    out = model(X_test).squeeze(1)
    test_acc = ((out > 0).float() == y_test).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={test_acc:.4f} higher")
