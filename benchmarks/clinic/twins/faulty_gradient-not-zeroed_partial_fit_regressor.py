"""sklearn-style online regressor with partial_fit() performing one Adam step per mini-batch.
expect: healthy
trap: the network, scaler statistics and optimizer are created lazily inside partial_fit (sklearn's incremental-learning pattern) while fit() also initializes them up front; zero_grad/backward/step live in partial_fit, one of each per call, not in the epoch loop in fit(), which is correct and needs no zero_grad of its own.

`OnlineMLPRegressor` follows the sklearn incremental-learning API: partial_fit(X_batch, y_batch) lazily builds
the network, scaler statistics and optimizer on its first call, then zeroes the gradients and performs one
optimizer step per call; fit() initializes from the full training set and streams shuffled mini-batches
through partial_fit (the fix: the faulty version had zero_grad() inside the lazy-init branch, so gradients
accumulated). Data: make_friedman3 (4 features with very different raw ranges, standardized inside the
estimator; target standardized), a 2x32 ELU MLP with Adam. When run (25 epochs x 36 batches = 900 steps):
val MSE fell from 0.40 to 0.043 (R^2 0.958), tracking the train MSE.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_friedman3
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


class OnlineMLPRegressor(BaseEstimator, RegressorMixin):
    def __init__(self, hidden=32, lr=3e-3, weight_decay=1e-4, batch_size=64, epochs=25, random_state=0):
        self.hidden = hidden
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.random_state = random_state

    def _initialize(self, X, y):
        self.x_mean_, self.x_std_ = X.mean(0), X.std(0) + 1e-8
        self.y_mean_, self.y_std_ = y.mean(), y.std()
        self.model_ = nn.Sequential(nn.Linear(X.shape[1], self.hidden), nn.ELU(),
                                    nn.Linear(self.hidden, self.hidden), nn.ELU(),
                                    nn.Linear(self.hidden, 1))
        self.optimizer_ = torch.optim.Adam(self.model_.parameters(), lr=self.lr,
                                           weight_decay=self.weight_decay)
        self.n_updates_ = 0

    def _tensors(self, X, y=None):
        Xt = torch.tensor((X - self.x_mean_) / self.x_std_, dtype=torch.float32)
        if y is None:
            return Xt
        return Xt, torch.tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32)

    def partial_fit(self, X, y):
        if not hasattr(self, "model_"):
            self._initialize(X, y)
        self.optimizer_.zero_grad()
        Xt, yt = self._tensors(X, y)
        self.model_.train()
        loss = nn.functional.mse_loss(self.model_(Xt).squeeze(-1), yt)
        loss.backward()
        self.optimizer_.step()
        self.n_updates_ += 1
        return loss.item()

    def fit(self, X, y, X_val=None, y_val=None):
        if hasattr(self, "model_"):
            del self.model_
        self._initialize(X, y)  # scaler statistics from the full training set
        rng = np.random.default_rng(self.random_state)
        for epoch in range(self.epochs):
            perm = rng.permutation(len(X))
            losses = [self.partial_fit(X[perm[i:i + self.batch_size]], y[perm[i:i + self.batch_size]])
                      for i in range(0, len(X), self.batch_size)]
            if epoch % 4 == 0 or epoch == self.epochs - 1:
                msg = f"epoch {epoch:2d} train MSE {np.mean(losses):.4f}"
                if X_val is not None:
                    msg += f" val MSE {self.val_mse(X_val, y_val):.4f}"
                print(msg)
        return self

    def predict(self, X):
        self.model_.eval()
        with torch.no_grad():
            return self.model_(self._tensors(X)).squeeze(-1).numpy() * self.y_std_ + self.y_mean_

    def val_mse(self, X, y):
        return float(np.mean(((self.predict(X) - y) / self.y_std_) ** 2))


if __name__ == "__main__":
    X, y = make_friedman3(n_samples=3000, noise=0.05, random_state=0)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, random_state=0)
    reg = OnlineMLPRegressor().fit(X_tr, y_tr, X_va, y_va)
    mse = reg.val_mse(X_va, y_va)
    print(f"{reg.n_updates_} updates; val MSE (standardized) {mse:.4f}, R2 {reg.score(X_va, y_va):.4f}")
    print(f"NNDOCTOR_METRIC val_mse={mse:.4f} lower")
