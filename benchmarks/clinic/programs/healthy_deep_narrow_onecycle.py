"""A 12-hidden-layer, 32-wide MLP (Linear-BN-ReLU blocks, He init) on digits trained with SGD + OneCycleLR (max_lr=0.4).

expect: healthy
trap: OneCycleLR drives the SGD LR from 0.016 up to 0.4 at 30% of training and then anneals it to ~9e-6 by the last step; around the peak the eval-mode val loss spikes (0.40 -> 1.15 -> 0.26 between epochs 6 and 12) and at the end the LR is tiny, which can look like learning-rate-too-high in the middle and learning-rate-too-low at the end; a 12-layer, 32-wide net also looks like a vanishing-gradient candidate, but He init + BatchNorm keep the first hidden layer's gradient norm *larger* than the last one's (ratio ~3-15), and max_lr 0.05/0.1/0.2 end at the same accuracy (0.964/0.967/0.971)

Research-script style with argparse. Data: sklearn digits, pixels/16. Net: 12 x [Linear(32) ->
BatchNorm1d -> ReLU] + Linear(10), kaiming_normal_ init. Optimizer SGD(momentum=0.9, nesterov) with
OneCycleLR(max_lr=0.4, pct_start=0.3, default cosine annealing and momentum cycling), batch 64 with the
ragged last batch dropped (a 3-sample BatchNorm batch every epoch wrecks this net), 25 epochs (525 steps).
Measured: final val_loss 0.120, val_acc 0.9622 (seeds 1 and 2: 0.9800, 0.9711; good for a plain MLP on
digits is >= 0.95).
"""
import argparse
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--depth", type=int, default=12)
parser.add_argument("--width", type=int, default=32)
parser.add_argument("--max_lr", type=float, default=0.4)
parser.add_argument("--epochs", type=int, default=25)
parser.add_argument("--batch_size", type=int, default=64)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(args.seed)
np.random.seed(args.seed)

X, y = load_digits(return_X_y=True)
X = X / 16.0
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=args.seed, stratify=y)
Xtr = torch.tensor(Xtr, dtype=torch.float32)
Xva = torch.tensor(Xva, dtype=torch.float32)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)


def make_net(depth, width):
    layers, d = [], 64
    for _ in range(depth):
        lin = nn.Linear(d, width)
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.BatchNorm1d(width), nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, 10))
    return nn.Sequential(*layers)


net = make_net(args.depth, args.width)
opt = torch.optim.SGD(net.parameters(), lr=args.max_lr, momentum=0.9, nesterov=True)
steps_per_epoch = len(Xtr) // args.batch_size
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.max_lr, epochs=args.epochs,
                                            steps_per_epoch=steps_per_epoch, pct_start=0.3)
linears = [m for m in net if isinstance(m, nn.Linear)]

step = 0
for epoch in range(args.epochs):
    net.train()
    perm = torch.randperm(len(Xtr))
    tot = 0.0
    for i in range(0, len(Xtr) - args.batch_size + 1, args.batch_size):  # drop_last: BN hates a 3-sample batch
        idx = perm[i:i + args.batch_size]
        loss = F.cross_entropy(net(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        if step % 150 == 0:
            g_first = linears[0].weight.grad.norm().item()
            g_last = linears[-2].weight.grad.norm().item()
            print(f"  step {step} lr {sched.get_last_lr()[0]:.4f} grad first/last hidden {g_first:.3f}/{g_last:.3f}")
        opt.step()
        sched.step()
        tot += loss.item()
        step += 1
    net.eval()
    with torch.no_grad():
        out = net(Xva)
        vloss = F.cross_entropy(out, yva).item()
        vacc = (out.argmax(1) == yva).float().mean().item()
    if epoch % 3 == 2 or epoch == args.epochs - 1:
        print(f"epoch {epoch+1:2d} lr {sched.get_last_lr()[0]:.2e} train {tot/steps_per_epoch:.4f} "
              f"val_loss {vloss:.4f} val_acc {vacc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={vacc:.4f} higher")
