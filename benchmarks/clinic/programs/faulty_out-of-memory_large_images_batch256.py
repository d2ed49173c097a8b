"""Shape classifier on 128x128 RGB renders with batch_size=256 on a memory-limited device: dies at step 1.

expect: out-of-memory

The script caps its address space at (current size + 400 MB) with RLIMIT_AS, to behave like
a small GPU. Images are rendered on the fly (a filled disc or square on a noisy background).
At 128 x 128 the first convolution alone produces 256 x 16 x 128 x 128 floats = 268 MB for
one batch, and BatchNorm, ReLU and max-pool each want another tensor of that size or a
quarter of it, so the very first forward pass dies with "RuntimeError: ...
DefaultCPUAllocator: can't allocate memory" before a single optimizer step (exit code 1).
Fixed (BATCH_SIZE = 32, 33 MB per first-layer activation): all 12 steps of this smoke run
complete (loss 0.70 -> 0.68, exit 0); here the run crashes at step 1 asking for 268 MB.
"""
import resource

import torch
import torch.nn as nn

torch.set_num_threads(1)

BATCH_SIZE = 256
IMAGE_SIZE = 128
STEPS = 12
MEMORY_BUDGET_MB = 400


def cap_memory(budget_mb):
    with open("/proc/self/status") as f:
        current = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (current + budget_mb * 2**20, hard))


def render_batch(n, size, generator):
    """Label 0: filled disc, label 1: filled square; random position, radius and colour."""
    labels = torch.randint(0, 2, (n,), generator=generator)
    coords = torch.arange(size, dtype=torch.float32)
    yy, xx = coords[:, None], coords[None, :]
    images = 0.1 * torch.randn(n, 3, size, size, generator=generator)
    for i in range(n):
        cx, cy = (torch.rand(2, generator=generator) * size * 0.5 + size * 0.25).tolist()
        r = float(torch.rand(1, generator=generator) * size * 0.15 + size * 0.1)
        if labels[i] == 0:
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r ** 2
        else:
            mask = ((xx - cx).abs() <= r) & ((yy - cy).abs() <= r)
        colour = torch.rand(3, 1, generator=generator) + 0.5
        images[i][:, mask] += colour
    return images, labels


class ShapeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(4),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(4),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        return self.head(self.body(x).flatten(1))


def main():
    cap_memory(MEMORY_BUDGET_MB)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = ShapeNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    criterion = nn.CrossEntropyLoss()
    for step in range(1, STEPS + 1):
        images, labels = render_batch(BATCH_SIZE, IMAGE_SIZE, gen)
        logits = model(images)
        loss = criterion(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        acc = (logits.argmax(1) == labels).float().mean().item()
        print(f"step {step:2d}  loss {loss.item():.4f}  batch acc {acc:.3f}")


if __name__ == "__main__":
    main()
