"""IRNN sequence regressor whose gradient-clipping callback is registered on the after-step event, so clipping never touches the gradients the optimizer uses.
expect: exploding-gradient
allow: non-finite, learning-rate-too-high, loss-not-decreasing

The model is a ReLU RNN with identity-initialised recurrent weights (IRNN, Le et al. 2015)
that regresses an exponentially weighted sum of a 40-step noisy signal. Such models train
well with SGD only with gradient clipping: once an update pushes the recurrent matrix above
spectral radius 1, backpropagation through 40 steps multiplies the gradient by orders of
magnitude. The Trainer has a GradClip callback, but it is hooked on "after_step", which fires
after optimizer.step(): the optimizer always applies the raw gradient and the clip only
rescales gradients that are about to be zeroed. Around step 60 the gradient norm jumps from
~2 to 3e3, then 2e4, 9e4, 5e8 and the weights become NaN a dozen steps later; the best
checkpoint kept by validation MSE is the one from the end of epoch 1.
Measured: faulty val_mse=2.5628 vs fixed val_mse=0.0001
"""
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

torch.manual_seed(0)
torch.set_num_threads(1)

CFG = {
    "seq_len": 40,
    "n_train": 4096,
    "n_val": 1024,
    "hidden": 32,
    "lr": 0.005,
    "momentum": 0.9,
    "batch": 32,
    "accum": 2,
    "epochs": 5,
    "warmup": 40,
    "clip_norm": 1.0,
}


class SmoothedSignal(Dataset):
    """Noisy 1-d signal; the target is its exponentially weighted sum (decay 0.8, newest weighted most)."""

    def __init__(self, n, seq_len, gen, decay=0.8):
        self.seq = torch.randn(n, seq_len, 1, generator=gen)
        weights = decay ** torch.arange(seq_len - 1, -1, -1, dtype=torch.float32)
        target = (self.seq.squeeze(-1) * weights).sum(1)
        self.target = target / math.sqrt((weights ** 2).sum())

    def __len__(self):
        return len(self.target)

    def __getitem__(self, idx):
        return {"seq": self.seq[idx], "target": self.target[idx]}


MODEL_ZOO = {}


def model_zoo(name):
    def reg(cls):
        MODEL_ZOO[name] = cls
        return cls
    return reg


@model_zoo("irnn")
class IRNNRegressor(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        self.rnn = nn.RNN(n_in, hidden, nonlinearity="relu", batch_first=True)
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(torch.eye(hidden))
            self.rnn.bias_hh_l0.zero_()
            self.rnn.bias_ih_l0.zero_()
        self.heads = nn.ModuleDict({"sum": nn.Linear(hidden, 1)})

    def forward(self, seq):
        _, h_n = self.rnn(seq)
        return {"sum": self.heads["sum"](h_n[-1]).squeeze(-1)}


class GradClip:
    def __init__(self, max_norm):
        self.max_norm = max_norm
        self.norms = []

    def __call__(self, trainer):
        params = [p for p in trainer.model.parameters() if p.grad is not None]
        if params:
            self.norms.append(float(nn.utils.clip_grad_norm_(params, self.max_norm)))


class Trainer:
    EVENTS = ("before_step", "after_step", "after_epoch")

    def __init__(self, model, optimizer, scheduler, cfg):
        self.model, self.optimizer, self.scheduler, self.cfg = model, optimizer, scheduler, cfg
        self.callbacks = {e: [] for e in self.EVENTS}
        self.step = 0

    def add_callback(self, event, fn):
        self.callbacks[event].append(fn)

    def _fire(self, event):
        for fn in self.callbacks[event]:
            fn(self)

    def train_step(self, micro_batches):
        for mb in micro_batches:
            pred = self.model(mb["seq"])["sum"]
            loss = F.mse_loss(pred, mb["target"]) / len(micro_batches)
            loss.backward()
        self._fire("before_step")
        self.optimizer.step()
        self._fire("after_step")
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        self.step += 1

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        se = n = 0
        for b in loader:
            se += F.mse_loss(self.model(b["seq"])["sum"], b["target"], reduction="sum").item()
            n += len(b["target"])
        self.model.train()
        return se / n

    def fit(self, train_loader, val_loader):
        self.model.train()
        for epoch in range(self.cfg["epochs"]):
            chunk = []
            for mb in train_loader:
                chunk.append(mb)
                if len(chunk) == self.cfg["accum"]:
                    self.train_step(chunk)
                    chunk = []
            self.last_val = self.validate(val_loader)
            self._fire("after_epoch")


def main():
    cfg = CFG
    gen = torch.Generator().manual_seed(0)
    train_ds = SmoothedSignal(cfg["n_train"], cfg["seq_len"], gen)
    val_ds = SmoothedSignal(cfg["n_val"], cfg["seq_len"], gen)
    train_loader = DataLoader(train_ds, batch_size=None, num_workers=0,
                              sampler=BatchSampler(RandomSampler(train_ds, generator=gen), cfg["batch"], True))
    val_loader = DataLoader(val_ds, batch_size=None, num_workers=0,
                            sampler=BatchSampler(SequentialSampler(val_ds), 500, False))

    model = MODEL_ZOO["irnn"](1, cfg["hidden"])
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    total = cfg["epochs"] * (len(train_loader) // cfg["accum"])
    schedule = lambda s: min(1.0, (s + 1) / cfg["warmup"]) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    trainer = Trainer(model, optimizer, scheduler, cfg)
    clipper = GradClip(cfg["clip_norm"])
    trainer.add_callback("after_step", clipper)

    best = {"val": float("inf"), "blob": None}

    def keep_best(t):
        if t.last_val < best["val"]:
            buf = io.BytesIO()
            torch.save(t.model.state_dict(), buf)
            best.update(val=t.last_val, blob=buf.getvalue())

    trainer.add_callback("after_epoch", keep_best)
    trainer.fit(train_loader, val_loader)

    # reload the best checkpoint (by validation MSE) before reporting
    model.load_state_dict(torch.load(io.BytesIO(best["blob"])))
    print(f"NNDOCTOR_METRIC val_mse={trainer.validate(val_loader):.4f} lower")


if __name__ == "__main__":
    main()
