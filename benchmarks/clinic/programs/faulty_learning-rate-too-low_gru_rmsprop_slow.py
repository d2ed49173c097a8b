"""GRU sequence regressor trained with RMSprop at a "conservative" lr=1e-4.

expect: learning-rate-too-low

Moderate case. The author lowered the LR "because RNNs are unstable", but this GRU is small,
its inputs are unit-variance and the targets are well scaled, so RMSprop's default range
(1e-3..3e-3) is safe. At 1e-4 the validation loss does go down -- steadily, 1.12 -> 0.90 over
300 steps -- so the run looks healthy at a glance, but it is still near the variance of the
target (1.13) when it stops; the same network at lr=3e-3 is at 0.05 after 50 steps.
Fixed (lr=3e-3, same 300 steps): val MSE 0.019; here val MSE 0.90 (~50x worse).
"""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


class SignalDataset(Dataset):
    """Target: a quarter of the running sum of channel 0 minus half the mean of the last 3 steps of channel 1."""

    def __init__(self, n, length=15):
        self.x = torch.randn(n, length, 3)
        self.y = 0.25 * self.x[:, :, 0].sum(1, keepdim=True) - 0.5 * self.x[:, -3:, 1].mean(1, keepdim=True)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class GRURegressor(nn.Module):
    def __init__(self, n_in=3, hidden=32):
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


train_set, val_set = SignalDataset(1600), SignalDataset(400)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, drop_last=True)

model = GRURegressor()
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-4)
criterion = nn.MSELoss()

step = 0
for epoch in range(6):
    for xb, yb in train_loader:
        loss = criterion(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % 50 == 0:
            with torch.no_grad():
                val_loss = criterion(model(val_set.x), val_set.y).item()
            print(f"epoch {epoch}  step {step}  train {loss.item():.4f}  val {val_loss:.4f}")

print(f"final val MSE {val_loss:.4f} (target variance {val_set.y.var().item():.3f})")
print(f"NNDOCTOR_METRIC val_mse={val_loss:.4f} lower")
