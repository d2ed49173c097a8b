"""Diabetes regression with a feature encoder and a regression head, each with its own optimizer.

expect: gradient-not-zeroed
allow: loss-not-decreasing, learning-rate-too-high, exploding-gradient

The encoder and the head get different optimizers (Adam for the encoder, SGD with a larger
LR for the head). The loop clears the encoder's gradients twice -- the second line was
meant to be `head_opt.zero_grad()` -- so the head's .grad is the running sum of every
gradient since step 0 while the encoder's is reset correctly. For the head that is SGD with
momentum 1.0: its weights swing back and forth around the solution without settling,
and the train error ends at ~0.70 (it swings between 0.39 and 0.70 over the run) where the
same loop with the head's gradients cleared settles at ~0.39.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_diabetes

torch.manual_seed(0)


class Encoder(nn.Module):
    def __init__(self, n_in):
        super().__init__()
        self.fc1 = nn.Linear(n_in, 64)
        self.fc2 = nn.Linear(64, 32)

    def forward(self, x):
        return F.relu(self.fc2(F.relu(self.fc1(x))))


data = load_diabetes()
X = torch.tensor(data.data, dtype=torch.float32)
X = (X - X.mean(0)) / X.std(0)
y = torch.tensor(data.target, dtype=torch.float32).unsqueeze(1)
y = (y - y.mean()) / y.std()

encoder = Encoder(X.shape[1])
head = nn.Linear(32, 1)
enc_opt = torch.optim.Adam(encoder.parameters(), lr=1e-3)
head_opt = torch.optim.SGD(head.parameters(), lr=0.1)

for step in range(250):
    idx = torch.randint(0, len(X), (32,))
    enc_opt.zero_grad()
    enc_opt.zero_grad()
    pred = head(encoder(X[idx]))
    loss = F.mse_loss(pred, y[idx])
    loss.backward()
    enc_opt.step()
    head_opt.step()
    if step % 50 == 0 or step == 249:
        with torch.no_grad():
            full = F.mse_loss(head(encoder(X)), y).item()
        print(f"step {step:3d}  batch mse {loss.item():.3f}  train mse {full:.3f}")
        print(f"NNDOCTOR_METRIC train_mse={full:.4f} lower")
