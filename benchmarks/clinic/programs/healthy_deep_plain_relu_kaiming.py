"""12-layer plain ReLU MLP (no normalisation, no residuals) with He/Kaiming init on digits.

expect: healthy
trap: a deep stack of Linear+ReLU without BatchNorm or skip connections -- the classic setting for collapsing/exploding signals -- but kaiming_normal_(fan_in, relu) keeps the activation scale roughly constant through all 12 layers

He init gives every weight std sqrt(2 / fan_in), which compensates for ReLU zeroing half of
the signal, so the forward activations (rms ~1 at every layer, printed at start-up) and the
backward gradients keep the same order of magnitude from the first hidden layer to the
twelfth.  SGD with momentum and a cosine schedule trains it to 0.956 test accuracy (train loss
0.03) in 8 epochs.  At the end 0-7% of the units per layer (more in the deepest layers) never
fire on the training set -- normal for a deep ReLU stack.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


class PlainDeepMLP(nn.Module):
    def __init__(self, n_in, width, depth, n_out):
        super().__init__()
        dims = [n_in] + [width] * depth
        self.hidden = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])
        self.out = nn.Linear(width, n_out)
        for layer in self.hidden:
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = F.relu(layer(x))
        return self.out(x)


def main():
    torch.manual_seed(0)
    digits = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(digits.data, digits.target, test_size=0.3, random_state=1)
    mean, std = X_tr.mean(0), X_tr.std(0) + 1e-8
    X_tr = torch.tensor((X_tr - mean) / std, dtype=torch.float32)
    X_te = torch.tensor((X_te - mean) / std, dtype=torch.float32)
    y_tr, y_te = torch.tensor(y_tr), torch.tensor(y_te)

    model = PlainDeepMLP(64, width=128, depth=12, n_out=10)
    with torch.no_grad():
        h, scales = X_tr, []
        for layer in model.hidden:
            h = F.relu(layer(h))
            scales.append(h.pow(2).mean().sqrt().item())
    print("activation rms per layer at init:", " ".join(f"{s:.2f}" for s in scales))

    epochs = 8
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        perm = torch.randperm(len(X_tr))
        total = 0.0
        for i in range(0, len(X_tr), 64):
            idx = perm[i:i + 64]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        scheduler.step()
        with torch.no_grad():
            acc = (model(X_te).argmax(1) == y_te).float().mean().item()
        print(f"epoch {epoch + 1}  train loss {total / len(X_tr):.4f}  test acc {acc:.3f}")


if __name__ == "__main__":
    main()
