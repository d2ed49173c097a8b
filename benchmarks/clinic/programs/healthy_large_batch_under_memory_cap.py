"""Tabular classifier with batch_size=2048 on a memory-capped process (RLIMIT_AS = current + 400 MB).

expect: healthy
trap: large batch under a tight memory limit -- the script caps its address space the same way the out-of-memory programs do (like a small GPU) and holds a 100k x 64 dataset in memory, but with an MLP of width 96 a 2048-sample batch needs only a few MB of activations and evaluation runs in 8192-sample chunks under torch.no_grad(), so peak usage stays well below the cap (~116 MB of the 400 MB; it prints the headroom) and training finishes normally: val acc 0.91 -> 0.92 over 120 steps.
"""
import resource

import torch
import torch.nn as nn

torch.set_num_threads(1)


def vm_bytes(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))


start = vm_bytes("VmSize")
cap = start + 400 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))

torch.manual_seed(0)
N, D, CLASSES = 100_000, 64, 10
centers = torch.randn(CLASSES, D) * 0.4
labels = torch.randint(0, CLASSES, (N,))
features = centers[labels] + torch.randn(N, D)
X_train, y_train = features[:90_000], labels[:90_000]
X_val, y_val = features[90_000:], labels[90_000:]

model = nn.Sequential(nn.Linear(D, 96), nn.ReLU(), nn.Linear(96, 96), nn.ReLU(), nn.Linear(96, CLASSES))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.CrossEntropyLoss()
BATCH_SIZE = 2048


@torch.no_grad()
def evaluate(x, y, chunk=8192):
    correct = 0
    for i in range(0, len(x), chunk):
        correct += (model(x[i:i + chunk]).argmax(1) == y[i:i + chunk]).sum().item()
    return correct / len(x)


for step in range(1, 121):
    idx = torch.randint(0, len(X_train), (BATCH_SIZE,))
    loss = criterion(model(X_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 30 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}  val acc {evaluate(X_val, y_val):.3f}")

peak = vm_bytes("VmPeak")
print(f"peak address space {(peak - start) / 2**20:.0f} MB above start, cap {(cap - start) / 2**20:.0f} MB")
