"""Highway MLP whose transform gates were initialised with a bias of -5 "to start from identity".

expect: saturated-activation
allow: loss-not-decreasing

Highway networks initialise the transform-gate bias negative (the paper suggests -1 to -3) so
that each block starts close to the identity.  Here it was pushed to -5 "to be safe": the gates
T = sigmoid(W x + b) sit around 0.007, and ~90% of the gate values are below 0.01 for every
batch, in the sigmoid's flat tail.  The blocks output x * (1 - T) + H(x) * T ~= x, so the
network is effectively linear, and the gates' derivative T * (1 - T) < 0.01 means SGD never
opens them.  The task (is the point outside a sphere?) is not linearly separable, so accuracy
stays at chance.
(fixed, gate bias -2: val acc 0.91 vs 0.51 here.)
"""
import math

import torch
import torch.nn as nn

torch.manual_seed(0)

N_FEATURES, WIDTH, N_BLOCKS = 10, 64, 4
GATE_BIAS = -5.0


class HighwayBlock(nn.Module):
    def __init__(self, width, gate_bias):
        super().__init__()
        self.transform = nn.Linear(width, width)
        self.gate = nn.Linear(width, width)
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x):
        h = torch.relu(self.transform(x))
        t = torch.sigmoid(self.gate(x))
        return h * t + x * (1.0 - t)


class HighwayNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(N_FEATURES, WIDTH)
        self.blocks = nn.Sequential(*[HighwayBlock(WIDTH, GATE_BIAS) for _ in range(N_BLOCKS)])
        self.head = nn.Linear(WIDTH, 2)

    def forward(self, x):
        return self.head(self.blocks(self.embed(x)))


def make_sphere_data(n, generator):
    x = torch.randn(n, N_FEATURES, generator=generator)
    radius = x.norm(dim=1)
    y = (radius > math.sqrt(N_FEATURES - 2 / 3)).long()  # ~median radius of a 10-d Gaussian
    return x, y


g = torch.Generator().manual_seed(1)
X_train, y_train = make_sphere_data(3000, g)
X_val, y_val = make_sphere_data(1000, g)
print(f"class balance: {y_train.float().mean().item():.2f}")

model = HighwayNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

step = 0
for epoch in range(8):
    perm = torch.randperm(len(X_train))
    for i in range(0, len(X_train), 64):
        idx = perm[i:i + 64]
        optimizer.zero_grad()
        loss = loss_fn(model(X_train[idx]), y_train[idx])
        loss.backward()
        optimizer.step()
        step += 1
    with torch.no_grad():
        val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1} step {step}: train loss {loss.item():.4f}  val acc {val_acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
