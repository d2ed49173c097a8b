"""Quantile regression (pinball loss for the 10th, 50th and 90th percentiles) on synthetic skewed data, trained with a huge batch (4096) and the linear LR-scaling rule with warmup (Goyal et al. 2017).

expect: healthy
trap: batch 4096 with lr = 0.1 * 4096/256 = 1.6 for SGD after 20 warmup steps, a piecewise-linear loss whose gradient does not shrink near the optimum (sign-like), only ~100 optimizer steps

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: test coverage of the 10-90 interval 0.790 (target 0.80), test pinball loss 0.153.
"""
import argparse

import torch
import torch.nn as nn


def pinball(pred, target, quantiles):
    diff = target.unsqueeze(1) - pred
    return torch.maximum(quantiles * diff, (quantiles - 1) * diff).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--base-lr", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args([])
    torch.manual_seed(0)
    n = 40000
    x = torch.randn(n, 4)
    y = x[:, 0] + 0.5 * torch.sin(2 * x[:, 1]) + torch.distributions.Gamma(2.0, 2.0).sample((n,)) * (0.5 + 0.5 * x[:, 2].abs())
    xtr, ytr, xte, yte = x[:32000], y[:32000], x[32000:], y[32000:]
    q = torch.tensor([0.1, 0.5, 0.9])
    model = nn.Sequential(nn.Linear(4, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 3))
    lr = args.base_lr * args.batch_size / 256
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    warmup = 20
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * (0.5 ** (s // 50)))
    for step in range(args.steps):
        idx = torch.randint(0, len(xtr), (args.batch_size,))
        loss = pinball(model(xtr[idx]), ytr[idx], q)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 20 == 0:
            print(f"step {step} lr {sched.get_last_lr()[0]:.3f} pinball {loss.item():.4f}")
    model.eval()
    with torch.no_grad():
        pred = model(xte)
        cover = ((yte >= pred[:, 0]) & (yte <= pred[:, 2])).float().mean().item()
        test_loss = pinball(pred, yte, q).item()
    print(f"test pinball {test_loss:.4f} coverage(10-90) {cover:.3f}")
    print(f"NNDOCTOR_METRIC test_pinball={test_loss:.4f} lower")


if __name__ == "__main__":
    main()
