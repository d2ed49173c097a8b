"""Bag-of-words topic classifier: integer token ids (0..4999) fed to nn.EmbeddingBag.

expect: healthy
trap: the model input is a LongTensor of raw token ids up to 4999 (mean ~1000, std ~1450) with offsets -- indices into an embedding table, not features to normalise; a sparse-ish embedding gradient (only the tokens of the batch get gradient)

Synthetic corpus: 4 topics, each with its own 150 characteristic words drawn with a Zipf-like
frequency, mixed with common filler words shared by all topics. Documents have 20-60 tokens.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, N_TOPICS, EMB = 5000, 4, 32
FILLER = torch.arange(0, 200)                                   # "the", "a", ... shared by all topics
TOPIC_WORDS = [torch.randperm(VOCAB - 200)[:150] + 200 for _ in range(N_TOPICS)]
ZIPF = 1.0 / torch.arange(1, 151, dtype=torch.float32)


def make_corpus(n, gen):
    docs, labels = [], torch.randint(0, N_TOPICS, (n,), generator=gen)
    for topic in labels.tolist():
        length = int(torch.randint(20, 61, (1,), generator=gen))
        n_topic = int(0.35 * length)
        words = TOPIC_WORDS[topic][torch.multinomial(ZIPF, n_topic, replacement=True, generator=gen)]
        filler = FILLER[torch.randint(0, len(FILLER), (length - n_topic,), generator=gen)]
        noise = torch.randint(0, VOCAB, (3,), generator=gen)    # a few random words from any topic
        docs.append(torch.cat([words, filler, noise])[torch.randperm(length + 3, generator=gen)])
    return docs, labels


def collate(docs):
    """Flatten variable-length docs into (tokens, offsets) for EmbeddingBag."""
    offsets = torch.tensor([0] + [len(d) for d in docs[:-1]]).cumsum(0)
    return torch.cat(docs), offsets


class BagClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.EmbeddingBag(VOCAB, EMB, mode="mean")
        self.fc = nn.Linear(EMB, N_TOPICS)

    def forward(self, tokens, offsets):
        return self.fc(self.embed(tokens, offsets))


gen = torch.Generator().manual_seed(0)
train_docs, train_y = make_corpus(2000, gen)
test_docs, test_y = make_corpus(500, gen)
test_tokens, test_offsets = collate(test_docs)

model = BagClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)

for epoch in range(5):
    perm = torch.randperm(len(train_docs)).tolist()
    total = 0.0
    for i in range(0, len(perm), 50):
        batch = perm[i:i + 50]
        tokens, offsets = collate([train_docs[j] for j in batch])
        loss = F.cross_entropy(model(tokens, offsets), train_y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    with torch.no_grad():
        acc = (model(test_tokens, test_offsets).argmax(1) == test_y).float().mean().item()
    print(f"epoch {epoch}  train loss {total / len(perm):.4f}  test acc {acc:.3f}")
