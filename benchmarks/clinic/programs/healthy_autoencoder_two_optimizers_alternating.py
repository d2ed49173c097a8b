"""Digits autoencoder with a classifier on its code: two optimizers stepped on alternate steps, each on its own loss.

expect: healthy
trap: two optimizers over overlapping parameter sets stepped alternately (even steps: reconstruction loss, encoder+decoder; odd steps: classification loss, encoder+classifier), so each parameter group gets gradients and updates only every other step

Held out: written for the 2026-11-27 generalization audit before reading the rules' thresholds.
Trains well: test accuracy 0.917 from the 16-d code, test reconstruction MSE 0.024.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.2, random_state=0)
Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 16))
decoder = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 64), nn.Sigmoid())
classifier = nn.Sequential(nn.ReLU(), nn.Linear(16, 10))

opt_ae = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=2e-3)
opt_clf = torch.optim.Adam(list(encoder.parameters()) + list(classifier.parameters()), lr=2e-3)

step = 0
for epoch in range(15):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 64):
        idx = perm[i:i + 64]
        xb, yb = Xtr[idx], ytr[idx]
        if step % 2 == 0:
            opt_ae.zero_grad()
            rec_loss = F.binary_cross_entropy(decoder(encoder(xb)), xb)
            rec_loss.backward()
            opt_ae.step()
        else:
            opt_clf.zero_grad()
            clf_loss = F.cross_entropy(classifier(encoder(xb)), yb)
            clf_loss.backward()
            opt_clf.step()
        step += 1
    if epoch % 3 == 2:
        print(f"epoch {epoch + 1:2d}  reconstruction {rec_loss.item():.4f}  classification {clf_loss.item():.4f}")

with torch.no_grad():
    z = encoder(Xte)
    acc = (classifier(z).argmax(1) == yte).float().mean().item()
    rec = F.mse_loss(decoder(z), Xte).item()
print(f"test accuracy {acc:.3f}  test reconstruction MSE {rec:.4f}")
