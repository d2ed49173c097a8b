"""1-D conv net classifying synthetic noisy waveforms (sine/square/sawtooth/pulse), RMSprop lr=0.1.

expect: learning-rate-too-high
allow: exploding-gradient, dead-relu

RMSprop divides by a running RMS that starts at zero, so at lr=0.1 the first updates are huge: gradient
norm 0.2 -> 14074 at step 2 and epoch-1 mean train loss 1035. The run then limps along with 72-81% of
the ReLU channels in the last two conv layers dead, reaches 0.81 val_acc at epoch 5, spikes again
(epoch-6 train loss 16.6, val_acc 0.45) and ends at 0.66. No NaN.
Fix: lr=1e-3. Measured (seed 0, 400 steps): faulty val_acc=0.6625, twin val_acc=0.9825.
"""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
SIG_LEN = 96
CLASSES = ("sine", "square", "sawtooth", "pulse")


def synth_waves(n, rng):
    """Random-frequency, random-phase periodic waveforms with additive noise and a DC offset."""
    t = np.linspace(0.0, 1.0, SIG_LEN, endpoint=False)
    labels = rng.integers(0, len(CLASSES), n)
    freq = rng.uniform(2.0, 6.0, n)[:, None]
    phase = rng.uniform(0.0, 1.0, n)[:, None]
    u = (freq * t[None, :] + phase) % 1.0          # position inside the period, in [0, 1)
    waves = np.stack([
        np.sin(2 * np.pi * u),
        np.where(u < 0.5, 1.0, -1.0),
        2.0 * u - 1.0,
        np.where(u < 0.2, 1.0, -0.25),
    ], axis=1)                                       # n x 4 x L
    x = waves[np.arange(n), labels]
    x = x * rng.uniform(0.5, 1.5, (n, 1)) + rng.normal(0.0, 0.3, (n, 1)) + rng.normal(0.0, 0.25, x.shape)
    return torch.tensor(x[:, None, :], dtype=torch.float32), torch.tensor(labels)


class WaveNet1D(nn.Module):
    def __init__(self, n_classes=len(CLASSES)):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 16, kernel_size=7, padding=3), nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(16, 32, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(32, 32, kernel_size=5, padding=2), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
        )
        self.classifier = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.classifier(self.features(x).squeeze(-1))


def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        count += len(yb)
    return total / count


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    return (model(x).argmax(dim=1) == y).float().mean().item()


def main():
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    x_train, y_train = synth_waves(1600, rng)
    x_val, y_val = synth_waves(400, rng)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)

    model = WaveNet1D()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.1, alpha=0.99)
    loss_fn = nn.CrossEntropyLoss()

    acc = 0.0
    for epoch in range(1, 9):
        train_loss = train_one_epoch(model, loader, optimizer, loss_fn)
        acc = evaluate(model, x_val, y_val)
        print(f"epoch {epoch}: train_loss={train_loss:.4f} val_acc={acc:.4f}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
