"""Fixed version of f7_focal_loss_log.py: clamp the sigmoid output to [1e-6, 1 - 1e-6] in focal_loss before taking log(p) and log(1 - p).

expect: healthy


Measured: val_acc=0.9704
"""
import io
import math

import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

torch.manual_seed(0)
torch.set_num_threads(1)

SETTINGS = {
    "net": "tabular_mlp",
    "hidden": (64, 32),
    "max_lr": 1e-2,
    "weight_decay": 1e-4,
    "micro_batch": 16,
    "accum_steps": 2,
    "epochs": 24,
    "pct_start": 0.2,
    "focal_gamma": 2.0,
    "focal_alpha": 0.5,
    "clip": 10.0,
}


class TumourDataset(Dataset):
    def __init__(self, features, labels):
        self.features, self.labels = features, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return {"features": self.features[idx], "label": self.labels[idx]}


def load_data():
    bunch = load_breast_cancer()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.float32)  # 1 = benign
    order = torch.randperm(len(y))
    tr, va = order[:400], order[400:]
    mean, std = x[tr].mean(0), x[tr].std(0)
    return TumourDataset((x[tr] - mean) / std, y[tr]), TumourDataset((x[va] - mean) / std, y[va])


NETS = {}


def register_net(name):
    def deco(builder):
        NETS[name] = builder
        return builder
    return deco


class TabularMLP(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        layers, d = [], n_in
        for h in hidden:
            layers += [nn.Linear(d, h), nn.SiLU()]
            d = h
        self.encoder = nn.Sequential(*layers)
        self.heads = nn.ModuleDict({"diagnosis": nn.Linear(d, 1)})

    def forward(self, x):
        z = self.encoder(x)
        return {k: h(z).squeeze(-1) for k, h in self.heads.items()}


@register_net("tabular_mlp")
def _tabular_mlp(cfg, n_in):
    return TabularMLP(n_in, cfg["hidden"])


def focal_loss(logits, targets, gamma, alpha):
    p = torch.sigmoid(logits).clamp(1e-6, 1 - 1e-6)
    pos = -alpha * (1 - p) ** gamma * targets * torch.log(p)
    neg = -(1 - alpha) * p ** gamma * (1 - targets) * torch.log(1 - p)
    return (pos + neg).mean()


class OneCycle:
    """Hand-written one-cycle schedule: linear warmup to max_lr, cosine anneal to max_lr/100."""

    def __init__(self, optimizer, max_lr, total, pct_start):
        self.opt, self.max_lr, self.total = optimizer, max_lr, total
        self.up = max(1, int(total * pct_start))

    def __call__(self, step):
        if step < self.up:
            lr = self.max_lr * (0.1 + 0.9 * step / self.up)
        else:
            t = (step - self.up) / max(1, self.total - self.up)
            lr = self.max_lr / 100 + (self.max_lr - self.max_lr / 100) * 0.5 * (1 + math.cos(math.pi * t))
        for g in self.opt.param_groups:
            g["lr"] = lr


class Trainer:
    def __init__(self, model, cfg, callbacks=()):
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=cfg["max_lr"], weight_decay=cfg["weight_decay"])
        self.callbacks = list(callbacks)
        self.global_step = 0
        self.schedule = None

    def train_step(self, micro_batches):
        self.schedule(self.global_step)
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for mb in micro_batches:
            out = self.model(mb["features"])
            loss = focal_loss(out["diagnosis"], mb["label"], self.cfg["focal_gamma"], self.cfg["focal_alpha"])
            (loss / len(micro_batches)).backward()
            total += loss.item() / len(micro_batches)
        nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["clip"])
        self.optimizer.step()
        self.global_step += 1
        for cb in self.callbacks:
            cb(self, total)

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        correct = n = 0
        for b in loader:
            pred = (self.model(b["features"])["diagnosis"] > 0).float()
            correct += (pred == b["label"]).sum().item()
            n += len(b["label"])
        self.model.train()
        return correct / n

    def fit(self, train_loader, val_loader):
        total_steps = self.cfg["epochs"] * (len(train_loader) // self.cfg["accum_steps"])
        self.schedule = OneCycle(self.optimizer, self.cfg["max_lr"], total_steps, self.cfg["pct_start"])
        self.model.train()
        for epoch in range(self.cfg["epochs"]):
            group = []
            for mb in train_loader:
                group.append(mb)
                if len(group) == self.cfg["accum_steps"]:
                    self.train_step(group)
                    group = []
        return self.validate(val_loader)


def main():
    cfg = SETTINGS
    train_ds, val_ds = load_data()
    gen = torch.Generator().manual_seed(0)
    train_loader = DataLoader(train_ds, batch_size=None, num_workers=0,
                              sampler=BatchSampler(RandomSampler(train_ds, generator=gen), cfg["micro_batch"], True))
    val_loader = DataLoader(val_ds, batch_size=None, num_workers=0,
                            sampler=BatchSampler(SequentialSampler(val_ds), 256, False))
    model = NETS[cfg["net"]](cfg, n_in=30)
    history = []
    trainer = Trainer(model, cfg, callbacks=[lambda t, loss: history.append(loss)])
    trainer.fit(train_loader, val_loader)

    # ship the final weights through an in-memory checkpoint, as the serving code does
    blob = io.BytesIO()
    torch.save(model.state_dict(), blob)
    blob.seek(0)
    served = NETS[cfg["net"]](cfg, n_in=30)
    served.load_state_dict(torch.load(blob))
    trainer.model = served
    print(f"NNDOCTOR_METRIC val_acc={trainer.validate(val_loader):.4f} higher")


if __name__ == "__main__":
    main()
