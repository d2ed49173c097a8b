"""FIXED version: Deep LeNet-style CNN with sigmoid activations everywhere on 8x8 digits: gradients vanish toward the input.

expect: healthy
(fixed counterpart of ../f_deep_sigmoid_cnn.py, which expects vanishing-gradient)

The author "modernized" the classic LeNet recipe by stacking more 3x3 conv layers (7 convs +
2 hidden fully-connected layers) but kept LeNet's sigmoid nonlinearity after every layer and
PyTorch's default init, trained with plain SGD + momentum.  Every sigmoid multiplies the
backward signal by at most 0.25 (and the default init shrinks it further), so the gradient
reaching the first conv layers is orders of magnitude smaller than at the classifier; the
early layers barely move and the loss sits near ln(10) for most of the run.
Measured (test accuracy after 8 epochs): faulty 0.0956 vs fixed 0.9822
(fixed = ReLU instead of sigmoid plus kaiming_normal_ init, fixed/f_deep_sigmoid_cnn_fixed.py).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
mu, sd = Xtr.mean(), Xtr.std()
Xtr, Xte = torch.tensor((Xtr - mu) / sd), torch.tensor((Xte - mu) / sd)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

act = torch.relu


class DeepLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        chans = [1, 8, 16, 16, 16, 32, 32, 32]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(chans[:-1], chans[1:]))
        self.fc1 = nn.Linear(32 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = act(conv(x))
            if i == 3:
                x = F.avg_pool2d(x, 2)
        x = x.flatten(1)
        x = act(self.fc1(x))
        x = act(self.fc2(x))
        return self.fc3(x)


model = DeepLeNet()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
BS = 32
for epoch in range(8):
    model.train()
    perm = torch.randperm(len(Xtr))
    for s in range(0, len(Xtr), BS):
        idx = perm[s:s + BS]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"epoch {epoch} loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    acc = (model(Xte).argmax(1) == yte).float().mean().item()
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
