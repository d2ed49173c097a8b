"""Transfer on digits: pretrain on classes 0-4, then fine-tune on 5-9 in two phases with new optimizers.

expect: healthy
trap: the LR jumps 10x up (1e-3 pretrain -> 1e-2 head-only phase) and then down again with a brand-new Adam whose state is reset (fresh bias-corrected steps are large); at each phase switch the task/loss level also changes abruptly, and during the head-only phase most parameters have requires_grad=False -- none of this is an LR problem.

Phase 0: MLP backbone + head trained on digits 0-4 (Adam 1e-3).  Phase 1: new 5-way head for
digits 5-9, backbone frozen, head trained alone with Adam lr 1e-2.  Phase 2: everything
unfrozen, a NEW AdamW at lr 1e-3 for the whole net.  Final metric is accuracy on held-out
digits 5-9.
Measured: val_acc=0.9665.
"""
import time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(13)
np.random.seed(13)

CFG = {
    "pretrain": {"lr": 1e-3, "epochs": 8},
    "head_only": {"lr": 1e-2, "epochs": 3},
    "full": {"lr": 1e-3, "epochs": 12, "wd": 1e-2},
    "batch_size": 32,
    "width": 128,
}

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
src = y < 5
Xs, ys = torch.from_numpy(X[src]), torch.from_numpy(y[src]).long()
Xt_tr, Xt_va, yt_tr, yt_va = train_test_split(X[~src], y[~src] - 5, test_size=0.3,
                                              random_state=13, stratify=y[~src])
Xt_tr, Xt_va = torch.from_numpy(Xt_tr), torch.from_numpy(Xt_va)
yt_tr, yt_va = torch.from_numpy(yt_tr).long(), torch.from_numpy(yt_va).long()

backbone = nn.Sequential(
    nn.Linear(64, CFG["width"]), nn.ReLU(),
    nn.Linear(CFG["width"], CFG["width"]), nn.ReLU(),
)


def run_epochs(params_model, opt, Xd, yd, epochs, tag):
    for ep in range(epochs):
        perm = torch.randperm(len(Xd))
        tot, n = 0.0, 0
        for i in range(0, len(Xd), CFG["batch_size"]):
            idx = perm[i:i + CFG["batch_size"]]
            loss = F.cross_entropy(params_model(Xd[idx]), yd[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
            n += len(idx)
        print(f"[{tag}] epoch {ep} train_loss {tot / n:.4f}")


def acc(model, Xd, yd):
    with torch.no_grad():
        return (model(Xd).argmax(1) == yd).float().mean().item()


t0 = time.time()
# --- phase 0: pretrain on source classes -------------------------------------
src_model = nn.Sequential(backbone, nn.Linear(CFG["width"], 5))
opt = torch.optim.Adam(src_model.parameters(), lr=CFG["pretrain"]["lr"])
run_epochs(src_model, opt, Xs, ys, CFG["pretrain"]["epochs"], "pretrain")

# --- phase 1: new head only, high LR -------------------------------------------
head = nn.Linear(CFG["width"], 5)
tgt_model = nn.Sequential(backbone, head)
for p in backbone.parameters():
    p.requires_grad_(False)
opt = torch.optim.Adam(head.parameters(), lr=CFG["head_only"]["lr"])
run_epochs(tgt_model, opt, Xt_tr, yt_tr, CFG["head_only"]["epochs"], "head")
print(f"after head-only: val_acc {acc(tgt_model, Xt_va, yt_va):.4f}")

# --- phase 2: unfreeze all, new optimizer, lower LR ----------------------------
for p in backbone.parameters():
    p.requires_grad_(True)
opt = torch.optim.AdamW(tgt_model.parameters(), lr=CFG["full"]["lr"],
                        weight_decay=CFG["full"]["wd"])
run_epochs(tgt_model, opt, Xt_tr, yt_tr, CFG["full"]["epochs"], "full")

v = acc(tgt_model, Xt_va, yt_va)
print(f"train time {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={v:.4f} higher")
