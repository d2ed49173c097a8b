"""Healthy twin of faulty_poor-initialization_deep_mlp_gpt_std.py: kaiming_normal_.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)


class DeepMLP(nn.Module):
    def __init__(self, n_in=64, width=128, depth=10, n_classes=10):
        super().__init__()
        layers = []
        for i in range(depth):
            layers += [nn.Linear(n_in if i == 0 else width, width), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, n_classes)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)

    def forward(self, x):
        return self.classifier(self.features(x))


def load_data():
    digits = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(
        digits.data, digits.target, test_size=0.3, random_state=1, stratify=digits.target)
    mean, std = X_tr.mean(0), X_tr.std(0) + 1e-8
    to_t = lambda a: torch.tensor((a - mean) / std, dtype=torch.float32)
    return to_t(X_tr), torch.tensor(y_tr), to_t(X_te), torch.tensor(y_te)


def main():
    X_tr, y_tr, X_te, y_te = load_data()
    model = DeepMLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    for epoch in range(8):
        model.train()
        perm = torch.randperm(len(X_tr))
        for i in range(0, len(X_tr), 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            acc = (model(X_te).argmax(1) == y_te).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test acc {acc:.3f}")
        print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
