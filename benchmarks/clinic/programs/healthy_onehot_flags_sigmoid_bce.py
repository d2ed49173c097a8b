"""Loan-default model on one-hot categorical and 0/1 flag features; sigmoid output with nn.BCELoss.

expect: healthy
trap: the inputs are one-hot blocks and binary flags (column means from 0.03 to 0.9, not centred, rare columns all-zero in many batches) next to two standardised numeric columns -- not unnormalised data; the loss flattens at the label-noise floor after 3 epochs (converged, not stuck); the model ends in nn.Sigmoid() and the loss is nn.BCELoss on those probabilities (the correct pairing); output and target are both shape (N, 1)
"""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
rng = np.random.default_rng(0)

N_OCC, N_REGION = 12, 6


def make_applicants(n):
    occ = rng.integers(0, N_OCC, n)
    region = rng.choice(N_REGION, n, p=[0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
    has_car = rng.random(n) < 0.9
    prior_default = rng.random(n) < 0.03
    self_employed = rng.random(n) < 0.15
    income = rng.normal(0, 1, n)                       # already z-scored by the upstream pipeline
    debt_ratio = rng.normal(0, 1, n)
    occ_risk = np.linspace(-1, 1, N_OCC)[occ]
    region_risk = np.array([0.0, 0.3, -0.2, 0.8, -0.5, 1.0])[region]
    logit = (-1.0 + occ_risk + region_risk + 2.5 * prior_default + 0.6 * self_employed
             - 0.4 * has_car - 0.8 * income + 0.9 * debt_ratio)
    default = rng.random(n) < 1 / (1 + np.exp(-logit))
    p_true = 1 / (1 + np.exp(-logit))
    X = np.concatenate([np.eye(N_OCC)[occ], np.eye(N_REGION)[region],
                        np.stack([has_car, prior_default, self_employed], 1),
                        np.stack([income, debt_ratio], 1)], axis=1)
    bayes = -np.mean(default * np.log(p_true) + (1 - default) * np.log(1 - p_true))
    return (torch.tensor(X, dtype=torch.float32), torch.tensor(default, dtype=torch.float32).unsqueeze(1), bayes)


X_train, y_train, _ = make_applicants(4000)
X_test, y_test, bayes_loss = make_applicants(1000)
print(f"{X_train.shape[1]} input columns, column means range "
      f"{X_train.mean(0).min():.3f}..{X_train.mean(0).max():.3f}, default rate {y_train.mean():.3f}")

model = nn.Sequential(nn.Linear(X_train.shape[1], 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(8):
    perm = torch.randperm(len(X_train))
    total = 0.0
    for i in range(0, len(X_train), 100):
        idx = perm[i:i + 100]
        prob = model(X_train[idx])
        loss = criterion(prob, y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    with torch.no_grad():
        p = model(X_test)
        test_loss = criterion(p, y_test).item()
        acc = ((p > 0.5).float() == y_test).float().mean().item()
    print(f"epoch {epoch}  train loss {total / len(X_train):.4f}  test loss {test_loss:.4f}  test acc {acc:.3f}")

base = y_test.mean().item()
print(f"reference: base-rate log-loss {-(base * np.log(base) + (1 - base) * np.log(1 - base)):.4f}, "
      f"log-loss of the true probabilities {bayes_loss:.4f}")
