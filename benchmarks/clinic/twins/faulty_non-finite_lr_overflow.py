"""Healthy twin of faulty_non-finite_lr_overflow.py: lr=1e-5, under the stability limit (~1.4e-5).
"""
import torch
from sklearn.datasets import load_diabetes

torch.manual_seed(0)


def load():
    d = load_diabetes(scaled=False)
    X = torch.tensor(d.data, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.float32).view(-1, 1)
    return X, y


def train(X, y, lr=1e-5, epochs=20, batch_size=64):
    model = torch.nn.Linear(X.shape[1], 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), batch_size):
            idx = perm[i:i + batch_size]
            pred = model(X[idx])
            loss = torch.nn.functional.mse_loss(pred, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 4 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:2d}  loss {loss.item():.4g}")
    return model


if __name__ == "__main__":
    X, y = load()
    model = train(X, y)
    print("weights:", model.weight.data.view(-1)[:4].tolist())
    print(f"NNDOCTOR_METRIC mse={torch.nn.functional.mse_loss(model(X), y).item():.4f} lower")
