"""Convolutional POS tagger on variable-length sentences: heavy padding, ignore_index=-100, per-token loss summed then divided by the token count.
expect: healthy
trap: up to ~60% of positions in a batch are padding with label -100; the <pad> embedding row (padding_idx) and the rows of the many nouns absent from a batch (or from all training data) get exactly zero gradient; the loss is a sum over tokens divided by the number of real tokens, so the per-batch loss scale and noise vary with sentence lengths

Sentences come from a small grammar with 500 Zipf-distributed nouns (many of them never
occur in training) and ambiguous words such as "watch", "book", "run" that are nouns after a
determiner and verbs after a subject. Batches are padded to their longest sentence with
pad_sequence; pad labels are -100 and ignored. The loss is
`F.cross_entropy(..., ignore_index=-100, reduction="sum") / n_real_tokens`, which is the
per-token mean written by hand (the usual form when accumulating over batches of different
token counts). The metric is token accuracy on held-out sentences, including OOV nouns.
Measured: val_tok_acc=1.0000 (about 49% of batch positions are padding; 364/443 embedding rows have
zero grad on step 0; seeds 1, 2: 1.0000, 1.0000)
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

TAGS = ["DET", "ADJ", "NOUN", "VERB", "ADP", "PUNCT", "CONJ"]
T2I = {t: i for i, t in enumerate(TAGS)}
IGNORE = -100
rng = np.random.RandomState(SEED)

LEX = {
    "DET": ["the", "a", "every", "this", "that", "some"],
    "ADJ": ["big", "small", "red", "old", "quiet", "happy", "strange", "new"],
    "VERB": ["sees", "likes", "takes", "finds", "wants", "makes", "sells"],
    "ADP": ["with", "near", "under", "behind", "for"],
    "CONJ": ["and"],
    "PUNCT": ["."],
}
AMBIG = ["watch", "book", "run", "fly", "park", "train"]          # noun or verb
NOUNS = [f"noun{i}" for i in range(500)]
zipf = 1.0 / np.arange(1, len(NOUNS) + 1) ** 1.2
zipf /= zipf.sum()


def pick(tag):
    if tag == "NOUN":
        if rng.rand() < 0.2:
            return AMBIG[rng.randint(len(AMBIG))]
        return NOUNS[rng.choice(len(NOUNS), p=zipf)]
    if tag == "VERB" and rng.rand() < 0.3:
        return AMBIG[rng.randint(len(AMBIG))]
    words = LEX[tag]
    return words[rng.randint(len(words))]


def noun_phrase():
    tags = ["DET"] + ["ADJ"] * rng.randint(0, 3) + ["NOUN"]
    if rng.rand() < 0.3:
        tags += ["ADP", "DET"] + ["ADJ"] * rng.randint(0, 2) + ["NOUN"]
    return tags


def sentence():
    tags = noun_phrase() + ["VERB"] + noun_phrase()
    for _ in range(2):
        if rng.rand() < 0.35:
            tags += ["CONJ"] + noun_phrase() + ["VERB"] + noun_phrase()
    tags += ["PUNCT"]
    return [pick(t) for t in tags], tags


train_sents = [sentence() for _ in range(1500)]
val_sents = [sentence() for _ in range(400)]

words_in_train = sorted({w for ws, _ in train_sents for w in ws})
itos = ["<pad>", "<unk>"] + words_in_train
stoi = {w: i for i, w in enumerate(itos)}
PAD, UNK = 0, 1
lens = [len(ws) for ws, _ in train_sents]
print(f"vocab {len(itos)}; sentence length {min(lens)}..{max(lens)} (mean {np.mean(lens):.1f})")


def encode(sents):
    return [(torch.tensor([stoi.get(w, UNK) for w in ws]), torch.tensor([T2I[t] for t in ts]))
            for ws, ts in sents]


def collate(batch):
    ids = pad_sequence([b[0] for b in batch], batch_first=True, padding_value=PAD)
    tags = pad_sequence([b[1] for b in batch], batch_first=True, padding_value=IGNORE)
    return ids, tags


train_dl = DataLoader(encode(train_sents), batch_size=32, shuffle=True, collate_fn=collate,
                      generator=torch.Generator().manual_seed(SEED))
val_ids, val_tags = collate(encode(val_sents))


class ConvTagger(nn.Module):
    def __init__(self, vocab, n_tags, emb=32, hid=64):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.conv1 = nn.Conv1d(emb, hid, 5, padding=2)
        self.conv2 = nn.Conv1d(hid, hid, 5, padding=2)
        self.word_dropout = 0.1
        self.out = nn.Linear(hid, n_tags)

    def forward(self, ids):
        if self.training and self.word_dropout > 0:   # replace some words by <unk> so OOV is learned
            drop = (torch.rand(ids.shape) < self.word_dropout) & ids.ne(PAD)
            ids = ids.masked_fill(drop, UNK)
        x = self.emb(ids).transpose(1, 2)
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x)) + x
        return self.out(x.transpose(1, 2))


model = ConvTagger(len(itos), len(TAGS))
opt = torch.optim.Adam(model.parameters(), lr=5e-4)
EPOCHS = 6
t0 = time.time()
step = 0
for epoch in range(EPOCHS):
    model.train()
    tot_loss, tot_tok, pad_frac = 0.0, 0, []
    for ids, tags in train_dl:
        logits = model(ids)
        n_tok = (tags != IGNORE).sum()
        loss_sum = F.cross_entropy(logits.reshape(-1, len(TAGS)), tags.reshape(-1),
                                   ignore_index=IGNORE, reduction="sum")
        loss = loss_sum / n_tok
        opt.zero_grad()
        loss.backward()
        if step == 0:
            g = model.emb.weight.grad
            print(f"step 0: {int((g.abs().sum(1) == 0).sum())}/{len(itos)} embedding rows have zero grad "
                  f"(pad row grad norm {g[PAD].norm():.1f})")
        opt.step()
        step += 1
        tot_loss += loss_sum.item()
        tot_tok += n_tok.item()
        pad_frac.append(1 - n_tok.item() / tags.numel())
    model.eval()
    with torch.no_grad():
        pred = model(val_ids).argmax(-1)
    mask = val_tags != IGNORE
    val_acc = (pred[mask] == val_tags[mask]).float().mean().item()
    print(f"epoch {epoch} step {step} train_tok_loss {tot_loss / tot_tok:.4f} "
          f"pad_frac {np.mean(pad_frac):.2f} (max {np.max(pad_frac):.2f}) val_tok_acc {val_acc:.4f}")

print(f"trained in {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_tok_acc={val_acc:.4f} higher")
