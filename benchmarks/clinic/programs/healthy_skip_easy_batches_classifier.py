"""sklearn-style binary classifier whose fit loop skips the update for batches that are already fitted (loss below a threshold).
expect: healthy
trap: late in training most iterations do a forward pass and then `continue` without backward/step, so the parameters are unchanged across long stretches of iterations and the per-iteration loss is flat and tiny; updates resume whenever a hard batch appears. This is deliberate "skip easy batches" compute saving on a fitted model, not a missing optimizer.step() or a too-low learning rate.

`SkipEasyMLPClassifier` (fit / predict_proba / predict / score) on load_breast_cancer: StandardScaler on the
training split, a 30-32-16-1 ReLU MLP with BCEWithLogitsLoss, Adam, batch 32, 60 epochs (900 iterations).
A batch whose loss is below `skip_below=0.03` is treated as already learned: no backward pass, no optimizer
step (a pattern used to save compute, akin to selective backprop). The loop records how many iterations
were skipped per epoch. When run, no batch was skipped at first, 9-12 of 15 per epoch after epoch 20,
460/900 iterations overall (51%), and the held-out accuracy was 0.965 (0.95-0.98 is typical here).
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


class SkipEasyMLPClassifier(BaseEstimator, ClassifierMixin):
    def __init__(self, hidden=(32, 16), lr=1e-3, epochs=60, batch_size=32, skip_below=0.03, random_state=0):
        self.hidden = hidden
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.skip_below = skip_below
        self.random_state = random_state

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.scaler_ = StandardScaler().fit(X)
        Xt = torch.tensor(self.scaler_.transform(X), dtype=torch.float32)
        yt = torch.tensor(y == self.classes_[1], dtype=torch.float32)
        layers, prev = [], X.shape[1]
        for h in self.hidden:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        layers.append(nn.Linear(prev, 1))
        self.model_ = nn.Sequential(*layers)
        opt = torch.optim.Adam(self.model_.parameters(), lr=self.lr)
        loss_fn = nn.BCEWithLogitsLoss()
        g = torch.Generator().manual_seed(self.random_state)
        self.n_skipped_, self.n_updates_ = 0, 0
        for epoch in range(self.epochs):
            self.model_.train()
            perm = torch.randperm(len(Xt), generator=g)
            skipped, losses = 0, []
            for i in range(0, len(Xt), self.batch_size):
                idx = perm[i:i + self.batch_size]
                logits = self.model_(Xt[idx]).squeeze(-1)
                loss = loss_fn(logits, yt[idx])
                losses.append(loss.item())
                if loss.item() < self.skip_below:
                    skipped += 1          # batch already fitted: save the backward pass
                    continue
                opt.zero_grad()
                loss.backward()
                opt.step()
                self.n_updates_ += 1
            self.n_skipped_ += skipped
            if epoch % 10 == 0 or epoch == self.epochs - 1:
                n_b = len(losses)
                print(f"epoch {epoch:2d} mean batch loss {np.mean(losses):.4f} skipped {skipped}/{n_b}")
        return self

    def predict_proba(self, X):
        self.model_.eval()
        with torch.no_grad():
            p = torch.sigmoid(self.model_(torch.tensor(self.scaler_.transform(X), dtype=torch.float32)))
        p = p.squeeze(-1).numpy()
        return np.stack([1 - p, p], axis=1)

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


if __name__ == "__main__":
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    clf = SkipEasyMLPClassifier().fit(X_tr, y_tr)
    total = clf.n_skipped_ + clf.n_updates_
    print(f"optimizer steps {clf.n_updates_}/{total}, skipped {clf.n_skipped_} ({clf.n_skipped_ / total:.0%})")
    acc = clf.score(X_va, y_va)
    print(f"held-out accuracy {acc:.4f}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")
