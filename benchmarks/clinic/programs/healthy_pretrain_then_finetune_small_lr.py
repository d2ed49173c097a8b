"""Domain adaptation in one script: pre-train a digits CNN on clean scans, then fine-tune it on a new "scanner" with Adam lr=1e-4.

expect: healthy
trap: fine-tuning with a small LR -- the second phase uses Adam at lr=1e-4 (30x below the pre-training LR) on a network that is already good, so its updates are small relative to the weights and the loss starts fairly low and falls gently; that is the intended recipe, not a too-low LR. Fine-tuning lifts accuracy on the new scanner's images from 0.84 to 0.95 within 50 steps while clean accuracy also rises (0.91 -> 0.95). Also: a fresh optimizer half-way through the run.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def new_scanner(images, generator):
    """The new scanner: lower contrast, brighter background, sensor noise."""
    return 0.7 * images + 0.2 + 0.1 * torch.randn(images.shape, generator=generator)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(model, x, y, lr, steps, tag, evals):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x), (32,))
        loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            report = "  ".join(f"{name} {accuracy(model, *data):.3f}" for name, data in evals.items())
            print(f"[{tag}] step {step:3d}  loss {loss.item():.4f}  {report}")


digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
labels = torch.tensor(digits.target)
perm = torch.randperm(len(images))
images, labels = images[perm], labels[perm]
gen = torch.Generator().manual_seed(1)

clean_train, clean_test = (images[:900], labels[:900]), (images[1400:], labels[1400:])
shift_train = (new_scanner(images[900:1400], gen), labels[900:1400])
shift_test = (new_scanner(images[1400:], gen), labels[1400:])
evals = {"clean acc": clean_test, "new-scanner acc": shift_test}

model = DigitNet()
train(model, *clean_train, lr=3e-3, steps=200, tag="pretrain", evals=evals)
train(model, *shift_train, lr=1e-4, steps=100, tag="finetune", evals=evals)
print(f"final: clean {accuracy(model, *clean_test):.3f}  new scanner {accuracy(model, *shift_test):.3f}")
