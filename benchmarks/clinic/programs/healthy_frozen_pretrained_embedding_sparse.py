"""Bag-of-tokens text classifier with a frozen "pretrained" embedding (nn.Embedding.from_pretrained, freeze=True) next to a trainable sparse embedding (sparse=True) optimized by SparseAdam, and a dense head by Adam.

expect: healthy
trap: a frozen embedding (no gradient at all), sparse gradients (only the rows in the batch get one, as a sparse tensor), two optimizers for one model, padding_idx rows that never get a gradient

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
The "pretrained" vectors are a fixed random projection made in a previous run and loaded from a tensor.
Trains well: test acc 0.952 (4 topics, chance 0.25).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, TOPICS, LEN, PAD = 2000, 4, 24, 0
topic_words = torch.randint(1, VOCAB, (TOPICS, 60))


def make_docs(n, g):
    labels = torch.randint(0, TOPICS, (n,), generator=g)
    docs = torch.randint(1, VOCAB, (n, LEN), generator=g)
    informative = torch.rand(n, LEN, generator=g) < 0.3
    pick = topic_words[labels][torch.arange(n)[:, None], torch.randint(0, 60, (n, LEN), generator=g)]
    docs = torch.where(informative, pick, docs)
    lengths = torch.randint(8, LEN + 1, (n,), generator=g)
    docs[torch.arange(LEN)[None, :] >= lengths[:, None]] = PAD
    return docs, labels


class TextClassifier(nn.Module):
    def __init__(self, pretrained):
        super().__init__()
        self.frozen = nn.Embedding.from_pretrained(pretrained, freeze=True, padding_idx=PAD)
        self.tuned = nn.Embedding(VOCAB, 32, padding_idx=PAD, sparse=True)
        self.head = nn.Sequential(nn.Linear(pretrained.shape[1] + 32, 64), nn.ReLU(), nn.Linear(64, TOPICS))

    def forward(self, ids):
        mask = (ids != PAD).float().unsqueeze(-1)
        h = torch.cat([self.frozen(ids), self.tuned(ids)], -1)
        pooled = (h * mask).sum(1) / mask.sum(1)
        return self.head(pooled)


g = torch.Generator().manual_seed(1)
pretrained = torch.randn(VOCAB, 48, generator=g) / 48 ** 0.5
pretrained[PAD] = 0
Xtr, ytr = make_docs(6000, g)
Xte, yte = make_docs(1000, g)
model = TextClassifier(pretrained)
sparse_opt = torch.optim.SparseAdam(list(model.tuned.parameters()), lr=1e-2)
dense_opt = torch.optim.Adam(model.head.parameters(), lr=2e-3)
for epoch in range(6):
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 64):
        idx = perm[i:i + 64]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        sparse_opt.zero_grad(); dense_opt.zero_grad()
        loss.backward()
        sparse_opt.step(); dense_opt.step()
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch} loss {loss.item():.4f} test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
