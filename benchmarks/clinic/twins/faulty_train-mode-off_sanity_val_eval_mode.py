"""Fixed version of f5_sanity_val_eval_mode.py: validate() calls self.model.train() before returning, so training runs in train mode after the sanity check and after every validation.

Measured: val_acc=0.9732
"""
import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

torch.manual_seed(0)
torch.set_num_threads(1)

HPARAMS = dict(
    model="deep_bn_mlp",
    depth=7,
    width=64,
    dropout=0.1,
    lr=0.1,
    momentum=0.9,
    weight_decay=1e-4,
    micro_batch=32,
    accum_steps=2,
    epochs=16,
    warmup_steps=10,
    milestones=(0.6, 0.85),
    clip=5.0,
)


class PixelDataset(Dataset):
    def __init__(self, pixels, labels):
        self.pixels, self.labels = pixels, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return {"inputs": self.pixels[idx], "targets": self.labels[idx]}


def prepare_data():
    raw = load_digits()
    x = torch.tensor(raw.data, dtype=torch.float32)
    y = torch.tensor(raw.target)
    idx = torch.randperm(len(y))
    tr, va = idx[:1200], idx[1200:]
    mu, sigma = x[tr].mean(0), x[tr].std(0).clamp_min(1.0)
    return PixelDataset((x[tr] - mu) / sigma, y[tr]), PixelDataset((x[va] - mu) / sigma, y[va])


REGISTRY = {}


def register(name):
    def _wrap(fn):
        REGISTRY[name] = fn
        return fn
    return _wrap


class Block(nn.Module):
    def __init__(self, d_in, d_out, p):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        self.bn = nn.BatchNorm1d(d_out)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        return self.drop(F.relu(self.bn(self.fc(x))))


class DeepBNMLP(nn.Module):
    def __init__(self, n_in, n_out, width, depth, p):
        super().__init__()
        dims = [n_in] + [width] * depth
        self.blocks = nn.ModuleList([Block(a, b, p) for a, b in zip(dims[:-1], dims[1:])])
        self.classifier = nn.Linear(width, n_out)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.classifier(x)


@register("deep_bn_mlp")
def _deep_bn_mlp(hp):
    return DeepBNMLP(64, 10, hp["width"], hp["depth"], hp["dropout"])


def warmup_multistep(warmup, total, milestones, gamma=0.1):
    cut = [int(m * total) for m in milestones]

    def f(step):
        if step < warmup:
            return (step + 1) / warmup
        return gamma ** sum(step >= c for c in cut)
    return f


class Trainer:
    def __init__(self, model, hp, hooks=None):
        self.model, self.hp = model, hp
        self.hooks = hooks or {"after_step": [], "after_epoch": []}
        self.optimizer = torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=hp["momentum"],
                                         weight_decay=hp["weight_decay"])
        self.scheduler = None
        self.step_count = 0

    def emit(self, event, **kw):
        for fn in self.hooks.get(event, []):
            fn(self, **kw)

    def train_step(self, batch, boundary):
        loss = F.cross_entropy(self.model(batch["inputs"]), batch["targets"])
        (loss / self.hp["accum_steps"]).backward()
        if boundary:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.hp["clip"])
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step_count += 1
            self.emit("after_step", loss=loss.item())

    @torch.no_grad()
    def validate(self, loader, max_batches=None):
        self.model.eval()
        right = count = 0
        for i, batch in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            right += (self.model(batch["inputs"]).argmax(1) == batch["targets"]).sum().item()
            count += len(batch["targets"])
        self.model.train()
        return right / count

    def fit(self, train_loader, val_loader):
        total = self.hp["epochs"] * (len(train_loader) // self.hp["accum_steps"])
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, warmup_multistep(self.hp["warmup_steps"], total, self.hp["milestones"]))
        self.model.train()
        self.validate(val_loader, max_batches=1)  # sanity check: the eval path runs end to end
        for epoch in range(self.hp["epochs"]):
            for i, batch in enumerate(train_loader):
                self.train_step(batch, boundary=(i + 1) % self.hp["accum_steps"] == 0)
            self.emit("after_epoch", epoch=epoch, val_acc=self.validate(val_loader))


class KeepBest:
    def __init__(self):
        self.score, self.state = -1.0, None

    def __call__(self, trainer, epoch, val_acc):
        if val_acc >= self.score:
            self.score, self.state = val_acc, io.BytesIO()
            torch.save(trainer.model.state_dict(), self.state)


def main():
    hp = HPARAMS
    train_ds, val_ds = prepare_data()
    g = torch.Generator().manual_seed(0)
    train_loader = DataLoader(train_ds, batch_size=None, num_workers=0,
                              sampler=BatchSampler(RandomSampler(train_ds, generator=g), hp["micro_batch"], drop_last=True))
    val_loader = DataLoader(val_ds, batch_size=None, num_workers=0,
                            sampler=BatchSampler(SequentialSampler(val_ds), 200, drop_last=False))
    model = REGISTRY[hp["model"]](hp)
    keep_best = KeepBest()
    losses = []
    trainer = Trainer(model, hp, hooks={"after_step": [lambda t, loss: losses.append(loss)],
                                        "after_epoch": [keep_best]})
    trainer.fit(train_loader, val_loader)

    keep_best.state.seek(0)
    model.load_state_dict(torch.load(keep_best.state))
    print(f"NNDOCTOR_METRIC val_acc={trainer.validate(val_loader):.4f} higher")


if __name__ == "__main__":
    main()
