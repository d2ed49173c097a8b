"""Healthy twin of faulty_dead-relu_resnet_lr_on_plain_mlp.py: lr=0.02.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

CONFIG = {"hidden": 128, "lr": 0.02, "momentum": 0.9, "batch_size": 64, "epochs": 20}


def make_data(n=2000, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 8, generator=g)
    y = (torch.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + X[:, 3].abs() - 0.5 * X[:, 4] ** 2
         + 0.1 * torch.randn(n, generator=g))
    y = (y - y.mean()) / y.std()
    return X[:1500], y[:1500], X[1500:], y[1500:]


class MLP(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.relu2 = nn.ReLU()
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.relu2(self.fc2(self.relu1(self.fc1(x))))).squeeze(-1)


class Trainer:
    def __init__(self, model, cfg):
        self.model = model
        self.cfg = cfg
        self.opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
        self.loss_fn = nn.MSELoss()

    def fit(self, X, y, X_val, y_val):
        bs = self.cfg["batch_size"]
        for epoch in range(self.cfg["epochs"]):
            self.model.train()
            perm = torch.randperm(len(X))
            running = 0.0
            for i in range(0, len(X), bs):
                idx = perm[i:i + bs]
                self.opt.zero_grad()
                loss = self.loss_fn(self.model(X[idx]), y[idx])
                loss.backward()
                self.opt.step()
                running += loss.item() * len(idx)
            if epoch % 4 == 3:
                print(f"epoch {epoch + 1:2d}  train MSE {running / len(X):.4f}  val MSE {self.evaluate(X_val, y_val):.4f}")

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        return self.loss_fn(self.model(X), y).item()


X_train, y_train, X_val, y_val = make_data()
trainer = Trainer(MLP(X_train.shape[1], CONFIG["hidden"]), CONFIG)
trainer.fit(X_train, y_train, X_val, y_val)
print(f"final val MSE: {trainer.evaluate(X_val, y_val):.4f}")
print(f"NNDOCTOR_METRIC val_mse={trainer.evaluate(X_val, y_val):.4f} lower")
