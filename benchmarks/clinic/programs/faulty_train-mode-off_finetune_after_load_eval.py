"""Fine-tuning a loaded digits CNN on images from a new scanner; the model was put in eval mode after loading and stays there.

expect: train-mode-off

Stage 2 loads the checkpoint, calls model.eval() (habit after loading a model) and then
fine-tunes it without ever calling model.train(). The new scanner's images are darker and
lower-contrast, so the BatchNorm running statistics from pretraining do not fit them; in train
mode BatchNorm would normalise with batch statistics and re-estimate the running ones, in eval
mode it keeps applying the old ones and the convolutions must compensate through their weights.
Dropout is off as well. The subtle case: fine-tuning still makes progress, just less.
Fixed (model.train() before the fine-tuning loop, eval() only for the test pass): test acc
0.871 vs 0.799 here, final batch loss 0.18 vs 0.37.
"""
import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)


class DigitCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 2 * 2, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
labels = torch.tensor(digits.target)

# ---- stage 1 (normally a separate script): pretrain on the old scanner and save a checkpoint
old_x, old_y = images[:900], labels[:900]
pretrained = DigitCNN()
opt = torch.optim.Adam(pretrained.parameters(), lr=2e-3)
for step in range(120):
    idx = torch.randint(0, len(old_x), (64,))
    loss = F.cross_entropy(pretrained(old_x[idx]), old_y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
buffer = io.BytesIO()
torch.save(pretrained.state_dict(), buffer)
print(f"pretraining done, last loss {loss.item():.4f}")

# ---- stage 2: load the checkpoint and adapt it to the new scanner (darker, low-contrast, blurred scans)
def new_scanner(x):
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return 0.35 * blurred + 0.45


new_x, new_y = new_scanner(images[900:1300]), labels[900:1300]
test_x, test_y = new_scanner(images[1300:]), labels[1300:]

model = DigitCNN()
buffer.seek(0)
model.load_state_dict(torch.load(buffer))
model.eval()

with torch.no_grad():
    print(f"before fine-tuning: test acc on new scanner {(model(test_x).argmax(1) == test_y).float().mean().item():.3f}")

optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(6):
    perm = torch.randperm(len(new_x))
    for i in range(0, len(new_x), 32):
        idx = perm[i:i + 32]
        loss = F.cross_entropy(model(new_x[idx]), new_y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(test_x).argmax(1) == test_y).float().mean().item()
    print(f"fine-tune epoch {epoch}  loss {loss.item():.4f}  test acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
