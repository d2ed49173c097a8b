"""GRU review classifier trained by an HF-style Trainer: @dataclass args, grad accumulation x4, linear warmup from 0, cosine to 0.
expect: healthy
trap: optimizer.step()/zero_grad() only every 4th backward pass (grads deliberately accumulate across 4 micro-batches); the LR is exactly 0 on the first optimizer step and tiny for the first warmup steps, and decays to 0 at the end; grad clipping is active

The "but"-reviews need the GRU to keep the polarity of the clause after "but" and to
handle "not"; the Trainer accumulates gradients over 4 micro-batches of 16 (effective batch
64), calling zero_grad only after each optimizer step, which is correct. The
warmup follows `get_cosine_schedule_with_warmup`: lr(0)=0, so the very first optimizer step
leaves every weight unchanged, and the first updates are tiny, which is intended; the last
steps again run at an LR close to 0 after the model has converged. Loss per micro-batch is divided by
the accumulation count before backward.
Measured: val_acc=1.0000 (148 optimizer steps / 592 micro-batches; seeds 1, 2: 1.0000, 1.0000)
"""
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0


@dataclass
class TrainingArguments:
    num_train_epochs: int = 4
    per_device_train_batch_size: int = 16
    gradient_accumulation_steps: int = 4
    learning_rate: float = 2e-3
    warmup_steps: int = 40
    lr_scheduler_type: str = "cosine"
    max_grad_norm: float = 1.0
    weight_decay: float = 0.0
    eval_strategy: str = "epoch"
    seed: int = SEED
    label_names: list = field(default_factory=lambda: ["labels"])


# ----------------------------- data -----------------------------
POS = "good great superb charming clever moving fun brilliant".split()
NEG = "bad awful dull boring clumsy weak messy tedious".split()
SUBJ = "movie film plot acting script cast ending music".split()


def clause(rng):
    words = ["the", SUBJ[rng.randint(8)], ["was", "is", "felt"][rng.randint(3)]]
    neg = rng.rand() < 0.35
    if neg:
        words.append("not")
    pos = rng.rand() < 0.5
    words.append((POS if pos else NEG)[rng.randint(8)])
    return words, pos != neg


def review(rng):
    first, lab1 = clause(rng)
    if rng.rand() < 0.6:
        second, lab2 = clause(rng)
        return first + ["but"] + second, int(lab2)
    return first, int(lab1)


VOCAB = ["<pad>", "the", "was", "is", "felt", "not", "but"] + SUBJ + POS + NEG
STOI = {w: i for i, w in enumerate(VOCAB)}


def build(n, rng, max_len=11):
    X = torch.zeros(n, max_len, dtype=torch.long)
    L = torch.zeros(n, dtype=torch.long)
    Y = torch.zeros(n, dtype=torch.long)
    for i in range(n):
        words, Y[i] = review(rng)
        X[i, : len(words)] = torch.tensor([STOI[w] for w in words])
        L[i] = len(words)
    return {"input_ids": X, "lengths": L, "labels": Y}


class GRUClassifier(nn.Module):
    def __init__(self, vocab, emb=32, hid=64):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hid, batch_first=True)
        self.cls = nn.Linear(hid, 2)

    def forward(self, input_ids, lengths, labels=None):
        packed = nn.utils.rnn.pack_padded_sequence(self.emb(input_ids), lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, h = self.gru(packed)
        logits = self.cls(h[-1])
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return loss, logits


def get_cosine_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps):
    def lr_lambda(step):
        if step < num_warmup_steps:
            return step / max(1, num_warmup_steps)
        progress = (step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


class Trainer:
    def __init__(self, model, args, train_data, eval_data, callbacks=()):
        self.model, self.args = model, args
        self.train_data, self.eval_data = train_data, eval_data
        self.callbacks = list(callbacks)
        self.global_step = 0

    def _batches(self, gen):
        n = len(self.train_data["labels"])
        perm = torch.randperm(n, generator=gen)
        bs = self.args.per_device_train_batch_size
        for i in range(0, n - bs + 1, bs):
            idx = perm[i:i + bs]
            yield {k: v[idx] for k, v in self.train_data.items()}

    def train(self):
        a = self.args
        n = len(self.train_data["labels"])
        micro_per_epoch = n // a.per_device_train_batch_size
        total_steps = (micro_per_epoch // a.gradient_accumulation_steps) * a.num_train_epochs
        opt = torch.optim.AdamW(self.model.parameters(), lr=a.learning_rate, weight_decay=a.weight_decay)
        sched = get_cosine_schedule_with_warmup(opt, a.warmup_steps, total_steps)
        gen = torch.Generator().manual_seed(a.seed)
        for epoch in range(a.num_train_epochs):
            self.model.train()
            run_loss, seen = 0.0, 0
            for micro, batch in enumerate(self._batches(gen)):
                loss, _ = self.model(**batch)
                (loss / a.gradient_accumulation_steps).backward()
                run_loss += loss.item()
                seen += 1
                if (micro + 1) % a.gradient_accumulation_steps == 0:
                    nn.utils.clip_grad_norm_(self.model.parameters(), a.max_grad_norm)
                    opt.step()
                    sched.step()
                    opt.zero_grad(set_to_none=True)
                    self.global_step += 1
                    for cb in self.callbacks:
                        cb(self, {"step": self.global_step, "lr": sched.get_last_lr()[0]})
            metrics = self.evaluate()
            print(f"epoch {epoch} step {self.global_step} train_loss {run_loss / seen:.4f} "
                  f"lr {sched.get_last_lr()[0]:.2e} eval_loss {metrics['eval_loss']:.4f} "
                  f"eval_acc {metrics['eval_acc']:.4f}")
        return metrics

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        loss, logits = self.model(**self.eval_data)
        acc = (logits.argmax(-1) == self.eval_data["labels"]).float().mean().item()
        self.model.train()
        return {"eval_loss": loss.item(), "eval_acc": acc}


def print_lr_callback(trainer, logs):
    if logs["step"] in (1, 2, 5, 20, 40):
        print(f"  step {logs['step']:3d} lr after step {logs['lr']:.2e}")


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.RandomState(SEED)
    train_data, eval_data = build(2400, rng), build(800, rng)
    trainer = Trainer(GRUClassifier(len(VOCAB)), TrainingArguments(), train_data, eval_data,
                      callbacks=[print_lr_callback])
    t0 = time.time()
    metrics = trainer.train()
    print(f"trained in {time.time() - t0:.1f}s")
    print(f"NNDOCTOR_METRIC val_acc={metrics['eval_acc']:.4f} higher")


if __name__ == "__main__":
    main()
