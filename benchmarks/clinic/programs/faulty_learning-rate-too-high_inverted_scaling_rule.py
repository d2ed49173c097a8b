"""Small digits CNN whose linear LR-scaling helper is inverted (lr * ref/batch instead of lr * batch/ref).

expect: learning-rate-too-high
allow: exploding-gradient, non-finite, loss-not-decreasing, dead-relu

The recipe says "base_lr=0.1 at reference batch 256, scale linearly with batch size".  The run
uses batch 16, so the correct LR is 0.1 * 16/256 = 0.00625.  scaled_lr() has the ratio upside
down and returns 0.1 * 256/16 = 1.6 -- 256x too high for SGD with momentum 0.9.  The loss
spikes within the first dozen steps (46 at step 10), the ReLU layers die and the loss then
bounces around chance level (2.3-2.9) for the rest of the run.
Measured: faulty val_acc=0.1000 ; twin (ratio fixed) val_acc=0.9733.
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(2)
np.random.seed(2)

CONFIG = {
    "base_lr": 0.1,        # from the reference recipe
    "ref_batch": 256,      # batch size the base_lr was tuned for
    "batch_size": 16,
    "momentum": 0.9,
    "epochs": 10,
}


def scaled_lr(base_lr, batch_size, ref_batch):
    """Linear scaling rule (Goyal et al.): lr grows proportionally with the batch size."""
    return base_lr * ref_batch / batch_size


digits = load_digits()
X = digits.images.astype(np.float32) / 16.0
y = digits.target
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=2, stratify=y)
Xtr = torch.from_numpy(Xtr).unsqueeze(1)
Xva = torch.from_numpy(Xva).unsqueeze(1)
ytr = torch.from_numpy(ytr).long()
yva = torch.from_numpy(yva).long()


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, 64)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.relu(self.fc(x.flatten(1)))
        return self.head(x)


def accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        out = model(X)
    model.train()
    if not torch.isfinite(out).all():
        return 0.0
    return (out.argmax(1) == y).float().mean().item()


lr = scaled_lr(CONFIG["base_lr"], CONFIG["batch_size"], CONFIG["ref_batch"])
print(f"using lr={lr:g}")
model = TinyCNN()
opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=CONFIG["momentum"])

t0 = time.time()
step = 0
for epoch in range(CONFIG["epochs"]):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), CONFIG["batch_size"]):
        idx = perm[i:i + CONFIG["batch_size"]]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(f"step {step:4d} loss {loss.item():.4f}")
        step += 1
    print(f"epoch {epoch} val_acc {accuracy(model, Xva, yva):.4f}")

v = accuracy(model, Xva, yva)
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
