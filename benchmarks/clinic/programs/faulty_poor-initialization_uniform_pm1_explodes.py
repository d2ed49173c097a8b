"""8-layer ReLU MLP whose weights are drawn from U(-1, 1), the textbook "small random numbers".

expect: poor-initialization
allow: exploding-gradient

An old from-scratch tutorial initialises every weight uniformly in [-1, 1] (std 0.58).  For a
128-wide ReLU layer He init would use std sqrt(2 / 128) = 0.125; here each layer amplifies the
signal by ~0.58 * sqrt(128 / 2) ~ 4.6.  With standardised inputs the hidden activation std grows
from ~2 after the first layer to ~1e5 after the eighth, the initial logits have std ~1e6 and the
first loss is ~1e6 instead of ln(4) = 1.39.  Adam keeps it from diverging, but the whole run is
spent undoing the scale: the loss is still in the tens-to-thousands at the end and the net ends
far below what it reaches when correctly initialised.
(fixed, kaiming_normal_: val acc 0.90 / val loss 0.58 vs 0.69 / 2e4 here.)
"""
import torch
import torch.nn as nn
from sklearn.datasets import make_classification
from torch.utils.data import DataLoader, TensorDataset

config = {
    "seed": 0,
    "depth": 8,
    "width": 128,
    "lr": 1e-3,
    "batch_size": 64,
    "epochs": 10,
}


def init_uniform(module):
    if isinstance(module, nn.Linear):
        nn.init.uniform_(module.weight, -1.0, 1.0)
        nn.init.zeros_(module.bias)


def build_mlp(n_in, n_out, depth, width):
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, n_out))
    model = nn.Sequential(*layers)
    model.apply(init_uniform)
    return model


def run(cfg):
    torch.manual_seed(cfg["seed"])
    X, y = make_classification(n_samples=3000, n_features=20, n_informative=12, n_redundant=4,
                               n_classes=4, n_clusters_per_class=2, class_sep=1.5, random_state=cfg["seed"])
    X = torch.tensor(X, dtype=torch.float32)
    X = (X - X[:2400].mean(0)) / X[:2400].std(0)
    y = torch.tensor(y)
    train_ds = TensorDataset(X[:2400], y[:2400])
    X_val, y_val = X[2400:], y[2400:]
    loader = DataLoader(train_ds, batch_size=cfg["batch_size"], shuffle=True)

    model = build_mlp(20, 4, cfg["depth"], cfg["width"])
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    criterion = nn.CrossEntropyLoss()

    step = 0
    for epoch in range(cfg["epochs"]):
        for xb, yb in loader:
            loss = criterion(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 75 == 0:
                print(f"step {step:4d}  loss {loss.item():.4g}")
            step += 1
    with torch.no_grad():
        val_loss = criterion(model(X_val), y_val).item()
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"val loss {val_loss:.4f}  val acc {val_acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")


if __name__ == "__main__":
    run(config)
