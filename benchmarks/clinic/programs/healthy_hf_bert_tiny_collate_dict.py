"""A tiny BertForSequenceClassification built from a config (no download), trained by a plain loop on a synthetic token task; a custom collate_fn pads variable-length sequences and returns dicts.

expect: healthy
trap: a transformers model returning a ModelOutput (the loss computed inside the model), attention masks with padding, dropout 0.1, AdamW + linear warmup/decay from transformers, clipping

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Task: label 1 when token 7 occurs more often than token 8 in the sequence.
Trains well: val acc 0.992 (chance 0.5).
"""
import random

import torch
from torch.utils.data import DataLoader, Dataset
from transformers import BertConfig, BertForSequenceClassification, get_linear_schedule_with_warmup

torch.manual_seed(0)
random.seed(0)
VOCAB, PAD = 30, 0


class CountDataset(Dataset):
    def __init__(self, n, seed):
        rng = random.Random(seed)
        self.items = []
        for _ in range(n):
            length = rng.randint(6, 20)
            toks = [rng.randint(1, VOCAB - 1) for _ in range(length)]
            a, b = toks.count(7), toks.count(8)
            if a == b:  # break ties by adding one token 7 or 8
                toks[rng.randrange(length)] = 7 if rng.random() < 0.5 else 8
                a, b = toks.count(7), toks.count(8)
            self.items.append((toks, int(a > b)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate(batch):
    width = max(len(t) for t, _ in batch) + 1
    ids = torch.full((len(batch), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, (toks, _) in enumerate(batch):
        ids[i, 0] = VOCAB - 1  # a [CLS]-like token
        ids[i, 1:len(toks) + 1] = torch.tensor(toks)
        mask[i, :len(toks) + 1] = 1
    return {"input_ids": ids, "attention_mask": mask,
            "labels": torch.tensor([lab for _, lab in batch])}


config = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=64, max_position_embeddings=32, num_labels=2)
model = BertForSequenceClassification(config)
train_dl = DataLoader(CountDataset(960, 1), batch_size=32, shuffle=True, collate_fn=collate)
val_dl = DataLoader(CountDataset(256, 2), batch_size=128, collate_fn=collate)
epochs = 5
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
scheduler = get_linear_schedule_with_warmup(optimizer, 15, epochs * len(train_dl))


def evaluate():
    model.eval()
    correct = 0
    with torch.no_grad():
        for batch in val_dl:
            out = model(**batch)
            correct += (out.logits.argmax(-1) == batch["labels"]).sum().item()
    model.train()
    return correct / len(val_dl.dataset)


for epoch in range(epochs):
    model.train()
    for step, batch in enumerate(train_dl):
        out = model(**batch)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    print(f"epoch {epoch} loss {out.loss.item():.4f} val acc {evaluate():.3f}")
print(f"NNDOCTOR_METRIC val_acc={evaluate():.4f} higher")
