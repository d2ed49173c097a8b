"""Fixed version of f4_stem_not_in_groups.py: add "stem" to CONFIG["lr_mult"] so build_param_groups puts the input stem in an AdamW param group.

expect: healthy


Measured: val_acc=0.9525
"""
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

torch.manual_seed(0)
torch.set_num_threads(1)

CONFIG = {
    "backbone": "stem_encoder",
    "stem_dim": 16,
    "hidden": 48,
    "base_lr": 2e-3,
    "lr_mult": {"stem": 1.0, "encoder": 1.0, "heads": 3.0},
    "weight_decay": 1e-2,
    "micro_batch": 24,
    "accum_steps": 3,
    "epochs": 20,
    "warmup_steps": 15,
    "aux_weight": 0.3,
    "clip": 1.0,
}


class DigitsMultiTask(Dataset):
    """Returns dict batches: pixels, digit label, and an auxiliary 'high digit' flag."""

    def __init__(self, pixels, digits, mean, std):
        self.pixels = (pixels - mean) / std
        self.digits = digits

    def __len__(self):
        return len(self.digits)

    def __getitem__(self, idx):
        digit = self.digits[idx]
        return {"pixels": self.pixels[idx], "digit": digit, "high": (digit >= 5).float()}


def build_data():
    bunch = load_digits()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target)
    order = torch.randperm(len(y))
    tr, va = order[:1250], order[1250:]
    mean, std = x[tr].mean(0), x[tr].std(0).clamp_min(1.0)
    return DigitsMultiTask(x[tr], y[tr], mean, std), DigitsMultiTask(x[va], y[va], mean, std)


BACKBONES = {}


def register_backbone(name):
    def wrap(cls):
        BACKBONES[name] = cls
        return cls
    return wrap


@register_backbone("stem_encoder")
class StemEncoderNet(nn.Module):
    def __init__(self, n_in, stem_dim, hidden):
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(n_in, stem_dim), nn.ReLU())
        self.encoder = nn.Sequential(nn.Linear(stem_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.ModuleDict({
            "digit": nn.Linear(hidden, 10),
            "high": nn.Linear(hidden, 1),
        })

    def forward(self, x):
        z = self.encoder(self.stem(x))
        return {name: head(z) for name, head in self.heads.items()}


def build_param_groups(model, cfg):
    groups = []
    for module_name, mult in cfg["lr_mult"].items():
        module = getattr(model, module_name)
        groups.append({"params": list(module.parameters()), "lr": cfg["base_lr"] * mult,
                       "base_lr": cfg["base_lr"] * mult, "name": module_name})
    return groups


class WarmupCosine:
    """Manual per-group LR control (each group keeps its own base_lr)."""

    def __init__(self, optimizer, warmup, total):
        self.optimizer, self.warmup, self.total = optimizer, warmup, total

    def set(self, step):
        if step < self.warmup:
            f = (step + 1) / self.warmup
        else:
            f = 0.5 * (1 + math.cos(math.pi * (step - self.warmup) / max(1, self.total - self.warmup)))
        for g in self.optimizer.param_groups:
            g["lr"] = g["base_lr"] * f


class Trainer:
    def __init__(self, model, optimizer, cfg, callbacks=()):
        self.model, self.optimizer, self.cfg = model, optimizer, cfg
        self.callbacks = list(callbacks)
        self.global_step = 0
        self.schedule = None

    def losses(self, out, batch):
        main = F.cross_entropy(out["digit"], batch["digit"])
        aux = F.binary_cross_entropy_with_logits(out["high"].squeeze(-1), batch["high"])
        return main + self.cfg["aux_weight"] * aux

    def train_step(self, micro_batches):
        self.schedule.set(self.global_step)
        self.optimizer.zero_grad(set_to_none=True)
        for mb in micro_batches:
            loss = self.losses(self.model(mb["pixels"]), mb) / len(micro_batches)
            loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["clip"])
        self.optimizer.step()
        self.global_step += 1
        for cb in self.callbacks:
            cb.on_step(self, loss.item() * len(micro_batches))

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        correct = seen = 0
        for b in loader:
            correct += (self.model(b["pixels"])["digit"].argmax(-1) == b["digit"]).sum().item()
            seen += len(b["digit"])
        self.model.train()
        return correct / seen

    def fit(self, train_loader, val_loader):
        steps_per_epoch = len(train_loader) // self.cfg["accum_steps"]
        self.schedule = WarmupCosine(self.optimizer, self.cfg["warmup_steps"], steps_per_epoch * self.cfg["epochs"])
        self.model.train()
        for epoch in range(self.cfg["epochs"]):
            pending = []
            for mb in train_loader:
                pending.append(mb)
                if len(pending) == self.cfg["accum_steps"]:
                    self.train_step(pending)
                    pending = []
            acc = self.validate(val_loader)
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, acc)


class CheckpointOnImprove:
    def __init__(self):
        self.best, self.blob = -1.0, None

    def on_step(self, trainer, loss):
        pass

    def on_epoch_end(self, trainer, epoch, acc):
        if acc > self.best:
            self.best, self.blob = acc, io.BytesIO()
            torch.save({"epoch": epoch, "model": trainer.model.state_dict()}, self.blob)

    def restore(self, model):
        self.blob.seek(0)
        model.load_state_dict(torch.load(self.blob)["model"])


def main():
    cfg = CONFIG
    train_ds, val_ds = build_data()
    gen = torch.Generator().manual_seed(0)
    train_loader = DataLoader(train_ds, batch_size=None, num_workers=0,
                              sampler=BatchSampler(RandomSampler(train_ds, generator=gen), cfg["micro_batch"], True))
    val_loader = DataLoader(val_ds, batch_size=None, num_workers=0,
                            sampler=BatchSampler(SequentialSampler(val_ds), 512, False))
    model = BACKBONES[cfg["backbone"]](64, cfg["stem_dim"], cfg["hidden"])
    optimizer = torch.optim.AdamW(build_param_groups(model, cfg), lr=cfg["base_lr"], weight_decay=cfg["weight_decay"])
    ckpt = CheckpointOnImprove()
    trainer = Trainer(model, optimizer, cfg, callbacks=[ckpt])
    trainer.fit(train_loader, val_loader)

    deploy = BACKBONES[cfg["backbone"]](64, cfg["stem_dim"], cfg["hidden"])
    ckpt.restore(deploy)
    trainer.model = deploy
    print(f"NNDOCTOR_METRIC val_acc={trainer.validate(val_loader):.4f} higher")


if __name__ == "__main__":
    main()
