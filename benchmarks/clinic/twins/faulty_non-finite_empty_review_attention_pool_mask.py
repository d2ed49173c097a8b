"""Fixed version of faulty_non-finite_empty_review_attention_pool_mask.py: the one-line fix of its docstring.
Measured: val_acc=0.9925. From the sixth held-out audit (NLP / sequence code).
"""
import collections

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

cfg = {"emb_dim": 32, "conv_dim": 64, "attn_dim": 32, "lr": 2e-3, "batch_size": 32,
       "epochs": 8, "min_freq": 3, "max_len": 16}

rng = np.random.RandomState(SEED)
POS = "good great superb charming clever moving fun brilliant lovely smart".split()
NEG = "bad awful dull boring clumsy weak messy tedious bland silly".split()
SUBJ = ["the movie", "this film", "the plot", "the acting", "the script", "the cast", "the ending", "it"]
VERB = "was is seemed felt looked".split()
ADV = ["", "", "very", "really", "quite", "rather", "so"]
SLANG = [f"slang{i}" for i in range(600)]   # each appears once or twice -> below min_freq


def sample_review():
    if rng.rand() < 0.03:
        k = rng.randint(1, 3)
        return " ".join(rng.choice(SLANG, k)), int(rng.rand() < 0.5)
    words = SUBJ[rng.randint(len(SUBJ))].split() + [VERB[rng.randint(len(VERB))]]
    neg = rng.rand() < 0.4
    if neg:
        words.append("not")
    adv = ADV[rng.randint(len(ADV))]
    if adv:
        words.append(adv)
    positive = rng.rand() < 0.5
    words.append((POS if positive else NEG)[rng.randint(10)])
    if rng.rand() < 0.5:
        words += ["and", "the", "music", VERB[rng.randint(len(VERB))], ["loud", "long", "old"][rng.randint(3)]]
    return " ".join(words), int(positive != neg)


train_texts, train_labels = zip(*[sample_review() for _ in range(2400)])
val_texts, val_labels = zip(*[sample_review() for _ in range(800)])

counts = collections.Counter(w for t in train_texts for w in t.split())
itos = ["<pad>"] + sorted(w for w, c in counts.items() if c >= cfg["min_freq"])
stoi = {w: i for i, w in enumerate(itos)}
print(f"vocab size {len(itos)} (dropped {len(counts) + 1 - len(itos)} rare words)")


def encode(texts):
    out = torch.zeros(len(texts), cfg["max_len"], dtype=torch.long)
    for i, t in enumerate(texts):
        ids = [stoi[w] for w in t.split() if w in stoi][: cfg["max_len"]]
        if ids:
            out[i, : len(ids)] = torch.tensor(ids)
    return out


x_train, y_train = encode(train_texts), torch.tensor(train_labels)
x_val, y_val = encode(val_texts), torch.tensor(val_labels)
print(f"empty rows after encoding: train {(x_train == 0).all(1).sum().item()}, val {(x_val == 0).all(1).sum().item()}")


class AttentionPool(nn.Module):
    """Additive (Bahdanau-style) attention pooling over time."""
    def __init__(self, dim, attn_dim):
        super().__init__()
        self.proj = nn.Linear(dim, attn_dim)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def forward(self, h, pad_mask):
        scores = self.v(torch.tanh(self.proj(h))).squeeze(-1)        # (B, T)
        scores = scores.masked_fill(pad_mask, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights


class SentimentNet(nn.Module):
    def __init__(self, vocab_size, c):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, c["emb_dim"], padding_idx=0)
        self.conv = nn.Conv1d(c["emb_dim"], c["conv_dim"], kernel_size=5, padding=2)
        self.pool = AttentionPool(c["conv_dim"], c["attn_dim"])
        self.out = nn.Linear(c["conv_dim"], 2)

    def forward(self, ids):
        h = F.relu(self.conv(self.emb(ids).transpose(1, 2))).transpose(1, 2)
        pooled, _ = self.pool(h, ids.eq(0))
        return self.out(pooled)


def run_epoch(model, opt, gen):
    model.train()
    perm = torch.randperm(len(x_train), generator=gen)
    losses = []
    for i in range(0, len(perm), cfg["batch_size"]):
        b = perm[i:i + cfg["batch_size"]]
        loss = F.cross_entropy(model(x_train[b]), y_train[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return float(np.mean(losses))


@torch.no_grad()
def accuracy(model):
    model.eval()
    return (model(x_val).argmax(-1) == y_val).float().mean().item()


def main():
    model = SentimentNet(len(itos), cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"])
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(cfg["epochs"]):
        tl = run_epoch(model, opt, gen)
        acc = accuracy(model)
        print(f"epoch {epoch} train_loss {tl:.4f} val_acc {acc:.4f}")
    print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
