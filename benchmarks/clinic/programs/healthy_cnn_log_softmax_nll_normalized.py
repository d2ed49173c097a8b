"""Digits CNN in the classic MNIST-example style: inputs normalised with the dataset mean/std, log_softmax output, F.nll_loss.

expect: healthy
trap: the model returns log-probabilities (F.log_softmax) and the loss is F.nll_loss -- the correct pairing, not NLL on raw scores nor CE on probabilities; image inputs are standardised with mean/std, so they are negative for background pixels (about -0.8..1.9) -- normalised, not raw; eval() for the test pass and train() at the start of every epoch
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
labels = torch.tensor(digits.target)
perm = torch.randperm(len(images))
images, labels = images[perm], labels[perm]
MEAN, STD = images[:1400].mean().item(), images[:1400].std().item()
images = (images - MEAN) / STD
print(f"normalised with mean {MEAN:.4f} std {STD:.4f}: pixel range {images.min():.2f}..{images.max():.2f}")

train_loader = DataLoader(TensorDataset(images[:1400], labels[:1400]), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(images[1400:], labels[1400:]), batch_size=256)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(torch.flatten(x, 1))
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def train(model, loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
    print(f"Train epoch {epoch}: last loss {loss.item():.4f}")


def test(model, loader):
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            correct += (output.argmax(1) == target).sum().item()
    n = len(loader.dataset)
    print(f"  test: average loss {test_loss / n:.4f}, accuracy {correct}/{n} ({correct / n:.3f})")


model = Net()
optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.8)
for epoch in range(1, 7):
    train(model, train_loader, optimizer, epoch)
    test(model, test_loader)
    scheduler.step()
