"""1-D CNN for waveform classification whose custom init uses 1/fan_in as the std (a variance).

expect: poor-initialization
allow: vanishing-gradient, dead-relu, loss-not-decreasing

The init helper means to implement LeCun/He-style scaling but writes `std = 1 / fan_in`
where the formula is `var = 1 / fan_in` (or 2 / fan_in for ReLU), i.e. std = 1 / sqrt(fan_in).
For the 32-channel, kernel-5 convolutions fan_in = 160, so the weights have std 0.006 instead
of He's 0.11: each conv+ReLU layer after the first multiplies the signal by ~0.04, and after
five of them the features reaching the classifier have std ~1e-6 (input std 0.8), the logits
~2e-7.  Gradients to the early convolutions are just as tiny (1e-7..1e-6), and the network
sits at chance (loss ln(4) = 1.386) for the whole run.  Knock-on effect: with the signal this
small the conv biases alone decide the sign of each unit; they drift negative within a few
dozen steps and the deep convolutions go completely dead (all gradients exactly 0 after that).
(fixed, std = sqrt(2 / fan_in): val acc 0.96 vs 0.22 here.)
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)

SIGNAL_LEN = 64
CLASSES = ("sine", "square", "sawtooth", "triangle")


def make_waveforms(n):
    t = np.linspace(0, 1, SIGNAL_LEN, endpoint=False)
    labels = rng.integers(0, len(CLASSES), size=n)
    freq = rng.uniform(2, 6, size=(n, 1))
    phase = rng.uniform(0, 1, size=(n, 1))
    u = (freq * t + phase) % 1.0
    waves = np.stack([
        np.sin(2 * np.pi * u),
        np.sign(np.sin(2 * np.pi * u)),
        2 * u - 1,
        1 - 4 * np.abs(u - 0.5),
    ])  # (4, n, T)
    x = waves[labels, np.arange(n)] + 0.3 * rng.standard_normal((n, SIGNAL_LEN))
    return torch.tensor(x, dtype=torch.float32).unsqueeze(1), torch.tensor(labels)


class WaveNet1D(nn.Module):
    def __init__(self, channels=32, n_layers=5, n_classes=4):
        super().__init__()
        convs, c_in = [], 1
        for _ in range(n_layers):
            convs.append(nn.Conv1d(c_in, channels, kernel_size=5, padding=2))
            c_in = channels
        self.convs = nn.ModuleList(convs)
        self.fc = nn.Linear(channels, n_classes)
        self.reset_parameters()

    def reset_parameters(self):
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                fan_in = m.weight[0].numel()
                std = 1.0 / fan_in  # LeCun-style scaling
                nn.init.normal_(m.weight, 0.0, std)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        return self.fc(x.mean(dim=2))


X_train, y_train = make_waveforms(2000)
X_val, y_val = make_waveforms(500)

model = WaveNet1D()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(6):
    model.train()
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 50):
        idx = perm[i:i + 50]
        loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(X_val), y_val).item()
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1}: train loss {loss.item():.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
