"""Heteroscedastic mixture density network with dropout on the diabetes data; bug: validate() leaves the model in eval mode.
expect: train-mode-off
allow: overfitting

model.train() is called once before the loop; validate() switches to model.eval() every 50 steps
and nothing switches back. From the first validation on, dropout is off for the rest of training,
so a 2x128 MDN fits 300 patients with no regularization: the component sigmas shrink onto training
points, train NLL keeps falling and held-out NLL climbs. Fix: call model.train() at the start of
each training step (or at the end of validate()).
Measured: faulty test_nll=9.1991 vs fixed test_nll=1.1202 (seed 1: 7.28 vs 1.08, seed 2: 25.41 vs 1.16)
"""
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_diabetes(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=SEED)
X_tr, X_va, y_tr, y_va = train_test_split(X_tr, y_tr, test_size=0.15, random_state=SEED)
xs = StandardScaler().fit(X_tr)
y_mu, y_sd = y_tr.mean(), y_tr.std()


def tens(a, b):
    return (torch.tensor(xs.transform(a), dtype=torch.float32),
            torch.tensor((b - y_mu) / y_sd, dtype=torch.float32).unsqueeze(1))


X_tr, y_tr = tens(X_tr, y_tr)
X_va, y_va = tens(X_va, y_va)
X_te, y_te = tens(X_te, y_te)


class MDN(nn.Module):
    def __init__(self, k=3, h=128, p_drop=0.5):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, h), nn.ReLU(), nn.Dropout(p_drop),
                                 nn.Linear(h, h), nn.ReLU(), nn.Dropout(p_drop))
        self.out = nn.Linear(h, 3 * k)

    def forward(self, x):
        logit, mu, log_sigma = self.out(self.net(x)).chunk(3, -1)
        return F.log_softmax(logit, -1), mu, log_sigma.clamp(-6, 3)


def nll(model, x, y):
    log_pi, mu, log_sigma = model(x)
    log_n = -0.5 * ((y - mu) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(log_pi + log_n, -1).mean()


@torch.no_grad()
def validate(model):
    model.eval()
    return nll(model, X_va, y_va).item()


model = MDN()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

for step in range(600):
    model.train()
    idx = torch.randint(0, len(X_tr), (64,))
    loss = nll(model, X_tr[idx], y_tr[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        val = validate(model)
        if step % 100 == 0:
            print(f"step {step:4d} train nll {loss.item():+.4f} val nll {val:+.4f}")

model.eval()
with torch.no_grad():
    test_nll = nll(model, X_te, y_te).item()
print(f"NNDOCTOR_METRIC test_nll={test_nll:.4f} lower")
