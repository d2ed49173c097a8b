"""Character-level GRU language model on a small synthetic corpus (Trainer class).

expect: exploding-gradient
allow: learning-rate-too-high, non-finite, loss-not-decreasing, dead-relu, saturated-activation

Bug: follows the classic "per-sequence loss + plain SGD lr=1.0" recipe for
recurrent LMs (cross-entropy summed over the 50 BPTT steps, averaged over the
batch) but drops the gradient-norm clipping that recipe relies on. The first
SGD step enlarges the GRU recurrent weights and the BPTT gradient norm jumps
from ~19 to ~2000-4000 by steps 3-4; the huge updates wreck the model, which
never recovers to a good solution.
Measured: faulty val_acc=0.4225 (grad norm 19 -> 331 -> 2170 -> 3990 over steps 1-4)
vs fixed val_acc=0.8735 (raw grad norm stays 11-25).
"""
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)


def build_corpus(n_sentences=1600, seed=0):
    rng = random.Random(seed)
    subj = ["the cat", "a dog", "my old friend", "the farmer", "our teacher", "a small bird",
            "the king", "her brother", "the sailor", "a tired child"]
    verb = ["sees", "likes", "follows", "paints", "finds", "carries", "feeds", "watches",
            "hides", "sells"]
    obj = ["the red ball", "a green apple", "the long river", "an old boat", "the tall tree",
           "a warm loaf", "the quiet town", "some fresh milk", "a broken clock", "the silver key"]
    tail = ["today", "slowly", "at night", "again", "with care", "in the rain", "before dawn",
            "for a coin"]
    sentences = []
    for _ in range(n_sentences):
        s = f"{rng.choice(subj)} {rng.choice(verb)} {rng.choice(obj)}"
        if rng.random() < 0.5:
            s += " " + rng.choice(tail)
        sentences.append(s + ".")
    return " ".join(sentences)


class CharGRU(nn.Module):
    def __init__(self, vocab_size, emb_dim=32, hidden=64):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb_dim)
        self.rnn = nn.GRU(emb_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.out(h)


class Trainer:
    def __init__(self, model, train_ids, val_ids, lr=1.0, bptt=50, batch_size=24):
        self.model = model
        self.train_ids = train_ids
        self.val_ids = val_ids
        self.bptt = bptt
        self.batch_size = batch_size
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def get_batch(self):
        ix = torch.randint(0, len(self.train_ids) - self.bptt - 1, (self.batch_size,))
        x = torch.stack([self.train_ids[i:i + self.bptt] for i in ix])
        y = torch.stack([self.train_ids[i + 1:i + self.bptt + 1] for i in ix])
        return x, y

    def train_step(self):
        x, y = self.get_batch()
        logits = self.model(x)
        # per-sequence loss: summed over time steps, averaged over the batch
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1),
                               reduction="sum") / x.size(0)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item() / self.bptt

    def fit(self, steps):
        self.model.train()
        for step in range(steps):
            loss = self.train_step()
            if step % 50 == 0:
                print(f"step {step:4d}  train_loss/char {loss:.4f}")

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        x = self.val_ids[:-1].unsqueeze(0)
        y = self.val_ids[1:]
        logits = torch.nan_to_num(self.model(x)[0])
        return (logits.argmax(-1) == y).float().mean().item()


text = build_corpus()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
ids = torch.tensor([stoi[c] for c in text])
split = int(0.9 * len(ids))
train_ids, val_ids = ids[:split], ids[split:split + 2001]

model = CharGRU(len(chars))
trainer = Trainer(model, train_ids, val_ids, lr=1.0)
trainer.fit(200)
val_acc = trainer.evaluate()
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
