"""Small ResNet on 8x8 digits with zero-init last BN gamma, bf16 CPU autocast, channels_last and no-WD param groups.
expect: healthy
trap: zero-initialized residual branches (bn2.weight = 0) so conv1/conv2/bn1 of every block get gradients of exactly 0 at the first step; every block is an identity map at init; bf16 autocast makes the loss/gradient noisy at the 1e-2 relative level; norm/bias params have weight_decay 0; loss spikes when the LR is at its one-cycle peak

Following "Bag of Tricks" / Goyal et al., the last BatchNorm of each residual branch starts with gamma=0,
so at initialization every block returns relu(x + 0) and the network is shallow.  Because the branch
output is multiplied by gamma=0, nothing upstream of bn2 inside the branch (conv1, bn1, conv2) receives a
gradient at step 0 -- their .grad is exactly zero, not small -- while bn2.weight itself gets a normal
gradient; after the first SGD step gamma is non-zero and the branches wake up.  The forward runs under
torch.autocast("cpu", dtype=torch.bfloat16) with channels_last tensors, so activations are rounded to 8
mantissa bits; the loss is computed in fp32.  Biases and BN affines are excluded from weight decay.
Measured: val_acc=0.9822
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

imgs = load_digits().images.astype(np.float32) / 16.0
labels = load_digits().target
tr_x, va_x, tr_y, va_y = train_test_split(imgs, labels, test_size=0.25, random_state=SEED, stratify=labels)
mu, sigma = tr_x.mean(), tr_x.std()
tr_x = torch.from_numpy((tr_x - mu) / sigma)[:, None].contiguous(memory_format=torch.channels_last)
va_x = torch.from_numpy((va_x - mu) / sigma)[:, None].contiguous(memory_format=torch.channels_last)
tr_y, va_y = torch.from_numpy(tr_y).long(), torch.from_numpy(va_y).long()


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        nn.init.zeros_(self.bn2.weight)                        # zero-init residual
        self.proj = None
        if stride != 1 or c_in != c_out:
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        idt = x if self.proj is None else self.proj(x)
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(idt + self.bn2(self.conv2(h)))


class ResNet(nn.Module):
    def __init__(self, widths=(16, 32, 64), n_cls=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, c = [], widths[0]
        for i, w in enumerate(widths):
            layers += [Block(c, w, 1 if i == 0 else 2), Block(w, w, 1)]
            c = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c, n_cls)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


model = ResNet().to(memory_format=torch.channels_last)
wd, no_wd = [], []
for name, p in model.named_parameters():
    (no_wd if p.ndim == 1 else wd).append(p)
opt = torch.optim.SGD([{"params": wd, "weight_decay": 5e-4}, {"params": no_wd, "weight_decay": 0.0}],
                      lr=0.1, momentum=0.9, nesterov=True)
EPOCHS, BS = 10, 64
steps_per_epoch = len(tr_x) // BS
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, epochs=EPOCHS, steps_per_epoch=steps_per_epoch)


def run_eval():
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(va_x).float()
    return F.cross_entropy(out, va_y).item(), (out.argmax(1) == va_y).float().mean().item()


t0 = time.time()
g = torch.Generator().manual_seed(SEED)
step = 0
for ep in range(EPOCHS):
    model.train()
    order = torch.randperm(len(tr_x), generator=g)
    ep_loss = 0.0
    for k in range(steps_per_epoch):
        idx = order[k * BS:(k + 1) * BS]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(tr_x[idx])
        loss = F.cross_entropy(logits.float(), tr_y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if step == 0:
            b = model.layers[0]
            print(f"step 0 grad norms: conv1 {b.conv1.weight.grad.norm():.3e} conv2 {b.conv2.weight.grad.norm():.3e} "
                  f"bn2.gamma {b.bn2.weight.grad.norm():.3e} fc {model.fc.weight.grad.norm():.3e}")
        opt.step()
        sched.step()
        ep_loss += loss.item()
        step += 1
    vl, va = run_eval()
    print(f"epoch {ep} train_loss {ep_loss / steps_per_epoch:.4f} val_loss {vl:.4f} val_acc {va:.4f}")

print(f"train time {time.time() - t0:.1f}s ({step} steps)")
print(f"NNDOCTOR_METRIC val_acc={va:.4f} higher")
