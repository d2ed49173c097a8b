"""Digits classifier with a denoising-reconstruction term that joins the loss only from epoch 3 on.

expect: healthy
trap: a loss term switched on after a warm-up -- the decoder runs on every step (its reconstruction error is logged) and is in the optimizer, but for the first 3 of 8 epochs its output is not part of the loss, so it gets no gradient and does not change; from epoch 3 it trains normally; a loss whose value jumps up when the new term is added
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

AUX_START_EPOCH, AUX_WEIGHT, EPOCHS = 3, 1.0, 8


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU())
        self.classifier = nn.Linear(32, 10)
        self.decoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 64), nn.Sigmoid())

    def forward(self, x):
        z = self.encoder(x)
        return self.classifier(z), self.decoder(z)


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
loader = DataLoader(TensorDataset(X[:1400], y[:1400]), batch_size=64, shuffle=True)
X_va, y_va = X[1400:], y[1400:]

model = Net()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(EPOCHS):
    model.train()
    use_aux = epoch >= AUX_START_EPOCH
    ce_sum = rec_sum = 0.0
    for xb, yb in loader:
        noisy = (xb + 0.15 * torch.randn_like(xb)).clamp(0, 1)
        logits, recon = model(noisy)
        ce = F.cross_entropy(logits, yb)
        rec = F.mse_loss(recon, xb)
        loss = ce
        if use_aux:
            loss = loss + AUX_WEIGHT * rec
        opt.zero_grad()
        loss.backward()
        opt.step()
        ce_sum += ce.item()
        rec_sum += rec.item()
    model.eval()
    with torch.no_grad():
        acc = (model(X_va)[0].argmax(1) == y_va).float().mean().item()
    print(f"epoch {epoch}  aux {'on ' if use_aux else 'off'}  ce {ce_sum / len(loader):.4f}  "
          f"recon mse {rec_sum / len(loader):.4f}  val acc {acc:.3f}")
