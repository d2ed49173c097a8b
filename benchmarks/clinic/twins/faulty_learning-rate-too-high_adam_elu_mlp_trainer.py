"""Healthy twin of faulty_learning-rate-too-high_adam_elu_mlp_trainer.py: Adam lr=1e-3.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

CONFIG = {
    "hidden": [256, 128],
    "lr": 1e-3,
    "batch_size": 64,
    "steps": 400,
    "log_every": 50,
    "seed": 0,
}


class Trainer:
    def __init__(self, model, config):
        self.model = model
        self.config = config
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
        self.criterion = nn.CrossEntropyLoss()
        self.history = []

    def train_step(self, xb, yb):
        self.model.train()
        loss = self.criterion(self.model(xb), yb)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.history.append(loss.item())
        return loss.item()

    @torch.no_grad()
    def evaluate(self, X, y):
        self.model.eval()
        return (self.model(X).argmax(1) == y).float().mean().item()

    def fit(self, X, y, X_val, y_val):
        cfg = self.config
        for step in range(cfg["steps"]):
            idx = torch.randint(0, len(X), (cfg["batch_size"],))
            self.train_step(X[idx], y[idx])
            if (step + 1) % cfg["log_every"] == 0:
                recent = self.history[-cfg["log_every"]:]
                print(f"step {step + 1:3d}  loss mean {sum(recent) / len(recent):.3f}"
                      f"  max {max(recent):.2f}  val acc {self.evaluate(X_val, y_val):.3f}")


def build_mlp(n_in, hidden, n_out):
    layers, prev = [], n_in
    for h in hidden:
        layers += [nn.Linear(prev, h), nn.ELU()]
        prev = h
    layers.append(nn.Linear(prev, n_out))
    return nn.Sequential(*layers)


def main():
    torch.manual_seed(CONFIG["seed"])
    digits = load_digits()
    X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    X = (X - X.mean(0)) / (X.std(0) + 1e-3)
    y = torch.tensor(digits.target)
    X_train, y_train, X_val, y_val = X[:1400], y[:1400], X[1400:], y[1400:]

    model = build_mlp(64, CONFIG["hidden"], 10)
    trainer = Trainer(model, CONFIG)
    trainer.fit(X_train, y_train, X_val, y_val)
    print(f"final val accuracy: {trainer.evaluate(X_val, y_val):.3f}")
    print(f"NNDOCTOR_METRIC val_acc={trainer.evaluate(X_val, y_val):.4f} higher")


if __name__ == "__main__":
    main()
