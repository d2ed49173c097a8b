"""Bag-of-words topic classifier with nn.EmbeddingBag over a 5000-token vocabulary.

expect: healthy
trap: legitimately sparse embeddings -- most of the 5000 embedding rows are never used (zero gradient all run), and each step touches only the rows of the tokens in its batch; integer token ids as input
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, N_TOPICS, DOC_LEN = 5000, 4, 20

# each topic draws its words from its own Zipf-like distribution over 150 topic words,
# plus 30% words from a shared pool of 100 common words
topic_words = torch.randint(100, VOCAB, (N_TOPICS, 150))
zipf = 1.0 / torch.arange(1, 151).float()


def make_docs(n):
    topics = torch.randint(0, N_TOPICS, (n,))
    picks = torch.multinomial(zipf, n * DOC_LEN, replacement=True).view(n, DOC_LEN)
    words = topic_words[topics.unsqueeze(1), picks]
    common = torch.rand(n, DOC_LEN) < 0.3
    words = torch.where(common, torch.randint(0, 100, (n, DOC_LEN)), words)
    return words, topics


class BagClassifier(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.embed = nn.EmbeddingBag(VOCAB, dim, mode="mean")
        self.fc = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, N_TOPICS))

    def forward(self, docs):
        return self.fc(self.embed(docs))


X_train, y_train = make_docs(3000)
X_val, y_val = make_docs(500)
print(f"distinct tokens in training data: {X_train.unique().numel()} of {VOCAB}")

model = BagClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for step in range(200):
    idx = torch.randint(0, len(X_train), (64,))
    loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 199:
        with torch.no_grad():
            acc = (model(X_val).argmax(1) == y_val).float().mean().item()
        print(f"step {step:3d}  loss {loss.item():.3f}  val acc {acc:.3f}")
