"""BatchNorm CNN on 8x8 digits trained with OneCycleLR at a very large max_lr (1.0, SGD + Nesterov).

expect: healthy
trap: the LR ramps 25x UP over the first 30% of training to 1.0 (a value that looks absurdly high for SGD) while momentum cycles down; loss is noisy near the peak, and the final annealing phase drives the LR to ~4e-6 (looks tiny) -- super-convergence is a deliberate recipe, not learning-rate-too-high / -too-low.

Smith & Topin (2018) "super-convergence": OneCycleLR(max_lr=1.0, pct_start=0.3,
div_factor=25, final_div_factor=1e4), stepped per batch, weight decay 5e-4, BatchNorm after
every conv.  Trains to high accuracy in 8 short epochs.
Measured: val_acc=0.9889.
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(17)
np.random.seed(17)

CFG = dict(max_lr=1.0, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
           momentum=0.9, wd=5e-4, epochs=8, batch_size=64, channels=(16, 32))

dig = load_digits()
x = dig.images.astype(np.float32) / 16.0
x = (x - x.mean()) / x.std()
Xtr, Xva, ytr, yva = train_test_split(x, dig.target, test_size=0.25, random_state=17,
                                      stratify=dig.target)
train_loader = DataLoader(TensorDataset(torch.from_numpy(Xtr)[:, None],
                                        torch.from_numpy(ytr).long()),
                          batch_size=CFG["batch_size"], shuffle=True, drop_last=True)
Xva, yva = torch.from_numpy(Xva)[:, None], torch.from_numpy(yva).long()


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


c1, c2 = CFG["channels"]
model = nn.Sequential(
    conv_bn(1, c1), conv_bn(c1, c1), nn.MaxPool2d(2),      # 4x4
    conv_bn(c1, c2), nn.MaxPool2d(2),                      # 2x2
    nn.Flatten(), nn.Linear(c2 * 4, 10),
)
opt = torch.optim.SGD(model.parameters(), lr=CFG["max_lr"] / CFG["div_factor"],
                      momentum=CFG["momentum"], nesterov=True, weight_decay=CFG["wd"])
sched = torch.optim.lr_scheduler.OneCycleLR(
    opt, max_lr=CFG["max_lr"], epochs=CFG["epochs"], steps_per_epoch=len(train_loader),
    pct_start=CFG["pct_start"], div_factor=CFG["div_factor"],
    final_div_factor=CFG["final_div_factor"])


def val_accuracy():
    model.eval()
    with torch.no_grad():
        a = (model(Xva).argmax(1) == yva).float().mean().item()
    model.train()
    return a


t0 = time.time()
for ep in range(CFG["epochs"]):
    losses = []
    for xb, yb in train_loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    print(f"epoch {ep} lr {sched.get_last_lr()[0]:.4f} loss {np.mean(losses):.4f} "
          f"val_acc {val_accuracy():.4f}")

v = val_accuracy()
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
