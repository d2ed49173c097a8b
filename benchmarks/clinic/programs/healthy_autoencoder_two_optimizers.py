"""sklearn-style TorchAutoencoder transformer (fit/transform/inverse_transform) with separate optimizers for encoder and decoder.
expect: healthy
trap: no single optimizer holds all trainable parameters (enc_opt has only the encoder, dec_opt only the decoder, with different learning rates and weight decay), and the encoder's gradient arrives only through the decoder; both optimizers are zeroed and stepped every batch, so nothing is unoptimized and no gradient accumulates. The output sigmoid sits in its tail (<0.01) for ~30% of pixel outputs: those are the always-blank border pixels whose target is exactly 0, which is the correct fit, not harmful saturation.

`TorchAutoencoder(n_components=8)` compresses the 64-pixel load_digits images (scaled from 0..16 to [0, 1])
to an 8-d code with ELU hidden layers and a sigmoid output. Encoder and decoder are separate nn.Modules
with their own Adam optimizers (a common choice when the decoder is meant to adapt faster, or will be
swapped later); each step zeroes both, backpropagates once, and steps both. transform() returns codes, inverse_transform() reconstructions, score() the negative
reconstruction MSE. 30 epochs x 23 batches = 690 steps. When run, the held-out reconstruction MSE was 0.017
per pixel vs 0.025 for PCA with the same 8 components (and 0.074 for predicting the mean image), i.e. the
nonlinear AE clearly beats PCA.
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


class TorchAutoencoder(BaseEstimator, TransformerMixin):
    def __init__(self, n_components=8, hidden=128, enc_lr=1e-3, dec_lr=2e-3, dec_weight_decay=1e-5,
                 epochs=30, batch_size=64, random_state=0):
        self.n_components = n_components
        self.hidden = hidden
        self.enc_lr = enc_lr
        self.dec_lr = dec_lr
        self.dec_weight_decay = dec_weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state

    def fit(self, X, y=None):
        d = X.shape[1]
        self.encoder_ = nn.Sequential(nn.Linear(d, self.hidden), nn.ELU(),
                                      nn.Linear(self.hidden, self.n_components))
        self.decoder_ = nn.Sequential(nn.Linear(self.n_components, self.hidden), nn.ELU(),
                                      nn.Linear(self.hidden, d), nn.Sigmoid())
        enc_opt = torch.optim.Adam(self.encoder_.parameters(), lr=self.enc_lr)
        dec_opt = torch.optim.Adam(self.decoder_.parameters(), lr=self.dec_lr,
                                   weight_decay=self.dec_weight_decay)
        Xt = torch.tensor(X, dtype=torch.float32)
        g = torch.Generator().manual_seed(self.random_state)
        self.loss_curve_ = []
        for epoch in range(self.epochs):
            self.encoder_.train()
            self.decoder_.train()
            perm = torch.randperm(len(Xt), generator=g)
            total = 0.0
            for i in range(0, len(Xt), self.batch_size):
                xb = Xt[perm[i:i + self.batch_size]]
                enc_opt.zero_grad(set_to_none=True)
                dec_opt.zero_grad(set_to_none=True)
                recon = self.decoder_(self.encoder_(xb))
                loss = nn.functional.mse_loss(recon, xb)
                loss.backward()
                enc_opt.step()
                dec_opt.step()
                total += loss.item() * len(xb)
            self.loss_curve_.append(total / len(Xt))
            if epoch % 10 == 0 or epoch == self.epochs - 1:
                print(f"epoch {epoch:2d} train recon MSE {self.loss_curve_[-1]:.4f}")
        return self

    def transform(self, X):
        self.encoder_.eval()
        with torch.no_grad():
            return self.encoder_(torch.tensor(X, dtype=torch.float32)).numpy()

    def inverse_transform(self, Z):
        self.decoder_.eval()
        with torch.no_grad():
            return self.decoder_(torch.tensor(Z, dtype=torch.float32)).numpy()

    def score(self, X, y=None):
        return -float(np.mean((self.inverse_transform(self.transform(X)) - X) ** 2))


if __name__ == "__main__":
    X, _ = load_digits(return_X_y=True)
    X = X / 16.0  # pixel intensities 0..16 -> [0, 1]
    X_tr, X_va = train_test_split(X, test_size=0.2, random_state=0)
    ae = TorchAutoencoder().fit(X_tr)
    val_mse = -ae.score(X_va)
    pca = PCA(n_components=8).fit(X_tr)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(X_va)) - X_va) ** 2))
    mean_mse = float(np.mean((X_tr.mean(0) - X_va) ** 2))
    print(f"val recon MSE: autoencoder {val_mse:.4f}  PCA(8) {pca_mse:.4f}  mean image {mean_mse:.4f}")
    print(f"NNDOCTOR_METRIC val_mse={val_mse:.4f} lower")
