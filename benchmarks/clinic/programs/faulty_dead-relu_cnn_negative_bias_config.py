"""Small CNN on 8x8 digits; the init config gives every conv/linear bias a constant -0.3.

expect: dead-relu
allow: vanishing-gradient, loss-not-decreasing

The config was ported from a sparse-feature experiment: `bias_init: -0.3` is applied to every
layer by an init function.  It looks harmless, but the inputs are pixel intensities in [0, 1],
the weights keep PyTorch's default (small) init and conv1 already loses some channels, so conv2's
pre-activations are only a few hundredths in size.  Against a -0.3 bias, every channel of conv2 and
conv3 is negative at every position of every image: F.relu turns them into all-zero feature maps
that receive no gradient and never recover.  The classifier sees zeros and the loss stays at
ln(10) = 2.30.
(fixed, bias_init 0.0: test acc 0.92 vs 0.10 here.)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

CFG = dict(seed=0, channels=(8, 16), bias_init=-0.3, lr=3e-3, batch_size=64, epochs=6)

torch.manual_seed(CFG["seed"])


class DigitCNN(nn.Module):
    def __init__(self, channels):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.conv3 = nn.Conv2d(c2, c2, 3, padding=1)
        self.classifier = nn.Linear(c2 * 4 * 4, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        return self.classifier(x.flatten(1))


def init_biases(module, value):
    if isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
        nn.init.constant_(module.bias, value)


def main(cfg):
    digits = load_digits()
    X = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target)
    train_ds = TensorDataset(X[:1400], y[:1400])
    X_test, y_test = X[1400:], y[1400:]
    loader = DataLoader(train_ds, batch_size=cfg["batch_size"], shuffle=True)

    model = DigitCNN(cfg["channels"])
    model.apply(lambda m: init_biases(m, cfg["bias_init"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])

    for epoch in range(cfg["epochs"]):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            acc = (model(X_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}  test acc {acc:.3f}")
    return acc


if __name__ == "__main__":
    acc = main(CFG)
    print(f"final test accuracy: {acc:.3f}")
    print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
