"""Healthy twin of faulty_vanishing-gradient_sigmoid_regressor.py: ReLU activations.
"""
from collections import OrderedDict

import torch
from torch import nn
from sklearn.datasets import load_wine

torch.manual_seed(0)


def build_model(n_in, width=48, depth=10):
    blocks = OrderedDict()
    d = n_in
    for i in range(depth):
        linear = nn.Linear(d, width)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        blocks[f"fc{i}"] = linear
        blocks[f"act{i}"] = nn.ReLU()
        d = width
    blocks["head"] = nn.Linear(d, 1)
    return nn.Sequential(blocks)


wine = load_wine()
features = torch.tensor(wine.data[:, 1:], dtype=torch.float32)   # everything but alcohol
target = torch.tensor(wine.data[:, 0], dtype=torch.float32).unsqueeze(1)
features = (features - features.mean(0)) / features.std(0)
target = (target - target.mean()) / target.std()

model = build_model(features.shape[1])
opt = torch.optim.SGD(model.parameters(), lr=0.05)

for epoch in range(40):
    perm = torch.randperm(len(features))
    for i in range(0, len(features), 32):
        idx = perm[i:i + 32]
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(features[idx]), target[idx])
        loss.backward()
        opt.step()
    if epoch % 10 == 9:
        with torch.no_grad():
            full = nn.functional.mse_loss(model(features), target).item()
        print(f"epoch {epoch + 1}: train mse {full:.3f} (variance of target: 1.0)")
        print(f"NNDOCTOR_METRIC train_mse={full:.4f} lower")
