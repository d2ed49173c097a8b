"""Fixed version of f1_accum_zero_grad.py: call self.optimizer.zero_grad(set_to_none=True) right after optimizer.step() in Trainer.train_step, so each accumulation window starts from zero gradients.

expect: healthy


Measured: val_acc=0.9613
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
    "model": "mt_mlp",
    "hidden": 64,
    "lr": 0.05,
    "momentum": 0.9,
    "micro_batch": 32,
    "accum_steps": 2,
    "epochs": 14,
    "clip_norm": 8.0,
    "warmup_steps": 20,
    "ema_decay": 0.95,
}


# ----------------------------------------------------------------------------- data
class DigitsDataset(Dataset):
    def __init__(self, x, y, mean, std):
        self.x = (x - mean) / std
        self.y = y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        # idx is a list of indices (batched sampling), two tasks: digit class and parity
        return {"x": self.x[idx], "digit": self.y[idx], "parity": self.y[idx] % 2}


def build_datasets():
    d = load_digits()
    x = torch.tensor(d.data, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    perm = torch.randperm(len(y))
    tr, va = perm[:1100], perm[1100:]
    mean = x[tr].mean(0)
    std = x[tr].std(0).clamp_min(1e-3)
    return DigitsDataset(x[tr], y[tr], mean, std), DigitsDataset(x[va], y[va], mean, std)


# ----------------------------------------------------------------------------- models
MODELS = {}


def register(name):
    def deco(cls):
        MODELS[name] = cls
        return cls
    return deco


@register("mt_mlp")
class MultiTaskMLP(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
        )
        self.heads = nn.ModuleDict({"digit": nn.Linear(hidden, 10), "parity": nn.Linear(hidden, 2)})

    def forward(self, x):
        h = self.backbone(x)
        return {k: head(h) for k, head in self.heads.items()}


def build_model(name, **kw):
    return MODELS[name](**kw)


# ----------------------------------------------------------------------------- callbacks
class Callback:
    def on_epoch_start(self, trainer): pass
    def on_step_end(self, trainer): pass
    def on_validation_end(self, trainer, metrics): pass


class ZeroGradOnEpochStart(Callback):
    def on_epoch_start(self, trainer):
        trainer.optimizer.zero_grad(set_to_none=True)


class EMACallback(Callback):
    def __init__(self, model, decay):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def on_step_end(self, trainer):
        for k, v in trainer.model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(self.decay).add_(v.detach(), alpha=1 - self.decay)
            else:
                self.shadow[k].copy_(v)


class BestCheckpoint(Callback):
    def __init__(self):
        self.best = -1.0
        self.buffer = None

    def on_validation_end(self, trainer, metrics):
        if metrics["acc"] > self.best:
            self.best = metrics["acc"]
            self.buffer = io.BytesIO()
            torch.save(trainer.model.state_dict(), self.buffer)


def warmup_cosine(warmup, total):
    def fn(step):
        if step < warmup:
            return (step + 1) / warmup
        p = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * p))
    return fn


def clip_gradients(model, max_norm):
    params = [p for p in model.parameters() if p.grad is not None]
    return torch.nn.utils.clip_grad_norm_(params, max_norm)


# ----------------------------------------------------------------------------- trainer
class Trainer:
    def __init__(self, model, optimizer, scheduler, accum_steps, clip_norm, callbacks):
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.accum_steps = accum_steps
        self.clip_norm = clip_norm
        self.callbacks = callbacks
        self.global_step = 0

    def compute_loss(self, batch):
        out = self.model(batch["x"])
        return F.cross_entropy(out["digit"], batch["digit"]) + 0.5 * F.cross_entropy(out["parity"], batch["parity"])

    def train_step(self, batch, micro_idx):
        loss = self.compute_loss(batch) / self.accum_steps
        loss.backward()
        if (micro_idx + 1) % self.accum_steps == 0:
            clip_gradients(self.model, self.clip_norm)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.scheduler.step()
            self.global_step += 1
            for cb in self.callbacks:
                cb.on_step_end(self)
        return loss.item()

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        correct, n = 0, 0
        for batch in loader:
            pred = self.model(batch["x"])["digit"].argmax(1)
            correct += (pred == batch["digit"]).sum().item()
            n += len(pred)
        self.model.train()
        return {"acc": correct / n}

    def fit(self, train_loader, val_loader, epochs):
        self.model.train()
        for epoch in range(epochs):
            for cb in self.callbacks:
                cb.on_epoch_start(self)
            for i, batch in enumerate(train_loader):
                self.train_step(batch, i)
            metrics = self.validate(val_loader)
            for cb in self.callbacks:
                cb.on_validation_end(self, metrics)
        return metrics


def main():
    train_ds, val_ds = build_datasets()
    g = torch.Generator().manual_seed(0)
    train_sampler = BatchSampler(RandomSampler(train_ds, generator=g), CONFIG["micro_batch"], drop_last=True)
    train_loader = DataLoader(train_ds, sampler=train_sampler, batch_size=None, num_workers=0)
    val_sampler = BatchSampler(SequentialSampler(val_ds), 256, drop_last=False)
    val_loader = DataLoader(val_ds, sampler=val_sampler, batch_size=None, num_workers=0)

    model = build_model(CONFIG["model"], n_in=64, hidden=CONFIG["hidden"])
    optimizer = torch.optim.SGD(model.parameters(), lr=CONFIG["lr"], momentum=CONFIG["momentum"])
    steps_per_epoch = len(train_loader) // CONFIG["accum_steps"]
    total = steps_per_epoch * CONFIG["epochs"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(CONFIG["warmup_steps"], total))
    ema = EMACallback(model, CONFIG["ema_decay"])
    ckpt = BestCheckpoint()
    trainer = Trainer(model, optimizer, scheduler, CONFIG["accum_steps"], CONFIG["clip_norm"],
                      callbacks=[ZeroGradOnEpochStart(), ema, ckpt])
    trainer.fit(train_loader, val_loader, CONFIG["epochs"])

    # evaluate the EMA weights, restored through an in-memory checkpoint round trip
    buf = io.BytesIO()
    torch.save(ema.shadow, buf)
    buf.seek(0)
    eval_model = build_model(CONFIG["model"], n_in=64, hidden=CONFIG["hidden"])
    eval_model.load_state_dict(torch.load(buf))
    trainer.model = eval_model
    final = trainer.validate(val_loader)
    print(f"NNDOCTOR_METRIC val_acc={final['acc']:.4f} higher")


if __name__ == "__main__":
    main()
