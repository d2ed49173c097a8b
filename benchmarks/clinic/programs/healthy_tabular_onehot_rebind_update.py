"""ReLU net on seeded synthetic tabular data (standardized numeric + one-hot categorical columns) with a manual update that rebinds each weight to a fresh leaf.
expect: healthy
trap: update written as W = (W - lr*W.grad).detach().requires_grad_() so every step creates new leaf tensors (no zero_grad needed, no optimizer at all); one-hot input columns with means far from 0 and std < 0.5; hand-written sigmoid BCE using the log-sigmoid form; numpy <-> torch conversions for metrics

The first version used W = W - lr * W.grad, which turns W into a non-leaf and fails on the next step
(W.grad is None). The working fix used here detaches the result and marks it requires_grad again: each
weight is a brand new leaf tensor after every step, with .grad None until the next backward, so
gradients cannot accumulate and there is nothing to zero. The inputs mix standardized numeric features
with one-hot encoded categories (0/1 columns, means 0.19..0.27): they are correctly scaled, not raw. The
binary loss is written by hand but in the stable form -(y*logsigmoid(z) + (1-y)*logsigmoid(-z)).
Measured: val_acc=0.8500   (Bayes-optimal 0.857, logistic regression 0.856; seeds 1, 2: 0.8320, 0.8140 on other draws)
"""
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

# ---- make a fake tabular data set ----
n = 2000
age = np.random.normal(40, 12, n)
income = np.random.lognormal(10, 0.5, n)
hours = np.random.normal(38, 8, n)
city = np.random.randint(0, 5, n)
plan = np.random.randint(0, 4, n)

city_effect = np.array([0.8, -0.5, 0.0, 1.2, -1.0])
plan_effect = np.array([-1.0, 0.3, 0.6, 1.5])
z = (0.06 * (age - 40) + 1.5 * (np.log(income) - 10) - 0.002 * (hours - 38) ** 2
     + city_effect[city] + plan_effect[plan] + 0.04 * (age - 40) * (plan == 3))
prob = 1 / (1 + np.exp(-2 * z))
label = (np.random.rand(n) < prob).astype(np.float32)

numeric = np.stack([age, np.log(income), hours], axis=1)
city_onehot = np.eye(5)[city]
plan_onehot = np.eye(4)[plan]

n_train = 1500
mu = numeric[:n_train].mean(axis=0)
sd = numeric[:n_train].std(axis=0)
numeric = (numeric - mu) / sd

X = np.concatenate([numeric, city_onehot, plan_onehot], axis=1)
print("feature means:", X[:n_train].mean(axis=0).round(2))

X_train = torch.Tensor(X[:n_train])
y_train = torch.Tensor(label[:n_train]).reshape(-1, 1)
X_val = torch.Tensor(X[n_train:])
y_val = label[n_train:]

# ---- model ----
W1 = torch.randn(12, 32) * np.sqrt(2 / 12)
W1.requires_grad_()
b1 = torch.zeros(32, requires_grad=True)
W2 = torch.randn(32, 1) * np.sqrt(1 / 32)
W2.requires_grad_()
b2 = torch.zeros(1, requires_grad=True)

lr = 0.1
batch = 50

for epoch in range(20):
    perm = np.random.permutation(n_train)
    for i in range(0, n_train, batch):
        idx = perm[i:i + batch]
        xb = X_train[idx]
        yb = y_train[idx]

        h = F.relu(xb @ W1 + b1)
        logit = h @ W2 + b2
        loss = -(yb * F.logsigmoid(logit) + (1 - yb) * F.logsigmoid(-logit)).mean()
        loss.backward()

        W1 = (W1 - lr * W1.grad).detach().requires_grad_()
        b1 = (b1 - lr * b1.grad).detach().requires_grad_()
        W2 = (W2 - lr * W2.grad).detach().requires_grad_()
        b2 = (b2 - lr * b2.grad).detach().requires_grad_()

    if epoch % 4 == 0:
        logit_val = (F.relu(X_val @ W1 + b1) @ W2 + b2).detach().numpy()[:, 0]
        acc = ((logit_val > 0) == (y_val > 0.5)).mean()
        print("epoch", epoch, "last batch loss", round(loss.item(), 4), "val acc", round(acc, 4))

logit_val = (F.relu(X_val @ W1 + b1) @ W2 + b2).detach().numpy()[:, 0]
val_acc = float(((logit_val > 0) == (y_val > 0.5)).mean())
print("val acc", val_acc)
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
