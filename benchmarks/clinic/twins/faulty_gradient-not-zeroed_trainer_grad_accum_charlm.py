"""Fixed version of faulty_gradient-not-zeroed_trainer_grad_accum_charlm.py: the one-line fix of its docstring.
Measured: val_nll=0.4504. From the sixth held-out audit (NLP / sequence code).
"""
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0


@dataclass
class TrainingArguments:
    output_dir: str = "/tmp/charlm"
    num_train_epochs: int = 2
    per_device_train_batch_size: int = 64
    gradient_accumulation_steps: int = 4
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    max_grad_norm: float = 0.0  # 0 disables clipping
    logging_steps: int = 20
    seed: int = SEED


# --------------------------- seeded toy grammar ---------------------------
GRAMMAR = {
    "S": [["NP", "VP", "."], ["NP", "VP", "and", "NP", "VP", "."]],
    "NP": [["the", "N"], ["a", "N"], ["the", "ADJ", "N"], ["every", "N"]],
    "VP": [["V", "NP"], ["V"], ["V", "NP", "PP"]],
    "PP": [["with", "NP"], ["near", "NP"]],
    "N": [["cat"], ["dog"], ["bird"], ["farmer"], ["river"], ["stone"], ["child"]],
    "ADJ": [["small"], ["old"], ["green"], ["quiet"]],
    "V": [["sees"], ["chases"], ["likes"], ["finds"], ["sleeps"]],
}


def expand(sym, rng):
    if sym not in GRAMMAR:
        return [sym]
    rule = GRAMMAR[sym][rng.randint(len(GRAMMAR[sym]))]
    return [w for s in rule for w in expand(s, rng)]


def make_corpus(n_sent, rng):
    return " ".join(" ".join(expand("S", rng)) for _ in range(n_sent))


class CharDataset(torch.utils.data.Dataset):
    """(context of `block` chars -> next char) pairs."""
    def __init__(self, text, stoi, block):
        ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
        self.x = ids.unfold(0, block, 1)[:-1]
        self.y = ids[block:]

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "labels": self.y[i]}


class CharMLPLM(nn.Module):
    def __init__(self, vocab, block, d=16, h=192):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.mlp = nn.Sequential(nn.Linear(block * d, h), nn.Tanh(), nn.Linear(h, h), nn.Tanh())
        self.lm_head = nn.Linear(h, vocab)

    def forward(self, input_ids, labels=None):
        h = self.mlp(self.emb(input_ids).flatten(1))
        logits = self.lm_head(h)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels)
        return {"loss": loss, "logits": logits}


def cosine_with_warmup(optimizer, warmup, total):
    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


class Trainer:
    def __init__(self, model, args, train_dataset, eval_dataset):
        self.model, self.args = model, args
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.state = {"global_step": 0, "log_history": []}

    def get_train_dataloader(self):
        # batched indexing: the sampler yields index lists, the dataset slices whole batches
        g = torch.Generator().manual_seed(self.args.seed)
        sampler = torch.utils.data.BatchSampler(
            torch.utils.data.RandomSampler(self.train_dataset, generator=g),
            batch_size=self.args.per_device_train_batch_size, drop_last=True)
        return torch.utils.data.DataLoader(self.train_dataset, sampler=sampler, batch_size=None)

    def create_optimizer_and_scheduler(self, num_training_steps):
        decay = [p for n, p in self.model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in self.model.named_parameters() if p.dim() < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.args.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}], lr=self.args.learning_rate)
        warmup = int(self.args.warmup_ratio * num_training_steps)
        self.lr_scheduler = cosine_with_warmup(self.optimizer, warmup, num_training_steps)

    def training_step(self, batch):
        self.model.train()
        loss = self.model(**batch)["loss"]
        loss = loss / self.args.gradient_accumulation_steps
        loss.backward()
        return loss.detach()

    def train(self):
        args = self.args
        dl = self.get_train_dataloader()
        steps_per_epoch = len(dl) // args.gradient_accumulation_steps
        total = steps_per_epoch * args.num_train_epochs
        self.create_optimizer_and_scheduler(total)
        tr_loss = 0.0
        self.model.zero_grad()
        for epoch in range(args.num_train_epochs):
            for step, batch in enumerate(dl):
                tr_loss += self.training_step(batch).item()
                if (step + 1) % args.gradient_accumulation_steps == 0:
                    if args.max_grad_norm:
                        torch.nn.utils.clip_grad_norm_(self.model.parameters(), args.max_grad_norm)
                    self.optimizer.step()
                    self.lr_scheduler.step()
                    self.model.zero_grad()
                    self.state["global_step"] += 1
                    gs = self.state["global_step"]
                    if gs % args.logging_steps == 0:
                        entry = {"step": gs, "loss": tr_loss / args.logging_steps,
                                 "lr": self.lr_scheduler.get_last_lr()[0]}
                        self.state["log_history"].append(entry)
                        print(entry)
                        tr_loss = 0.0
            print({"epoch": epoch, **self.evaluate()})

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        tot, n = 0.0, 0
        for i in range(0, len(self.eval_dataset), 2048):
            batch = self.eval_dataset[list(range(i, min(i + 2048, len(self.eval_dataset))))]
            logits = self.model(batch["input_ids"])["logits"]
            tot += F.cross_entropy(logits, batch["labels"], reduction="sum").item()
            n += batch["labels"].numel()
        return {"eval_nll": tot / n}


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    rng = np.random.RandomState(SEED)
    train_text, val_text = make_corpus(600, rng), make_corpus(200, rng)
    chars = sorted(set(train_text + val_text))
    stoi = {c: i for i, c in enumerate(chars)}
    block = 8
    train_ds, val_ds = CharDataset(train_text, stoi, block), CharDataset(val_text, stoi, block)
    print(f"vocab={len(chars)} train={len(train_ds)} val={len(val_ds)} ln(V)={math.log(len(chars)):.3f}")

    args = TrainingArguments()
    trainer = Trainer(CharMLPLM(len(chars), block), args, train_ds, val_ds)
    t0 = time.time()
    trainer.train()
    metrics = trainer.evaluate()
    print(f"trained in {time.time() - t0:.1f}s")
    print(f"NNDOCTOR_METRIC val_nll={metrics['eval_nll']:.4f} lower")


if __name__ == "__main__":
    main()
