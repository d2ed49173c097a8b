"""sklearn-style sequence regressor for IMU dead reckoning built on a plain ReLU RNN trained with SGD and no clipping.
expect: exploding-gradient
allow: learning-rate-too-high, loss-not-decreasing

`DeadReckoningRNN` (fit / predict / score) reads a window of noisy velocity readings from a wheel/IMU sensor
(a smooth AR(1) velocity plus white measurement noise, 40 samples at dt = 0.1 s) and regresses the distance
travelled over the window (the integral of the true velocity, standardized). Integration needs the
recurrent map to sit near the identity, and the author picked `nn.RNN(nonlinearity="relu")` on the belief
that ReLU "avoids vanishing gradients", with SGD + momentum and no clipping. An unbounded ReLU recurrence
whose recurrent weights are pushed toward spectral radius >= 1 is where backprop-through-time gradients
blow up: the global grad norm has a median of 0.68 but spikes to 39.7 (step 82, ~60x), 21.6 (twice) and
9.6; each spike throws the weights and knocks the loss back up (val MSE 0.52 -> 0.83), and the recurrent
matrix ends with spectral radius 2.3. When run (300 steps): val MSE 0.537 (the mean predictor gives ~1.0),
vs the twin (nn.GRU instead of the ReLU nn.RNN, the only change) at val MSE 0.016 with grad norm never
above 5.7.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, RegressorMixin

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)

SEQ_LEN, DT = 40, 0.1


def simulate_trips(n, rng):
    v = np.zeros((n, SEQ_LEN))
    a = 0.5 * rng.normal(size=n)
    for t in range(SEQ_LEN):
        a = 0.95 * a + 0.3 * rng.normal(size=n)
        v[:, t] = a
    readings = v + 0.1 * rng.normal(size=v.shape)   # sensor noise
    distance = v.sum(1) * DT                       # ground-truth displacement
    return readings, distance


class DeadReckoningRNN(BaseEstimator, RegressorMixin):
    def __init__(self, hidden=32, lr=0.01, momentum=0.9, n_steps=300, batch_size=64, random_state=0):
        self.hidden = hidden
        self.lr = lr
        self.momentum = momentum
        self.n_steps = n_steps
        self.batch_size = batch_size
        self.random_state = random_state

    def _build(self):
        self.rnn_ = nn.RNN(1, self.hidden, batch_first=True, nonlinearity="relu")
        self.head_ = nn.Linear(self.hidden, 1)
        return nn.ModuleList([self.rnn_, self.head_])

    def _forward(self, x):
        out, _ = self.rnn_(x)
        return self.head_(out[:, -1]).squeeze(-1)

    def fit(self, X, y, X_val=None, y_val=None):
        self.y_scale_ = y.std()
        Xt = torch.tensor(X, dtype=torch.float32).unsqueeze(-1)
        yt = torch.tensor(y / self.y_scale_, dtype=torch.float32)
        self.modules_ = self._build()
        opt = torch.optim.SGD(self.modules_.parameters(), lr=self.lr, momentum=self.momentum)
        g = torch.Generator().manual_seed(self.random_state)
        self.grad_norms_ = []
        for step in range(self.n_steps):
            self.modules_.train()
            idx = torch.randint(0, len(Xt), (self.batch_size,), generator=g)
            opt.zero_grad()
            loss = nn.functional.mse_loss(self._forward(Xt[idx]), yt[idx])
            loss.backward()
            gn = torch.sqrt(sum(p.grad.pow(2).sum() for p in self.modules_.parameters())).item()
            self.grad_norms_.append(gn)
            opt.step()
            if X_val is not None and (step % 30 == 0 or step == self.n_steps - 1):
                print(f"step {step:3d} loss {loss.item():.4f} grad norm {gn:9.3g} "
                      f"(max last 30: {max(self.grad_norms_[-30:]):9.3g}) val MSE {self.val_mse(X_val, y_val):.4f}")
        return self

    def predict(self, X):
        self.modules_.eval()
        with torch.no_grad():
            return self._forward(torch.tensor(X, dtype=torch.float32).unsqueeze(-1)).numpy() * self.y_scale_

    def val_mse(self, X, y):
        return float(np.mean(((self.predict(X) - y) / self.y_scale_) ** 2))


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X_tr, y_tr = simulate_trips(4000, rng)
    X_va, y_va = simulate_trips(500, rng)
    reg = DeadReckoningRNN().fit(X_tr, y_tr, X_va, y_va)
    mse = reg.val_mse(X_va, y_va)
    print(f"validation MSE (in units of the target variance) {mse:.4f}")
    print(f"NNDOCTOR_METRIC val_mse={mse:.4f} lower")
