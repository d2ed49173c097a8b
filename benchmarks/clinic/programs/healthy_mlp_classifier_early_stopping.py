"""sklearn-style MLPClassifier wrapper (fit/predict/predict_proba/score) with validation-based early stopping on digits.
expect: healthy
trap: train loss goes to ~0.004 while val loss flattens at ~0.07 (a large train/val gap) and the last epochs make no validation progress; val loss never actually rises, early stopping ends the run and restores the best checkpoint, so this is not overfitting.

`TorchMLPClassifier` mirrors sklearn's MLPClassifier API (hidden_layer_sizes, alpha as L2, batch_size,
learning_rate_init, early_stopping with validation_fraction / n_iter_no_change / tol) around a small ReLU MLP
trained with Adam. Inputs go through a StandardScaler fitted on the training split only. Features are the 8x8
load_digits images. When run, early stopping triggered after 40 epochs (~720 Adam steps), the best checkpoint
was restored, and held-out test accuracy was 0.978 (0.95+ is good for this dataset with an MLP).
"""
import copy

import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


class TorchMLPClassifier(BaseEstimator, ClassifierMixin):
    def __init__(self, hidden_layer_sizes=(128, 64), alpha=1e-4, batch_size=64,
                 learning_rate_init=1e-3, max_iter=200, early_stopping=True,
                 validation_fraction=0.15, n_iter_no_change=5, tol=1e-3,
                 random_state=0, verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def _build(self, n_in, n_out):
        layers, prev = [], n_in
        for h in self.hidden_layer_sizes:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        layers.append(nn.Linear(prev, n_out))
        return nn.Sequential(*layers)

    def fit(self, X, y):
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.early_stopping:
            X_tr, X_va, y_tr, y_va = train_test_split(
                X, y_idx, test_size=self.validation_fraction,
                stratify=y_idx, random_state=self.random_state)
        else:
            X_tr, y_tr, X_va, y_va = X, y_idx, None, None

        self.scaler_ = StandardScaler().fit(X_tr)
        Xt = torch.tensor(self.scaler_.transform(X_tr), dtype=torch.float32)
        yt = torch.tensor(y_tr, dtype=torch.long)
        if X_va is not None:
            Xv = torch.tensor(self.scaler_.transform(X_va), dtype=torch.float32)
            yv = torch.tensor(y_va, dtype=torch.long)

        self.model_ = self._build(X.shape[1], len(self.classes_))
        opt = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate_init,
                               weight_decay=self.alpha)
        loss_fn = nn.CrossEntropyLoss()

        best_loss, best_state, bad_epochs = np.inf, None, 0
        self.loss_curve_, self.validation_scores_ = [], []
        g = torch.Generator().manual_seed(self.random_state)
        n = len(Xt)
        for epoch in range(self.max_iter):
            self.model_.train()
            perm = torch.randperm(n, generator=g)
            running = 0.0
            for i in range(0, n, self.batch_size):
                idx = perm[i:i + self.batch_size]
                opt.zero_grad()
                loss = loss_fn(self.model_(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                running += loss.item() * len(idx)
            self.loss_curve_.append(running / n)

            if X_va is None:
                continue
            self.model_.eval()
            with torch.no_grad():
                logits = self.model_(Xv)
                vloss = loss_fn(logits, yv).item()
                vacc = (logits.argmax(1) == yv).float().mean().item()
            self.validation_scores_.append(vacc)
            if self.verbose and epoch % 5 == 0:
                print(f"epoch {epoch:3d} train {self.loss_curve_[-1]:.4f} val {vloss:.4f} acc {vacc:.3f}")
            if vloss < best_loss - self.tol:
                best_loss, bad_epochs = vloss, 0
                best_state = copy.deepcopy(self.model_.state_dict())
            else:
                bad_epochs += 1
                if bad_epochs >= self.n_iter_no_change:
                    break
        self.n_iter_ = epoch + 1
        if best_state is not None:
            self.model_.load_state_dict(best_state)
        return self

    def predict_proba(self, X):
        self.model_.eval()
        with torch.no_grad():
            Xt = torch.tensor(self.scaler_.transform(X), dtype=torch.float32)
            return torch.softmax(self.model_(Xt), dim=1).numpy()

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


if __name__ == "__main__":
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    clf = TorchMLPClassifier(verbose=True).fit(X_train, y_train)
    acc = clf.score(X_test, y_test)
    print(f"stopped after {clf.n_iter_} epochs; test accuracy {acc:.4f}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")
