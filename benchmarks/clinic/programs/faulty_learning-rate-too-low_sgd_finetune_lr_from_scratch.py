"""Breast-cancer MLP trained from scratch with SGD at lr=1e-5, a value copied from a fine-tuning recipe.

expect: learning-rate-too-low
allow: loss-not-decreasing

lr=1e-5 is a fine-tuning learning rate for Adam on a pretrained transformer; here it drives
plain SGD (momentum 0.9) on a freshly initialised 3-layer MLP with standardized inputs. The
updates are ~1e-6 of the weights per step, so over 400 steps the full-data loss creeps down
almost linearly from 0.6910 (step 50) to 0.6886 -- it barely leaves ln 2 -- and the model still
predicts (almost) the majority class.
Fixed (lr=1e-2, same 400 steps): loss 0.040, acc 0.989; here loss 0.689, acc 0.626.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer

torch.manual_seed(0)


def load_data():
    data = load_breast_cancer()
    X = torch.tensor(data.data, dtype=torch.float32)
    X = (X - X.mean(0)) / X.std(0)
    y = torch.tensor(data.target, dtype=torch.float32)
    return X, y


def make_model(n_features):
    return nn.Sequential(
        nn.Linear(n_features, 64), nn.ReLU(),
        nn.Linear(64, 32), nn.ReLU(),
        nn.Linear(32, 1),
    )


def evaluate(model, X, y, loss_fn):
    with torch.no_grad():
        logits = model(X).squeeze(-1)
        return loss_fn(logits, y).item(), ((logits > 0).float() == y).float().mean().item()


def train(model, X, y, lr=1e-5, steps=400, batch_size=32):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(X), (batch_size,))
        loss = loss_fn(model(X[idx]).squeeze(-1), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            full_loss, acc = evaluate(model, X, y, loss_fn)
            print(f"step {step:3d}  loss {full_loss:.4f}  acc {acc:.3f}")
    return evaluate(model, X, y, loss_fn)


if __name__ == "__main__":
    X, y = load_data()
    model = make_model(X.shape[1])
    final_loss, final_acc = train(model, X, y)
    print(f"done: loss {final_loss:.4f}  accuracy {final_acc:.3f}")
    print(f"NNDOCTOR_METRIC accuracy={final_acc:.4f} higher")
