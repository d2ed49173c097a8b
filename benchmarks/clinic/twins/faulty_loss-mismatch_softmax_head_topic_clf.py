"""Fixed version of faulty_loss-mismatch_softmax_head_topic_clf.py: the one-line fix of its docstring.
Measured: val_acc=0.8383. From the sixth held-out audit (NLP / sequence code).
"""
import time

import numpy as np
import torch
import torch.nn as nn

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

# ---- synthetic news corpus: 16 topics with their own keywords + shared function words ----
PAD = 0
N_TOPICS, KW_PER_TOPIC, N_FUNC, MAX_LEN = 16, 20, 150, 32
FUNC_OFFSET = 1
KW_OFFSET = FUNC_OFFSET + N_FUNC
VOCAB_SIZE = KW_OFFSET + N_TOPICS * KW_PER_TOPIC
rng = np.random.RandomState(SEED)


def make_split(n):
    topics = rng.randint(N_TOPICS, size=n)
    lengths = rng.randint(8, MAX_LEN + 1, size=n)
    u = rng.rand(n, MAX_LEN)
    own_kw = KW_OFFSET + topics[:, None] * KW_PER_TOPIC + rng.randint(KW_PER_TOPIC, size=(n, MAX_LEN))
    other_kw = KW_OFFSET + rng.randint(N_TOPICS * KW_PER_TOPIC, size=(n, MAX_LEN))
    func = FUNC_OFFSET + rng.randint(N_FUNC, size=(n, MAX_LEN))
    ids = np.where(u < 0.22, own_kw, np.where(u < 0.32, other_kw, func))
    ids[np.arange(MAX_LEN)[None, :] >= lengths[:, None]] = PAD
    return torch.from_numpy(ids), torch.from_numpy(topics)


x_train, y_train = make_split(2000)
x_val, y_val = make_split(600)


class BagOfEmbeddings(nn.Module):
    def __init__(self, vocab_size, n_classes, emb_dim=64, hidden=64):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.head = nn.Sequential(
            nn.Linear(2 * emb_dim, hidden), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(hidden, n_classes),  # logits: CrossEntropyLoss applies log_softmax itself
        )

    def forward(self, ids):
        mask = ids.ne(PAD).unsqueeze(-1).float()
        e = self.emb(ids)
        mean = (e * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        mx = e.masked_fill(mask == 0, -1e4).max(1).values
        return self.head(torch.cat([mean, mx], dim=-1))

    @torch.no_grad()
    def predict(self, ids):
        return self.forward(ids).argmax(-1)


model = BagOfEmbeddings(VOCAB_SIZE, N_TOPICS)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.CrossEntropyLoss()

EPOCHS, BS = 12, 32
t0 = time.time()
step = 0
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(x_train))
    tot, nb = 0.0, 0
    for i in range(0, len(perm), BS):
        idx = perm[i:i + BS]
        out = model(x_train[idx])
        loss = criterion(out, y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tot += loss.item()
        nb += 1
        step += 1
    model.eval()
    val_acc = (model.predict(x_val) == y_val).float().mean().item()
    print(f"epoch {epoch:2d} step {step:4d} train_loss {tot / nb:.4f} val_acc {val_acc:.4f}")

print(f"trained in {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
