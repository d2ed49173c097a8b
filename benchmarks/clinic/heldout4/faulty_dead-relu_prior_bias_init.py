"""Imbalanced fraud-detection MLP whose "prior probability" bias init (RetinaNet-style) is applied to every Linear layer instead of only the output head, leaving most hidden ReLUs dead.
expect: dead-relu
allow: poor-initialization, vanishing-gradient, loss-not-decreasing

init_weights() follows the focal-loss paper trick of initialising the output bias to
-log((1 - pi) / pi) so the untrained model predicts the base rate pi (~0.2 here). The loop
sets that bias (about -1.4) on every nn.Linear, hidden layers included. With He-initialised
weights a hidden unit's pre-activation then sits 1-3 standard deviations below zero: 89% of
the last hidden layer's ReLUs output zero for every training example at initialisation and
about 40% are still dead at the end, so the classifier trains on a fraction of its capacity
and ranks the held-out transactions much worse.
Measured: faulty val_auc=0.7505 vs fixed val_auc=0.9278
"""
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

torch.manual_seed(0)
torch.set_num_threads(1)

CONFIG = {
    "arch": "fraud_mlp",
    "n_features": 20,
    "hidden": [64, 64, 64],
    "lr": 3e-3,
    "micro_batch": 16,
    "accum_steps": 4,
    "epochs": 7,
    "warmup_steps": 20,
    "ema_decay": 0.98,
    "clip": 5.0,
}


def synth_transactions(n=4000, d=20, positive_rate=0.2):
    x = torch.randn(n, d)
    proj = torch.randn(d, 8) / math.sqrt(d)
    s = torch.tanh(1.5 * x @ proj)
    score = s[:, 0] * s[:, 1] + s[:, 2] - 0.8 * s[:, 3] * s[:, 4] + 0.5 * s[:, 5] ** 2 + 0.2 * torch.randn(n)
    y = (score > torch.quantile(score, 1 - positive_rate)).float()
    return x, y


class TransactionDataset(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        return {"x": self.x[idx], "is_fraud": self.y[idx]}


ARCHS = {}


def register(name):
    def deco(cls):
        ARCHS[name] = cls
        return cls
    return deco


@register("fraud_mlp")
class FraudMLP(nn.Module):
    def __init__(self, n_features, hidden):
        super().__init__()
        dims = [n_features] + list(hidden)
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])
        self.heads = nn.ModuleDict({"fraud": nn.Linear(dims[-1], 1)})

    def forward(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return {k: head(x).squeeze(-1) for k, head in self.heads.items()}


def init_weights(model, prior):
    bias_value = -math.log((1 - prior) / prior)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.constant_(m.bias, bias_value)


def roc_auc(scores, labels):
    ranks = scores.argsort().argsort().float() + 1
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return ((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


class EMA:
    def __init__(self, model, decay):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model):
        for k, v in model.state_dict().items():
            self.shadow[k].mul_(self.decay).add_(v, alpha=1 - self.decay)


class Trainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        self.ema = EMA(model, cfg["ema_decay"])
        self.callbacks = []
        self.step = 0
        self.total_steps = None

    def set_lr(self):
        w = self.cfg["warmup_steps"]
        if self.step < w:
            f = (self.step + 1) / w
        else:
            f = 0.5 * (1 + math.cos(math.pi * (self.step - w) / max(1, self.total_steps - w)))
        for g in self.optimizer.param_groups:
            g["lr"] = self.cfg["lr"] * f

    def train_step(self, micro_batches):
        self.set_lr()
        self.optimizer.zero_grad(set_to_none=True)
        for mb in micro_batches:
            logits = self.model(mb["x"])["fraud"]
            loss = F.binary_cross_entropy_with_logits(logits, mb["is_fraud"]) / len(micro_batches)
            loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["clip"])
        self.optimizer.step()
        self.ema.update(self.model)
        self.step += 1
        for cb in self.callbacks:
            cb(self)

    @torch.no_grad()
    def validate(self, loader, model=None):
        model = model or self.model
        model.eval()
        scores, labels = [], []
        for b in loader:
            scores.append(model(b["x"])["fraud"])
            labels.append(b["is_fraud"])
        model.train()
        return roc_auc(torch.cat(scores), torch.cat(labels))

    def fit(self, train_loader, val_loader):
        self.total_steps = self.cfg["epochs"] * (len(train_loader) // self.cfg["accum_steps"])
        self.model.train()
        for epoch in range(self.cfg["epochs"]):
            buf = []
            for mb in train_loader:
                buf.append(mb)
                if len(buf) == self.cfg["accum_steps"]:
                    self.train_step(buf)
                    buf = []
            self.validate(val_loader)


def main():
    cfg = CONFIG
    x, y = synth_transactions(d=cfg["n_features"])
    train_ds, val_ds = TransactionDataset(x[:3000], y[:3000]), TransactionDataset(x[3000:], y[3000:])
    gen = torch.Generator().manual_seed(0)
    train_loader = DataLoader(train_ds, batch_size=None, num_workers=0,
                              sampler=BatchSampler(RandomSampler(train_ds, generator=gen), cfg["micro_batch"], True))
    val_loader = DataLoader(val_ds, batch_size=None, num_workers=0,
                            sampler=BatchSampler(SequentialSampler(val_ds), 500, False))

    model = ARCHS[cfg["arch"]](cfg["n_features"], cfg["hidden"])
    init_weights(model, prior=train_ds.y.mean().item())
    trainer = Trainer(model, cfg)
    trainer.fit(train_loader, val_loader)

    # evaluate the EMA weights after an in-memory checkpoint round trip
    buf = io.BytesIO()
    torch.save(trainer.ema.shadow, buf)
    buf.seek(0)
    ema_model = ARCHS[cfg["arch"]](cfg["n_features"], cfg["hidden"])
    ema_model.load_state_dict(torch.load(buf))
    print(f"NNDOCTOR_METRIC val_auc={trainer.validate(val_loader, model=ema_model):.4f} higher")


if __name__ == "__main__":
    main()
