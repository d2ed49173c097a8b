"""Fixed version of f3_lambda_absolute_lr.py: the LambdaLR lambda returns the multiplier (factor) instead of cfg.base_lr * factor, so the peak LR is base_lr, not base_lr**2.

Measured: val_acc=0.9809
"""
import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

torch.manual_seed(0)
torch.set_num_threads(1)


class Config:
    model_name = "resmlp"
    width = 96
    depth = 2
    base_lr = 0.02
    momentum = 0.9
    weight_decay = 5e-4
    micro_batch = 32
    accum = 2
    epochs = 16
    warmup_frac = 0.1
    label_smoothing = 0.05
    max_grad_norm = 2.0


class DigitsTable(Dataset):
    def __init__(self, images, labels, stats):
        mean, std = stats
        self.images = (images - mean) / std
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return {"pixels": self.images[idx], "label": self.labels[idx]}


def load_splits(val_fraction=0.35):
    bunch = load_digits()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target)
    order = torch.randperm(len(y))
    n_val = int(len(y) * val_fraction)
    va, tr = order[:n_val], order[n_val:]
    stats = (x[tr].mean(), x[tr].std())  # global pixel statistics
    return DigitsTable(x[tr], y[tr], stats), DigitsTable(x[va], y[va], stats)


class ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 2 * width)
        self.fc2 = nn.Linear(2 * width, width)

    def forward(self, x):
        return x + self.fc2(F.relu(self.fc1(self.norm(x))))


class ResMLP(nn.Module):
    def __init__(self, n_in, n_classes, width, depth):
        super().__init__()
        self.embed = nn.Linear(n_in, width)
        self.blocks = nn.ModuleList([ResidualBlock(width) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x):
        h = self.embed(x)
        for blk in self.blocks:
            h = blk(h)
        return self.head(self.norm(h))


MODEL_FACTORY = {
    "resmlp": lambda cfg: ResMLP(64, 10, cfg.width, cfg.depth),
}


def make_schedule(optimizer, cfg, total_steps):
    warmup = max(1, int(cfg.warmup_frac * total_steps))

    def lr_lambda(step):
        if step < warmup:
            factor = (step + 1) / warmup
        else:
            factor = max(0.0, (total_steps - step) / (total_steps - warmup))
        return factor

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


class Trainer:
    def __init__(self, cfg, model, callbacks=None):
        self.cfg = cfg
        self.model = model
        self.callbacks = callbacks or []
        decay, no_decay = [], []
        for name, p in model.named_parameters():
            (no_decay if p.ndim == 1 else decay).append(p)
        self.optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.base_lr, momentum=cfg.momentum, nesterov=True)
        self.scheduler = None
        self.step = 0

    def train_step(self, batch, is_boundary):
        logits = self.model(batch["pixels"])
        loss = F.cross_entropy(logits, batch["label"], label_smoothing=self.cfg.label_smoothing)
        (loss / self.cfg.accum).backward()
        if is_boundary:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.max_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.scheduler.step()
            self.step += 1
            for cb in self.callbacks:
                cb(self, loss.item())
        return loss.item()

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        hits = total = 0
        for batch in loader:
            hits += (self.model(batch["pixels"]).argmax(-1) == batch["label"]).sum().item()
            total += len(batch["label"])
        self.model.train()
        return hits / total

    def fit(self, train_loader, val_loader):
        total_steps = self.cfg.epochs * (len(train_loader) // self.cfg.accum)
        self.scheduler = make_schedule(self.optimizer, self.cfg, total_steps)
        best, best_state = -1.0, None
        self.model.train()
        for epoch in range(self.cfg.epochs):
            for i, batch in enumerate(train_loader):
                self.train_step(batch, is_boundary=(i + 1) % self.cfg.accum == 0)
            acc = self.validate(val_loader)
            if acc > best:
                best, best_state = acc, io.BytesIO()
                torch.save(self.model.state_dict(), best_state)
        best_state.seek(0)
        self.model.load_state_dict(torch.load(best_state))
        return best


class LossTracker:
    def __init__(self):
        self.losses = []

    def __call__(self, trainer, loss):
        self.losses.append(loss)


def main():
    cfg = Config()
    train_ds, val_ds = load_splits()
    gen = torch.Generator().manual_seed(0)
    train_loader = DataLoader(train_ds, batch_size=None, num_workers=0,
                              sampler=BatchSampler(RandomSampler(train_ds, generator=gen), cfg.micro_batch, drop_last=True))
    val_loader = DataLoader(val_ds, batch_size=None, num_workers=0,
                            sampler=BatchSampler(SequentialSampler(val_ds), 256, drop_last=False))
    model = MODEL_FACTORY[cfg.model_name](cfg)
    trainer = Trainer(cfg, model, callbacks=[LossTracker()])
    trainer.fit(train_loader, val_loader)
    print(f"NNDOCTOR_METRIC val_acc={trainer.validate(val_loader):.4f} higher")


if __name__ == "__main__":
    main()
