"""Digits classifier with an auxiliary reconstruction decoder that only runs every 5th step.

expect: healthy
trap: a conditional branch -- the decoder is in the optimizer and requires grad but is unused (no gradient) on 4 of every 5 steps by design; at most info
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)

AUX_EVERY = 5


class MultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU())
        self.classifier = nn.Linear(32, 10)
        self.decoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 64))

    def forward(self, x, reconstruct=False):
        z = self.encoder(x)
        logits = self.classifier(z)
        if reconstruct:
            return logits, self.decoder(z)
        return logits, None


digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_train, y_train, X_val, y_val = X[:1500], y[:1500], X[1500:], y[1500:]

model = MultiTaskNet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for step in range(250):
    idx = torch.randint(0, len(X_train), (64,))
    xb, yb = X_train[idx], y_train[idx]
    use_aux = step % AUX_EVERY == 0
    noisy = xb + 0.1 * torch.randn_like(xb) if use_aux else xb
    logits, recon = model(noisy, reconstruct=use_aux)
    loss = F.cross_entropy(logits, yb)
    if use_aux:
        loss = loss + 0.5 * F.mse_loss(recon, xb)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 249:
        with torch.no_grad():
            val_logits, val_recon = model(X_val, reconstruct=True)
            acc = (val_logits.argmax(1) == y_val).float().mean().item()
            rec = F.mse_loss(val_recon, X_val).item()
        print(f"step {step:3d}  loss {loss.item():.3f}  val acc {acc:.3f}  val recon mse {rec:.4f}")
