"""Contrastive digit embeddings with a batch size that doubles every epoch, on a memory-limited box.

expect: out-of-memory

The script caps its address space at (current size + 400 MB) with RLIMIT_AS, like training on
a small GPU. The loss compares all pairs in the batch through broadcasting,
(z[:, None, :] - z[None, :, :]) ** 2, which materializes a B x B x D tensor (and keeps several
of them for backward), so memory grows with the square of the batch size. "More negatives
per batch help contrastive learning", so the batch doubles every epoch: 64, 128, 256 and 512
train fine (52 steps, loss 0.87 -> 0.23; at 512 each intermediate is 33 MB), but the first
step at batch 1024 needs B*B*D*4 bytes = 134 MB per intermediate and its backward dies with
"RuntimeError: ... DefaultCPUAllocator: can't allocate memory" (exit code 1).
Fixed (cap the batch at 512): all 5 epochs complete (loss 0.226, exit 0); here the run
crashes at the first step of epoch 5.
"""
import resource

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.set_num_threads(1)


def limit_memory(extra_mb=400):
    """Pretend we are on a small accelerator: allow only `extra_mb` more address space."""
    with open("/proc/self/status") as f:
        vm_size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm_size + extra_mb * 2**20, hard))


def pairwise_contrastive_loss(z, labels, margin=2.0):
    sq_dist = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)         # B x B, via B x B x D
    same = (labels[:, None] == labels[None, :]).float()
    dist = torch.sqrt(sq_dist + 1e-8)
    loss = same * sq_dist + (1 - same) * F.relu(margin - dist) ** 2
    return loss.mean()


def main():
    limit_memory()
    torch.manual_seed(0)
    digits = load_digits()
    X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target)

    encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 32))
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-3)

    batch_size = 64
    for epoch in range(5):
        perm = torch.randperm(len(X))
        total, steps = 0.0, 0
        for i in range(0, len(X) - batch_size + 1, batch_size):
            idx = perm[i:i + batch_size]
            loss = pairwise_contrastive_loss(encoder(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            steps += 1
        print(f"epoch {epoch + 1}  batch {batch_size:4d}  steps {steps:2d}  loss {total / steps:.4f}")
        batch_size *= 2            # progressively larger batches: more negatives per step


if __name__ == "__main__":
    main()
