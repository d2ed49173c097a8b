"""Digits MLP: frozen PCA-whitening input layer, full-batch Rprop, magnitude pruning (torch.nn.utils.prune) halfway through training.
expect: healthy
trap: the first layer is frozen on purpose (requires_grad=False, PCA whitening weights); after step 100 the two trainable Linear layers carry prune masks, so 60%/30% of their effective weights are exactly zero, the parameters are renamed weight_orig (+ weight_mask buffer) and the masked entries get exactly zero gradient and never move; Rprop's update size is unrelated to the gradient magnitude (per-weight step sizes that grow x1.2 or shrink x0.5 with sign agreement, clamped to [1e-6, 2e-3]); full-batch training, so the loss curve is smooth but the update/weight ratio is unusual; the L2 penalty is added to the loss by hand because Rprop has no weight_decay

The input layer holds a PCA whitening transform fitted on the training data
and is frozen. The rest trains with full-batch Rprop. At step 100 the network
is magnitude-pruned with prune.l1_unstructured; the nn.Parameter object is
kept (now called weight_orig), so the Rprop state stays valid and training
simply continues on the surviving weights. Pruned weights are meant to stay 0.
Measured: val_acc=0.9778 (seeds 1, 2: 0.9611, 0.9685)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from torch.nn.utils import prune

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
Xtr, Xva, ytr, yva = train_test_split(X.astype(np.float32), y, test_size=0.3, random_state=SEED, stratify=y)

pca = PCA(n_components=40, whiten=True, random_state=SEED).fit(Xtr)
whiten = nn.Linear(64, 40)
with torch.no_grad():
    W = pca.components_ / np.sqrt(pca.explained_variance_)[:, None]
    whiten.weight.copy_(torch.tensor(W, dtype=torch.float32))
    whiten.bias.copy_(torch.tensor(-(W @ pca.mean_), dtype=torch.float32))
whiten.requires_grad_(False)

model = nn.Sequential(whiten, nn.Linear(40, 128), nn.ReLU(), nn.Linear(128, 10))
Xtr, Xva = torch.tensor(Xtr), torch.tensor(Xva)
ytr, yva = torch.tensor(ytr), torch.tensor(yva)

opt = torch.optim.Rprop([p for p in model.parameters() if p.requires_grad], lr=5e-4, etas=(0.5, 1.2),
                        step_sizes=(1e-6, 2e-3))

STEPS, PRUNE_AT, L2 = 200, 100, 3e-3
for step in range(STEPS):
    if step == PRUNE_AT:
        prune.l1_unstructured(model[1], "weight", amount=0.6)
        prune.l1_unstructured(model[3], "weight", amount=0.3)
        zeros = sum(int((m.weight == 0).sum()) for m in (model[1], model[3]))
        print(f"step {step}: pruned, {zeros} weights held at zero; params now {[n for n, _ in model.named_parameters()]}")
    model.train()
    opt.zero_grad()
    loss = F.cross_entropy(model(Xtr), ytr)
    # Rprop has no weight_decay argument: add the L2 term to the objective (effective weights only)
    penalty = L2 * sum(m.weight.pow(2).sum() for m in (model[1], model[3]))
    (loss + penalty).backward()
    opt.step()
    if step % 40 == 0 or step == STEPS - 1:
        model.eval()
        with torch.no_grad():
            out = model(Xva)
            print(f"step {step:3d} train_loss {loss.item():.4f} val_loss {F.cross_entropy(out, yva).item():.4f} "
                  f"val_acc {(out.argmax(1) == yva).float().mean().item():.4f}")

model.eval()
with torch.no_grad():
    val_acc = (model(Xva).argmax(1) == yva).float().mean().item()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
