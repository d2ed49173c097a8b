"""Research-script style (argparse defaults, main()) digits CNN with BatchNorm trained by SGD + Nesterov under OneCycleLR with a peak LR of 0.8: the peak kills most of the second conv layer's ReLU channels.

expect: learning-rate-too-high
allow: dead-relu

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code, as a
*healthy* trap ("OneCycle with a high peak"), and scored as such: nndoctor's dead-relu and
learning-rate-too-high warnings were counted as a false alarm in the pre-fix score. Checked afterwards,
they are right: at the end of the run 26 of the 32 conv2 channels never fire on any of the 1797 digits
(seed 1, test acc 0.975); with seeds 2 and 3 the same script ends with 32/32 and 31/32 channels dead and
test acc 0.097 and 0.919. With max_lr=0.2 (healthy_argparse_onecycle_peak_0p2.py) the three seeds reach
1.000 / 0.975 / 0.992 with no dead channel. Relabelled faulty after that check; single-threaded numbers.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def get_args():
    p = argparse.ArgumentParser(description="digits CNN, one-cycle")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-lr", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args([])  # defaults only: the paper's setting


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1); self.b1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1); self.b2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)
        x = F.adaptive_avg_pool2d(x, 4)
        return self.fc(x.flatten(1))


def main():
    args = get_args()
    torch.manual_seed(args.seed)
    d = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(d.images / 16.0, d.target, test_size=0.2, random_state=args.seed)
    Xtr = torch.tensor(Xtr, dtype=torch.float32).unsqueeze(1); Xte = torch.tensor(Xte, dtype=torch.float32).unsqueeze(1)
    ytr = torch.tensor(ytr); yte = torch.tensor(yte)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=args.max_lr / 25, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = (len(Xtr) + args.batch_size - 1) // args.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.max_lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(Xtr))
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch_size:(i + 1) * args.batch_size]
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch} lr {sched.get_last_lr()[0]:.4f} loss {loss.item():.4f} test acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
