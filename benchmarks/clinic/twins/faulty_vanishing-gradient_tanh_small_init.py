"""Healthy twin of faulty_vanishing-gradient_tanh_small_init.py: Xavier init (nn.init.xavier_uniform_, gain 5/3 for tanh).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)


class DeepTanhNet(nn.Module):
    def __init__(self, n_in, width=32, depth=8):
        super().__init__()
        dims = [n_in] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(width, 1)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, gain=5 / 3)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.tanh(layer(x))
        return self.out(x).squeeze(-1)


def main():
    data = load_breast_cancer()
    X = torch.tensor(data.data, dtype=torch.float32)
    X = (X - X.mean(0)) / X.std(0)
    y = torch.tensor(data.target, dtype=torch.float32)

    model = DeepTanhNet(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()

    for epoch in range(20):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 50):
            idx = perm[i:i + 50]
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
        if epoch % 5 == 4:
            with torch.no_grad():
                acc = ((model(X) > 0).float() == y).float().mean().item()
            print(f"epoch {epoch + 1}: loss {loss.item():.4f} acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC train_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
