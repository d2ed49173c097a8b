"""12-Linear-layer ReLU MLP (He init) on a 5-class make_classification task, SGD momentum 0.9, lr=0.02.
expect: healthy

Twin of the lr=0.25 program; only the learning rate changed (0.25 -> 0.02). Loss decreases throughout
(384 steps). val_acc = 0.8240 / 0.7820 / 0.8420 at seeds 0 / 1 / 2 (spread ~0.06; the per-epoch val
accuracy is noisy by a few points); the faulty program gets 0.1960.
"""
import numpy as np
import torch
from torch import nn
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.set_num_threads(1)
np.random.seed(SEED)
torch.manual_seed(SEED)

# ---- data -------------------------------------------------------------------
X, y = make_classification(
    n_samples=2500, n_features=24, n_informative=14, n_redundant=4,
    n_classes=5, n_clusters_per_class=2, class_sep=1.3, random_state=SEED,
)
n_train = 2000
scaler = StandardScaler().fit(X[:n_train])
X = scaler.transform(X).astype(np.float32)
Xtr, ytr = torch.tensor(X[:n_train]), torch.tensor(y[:n_train])
Xva, yva = torch.tensor(X[n_train:]), torch.tensor(y[n_train:])


# ---- model: 12 Linear layers --------------------------------------------------
def make_mlp(d_in, width, depth, n_out):
    layers = []
    d = d_in
    for _ in range(depth - 1):
        lin = nn.Linear(d, width)
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


net = make_mlp(24, 64, depth=12, n_out=5)

hparams = dict(lr=0.02, momentum=0.9, weight_decay=1e-4, epochs=12, batch_size=64)
optimizer = torch.optim.SGD(net.parameters(), lr=hparams["lr"],
                            momentum=hparams["momentum"], weight_decay=hparams["weight_decay"])
criterion = nn.CrossEntropyLoss()


def evaluate():
    net.eval()
    with torch.no_grad():
        logits = net(Xva)
        return criterion(logits, yva).item(), (logits.argmax(-1) == yva).float().mean().item()


step = 0
for epoch in range(hparams["epochs"]):
    net.train()
    order = torch.randperm(n_train)
    for b in range(0, n_train, hparams["batch_size"]):
        idx = order[b:b + hparams["batch_size"]]
        out = net(Xtr[idx])
        loss = criterion(out, ytr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % 50 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    vl, va = evaluate()
    print(f"epoch {epoch+1:2d}  val_loss {vl:.4f}  val_acc {va:.4f}")

print(f"NNDOCTOR_METRIC val_acc={va:.4f} higher")
