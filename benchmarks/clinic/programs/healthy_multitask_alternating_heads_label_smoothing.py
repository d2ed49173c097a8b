"""Shared CNN text encoder with two heads (topic, sentiment) trained on alternating batches with label smoothing 0.1.
expect: healthy
trap: the logged loss zig-zags every step between two task levels (alternating tasks, not LR oscillation); each head gets no gradient on every other step (grad None, unused by design); label smoothing puts a floor under the loss (~0.47 for 8 topics, ~0.20 for 2 sentiments) so the loss stops falling while accuracy is ~100%

Reviews carry a topic (8 product categories, from keywords) and a sentiment (from polarity
words). One encoder (embedding + two Conv1d + max-pool) is shared; a round-robin loop feeds a
topic batch on even steps and a sentiment batch on odd steps, so only one head is in the
graph per step (optimizer.zero_grad(set_to_none=True) leaves the other head's .grad None).
Both heads use CrossEntropyLoss(label_smoothing=0.1), whose minimum is the entropy of the
smoothed target, not 0: the train loss flattens at that floor once the model is right.
Measured: val_mean_acc=0.9955 (topic 0.9930, sentiment 0.9980; final train losses 0.513 / 0.212 vs
floors 0.467 / 0.199; seeds 1, 2: 0.9945, 0.9920)
"""
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

CONF = {"emb": 32, "ch": 64, "lr": 4e-3, "bs": 32, "steps": 800, "smoothing": 0.1, "seq_len": 24}
N_TOPIC, KW_PER, N_FUNC, N_POL = 8, 12, 80, 10
PAD = 0
FUNC0 = 1
KW0 = FUNC0 + N_FUNC
POS0 = KW0 + N_TOPIC * KW_PER
NEG0 = POS0 + N_POL
V = NEG0 + N_POL
rng = np.random.RandomState(SEED)


def make_reviews(n):
    T = CONF["seq_len"]
    topic = rng.randint(N_TOPIC, size=n)
    senti = rng.randint(2, size=n)
    lengths = rng.randint(10, T + 1, size=n)
    u = rng.rand(n, T)
    kw = KW0 + topic[:, None] * KW_PER + rng.randint(KW_PER, size=(n, T))
    pol_own = np.where(senti[:, None] == 1, POS0, NEG0) + rng.randint(N_POL, size=(n, T))
    fn = FUNC0 + rng.randint(N_FUNC, size=(n, T))
    ids = np.where(u < 0.15, kw, np.where(u < 0.25, pol_own, fn))
    # every review mentions its category and its polarity at least once
    rows = np.arange(n)
    ids[rows, rng.randint(0, 5, size=n)] = kw[:, 0]
    ids[rows, rng.randint(5, 10, size=n)] = pol_own[:, 0]
    ids[np.arange(T)[None] >= lengths[:, None]] = PAD
    return torch.from_numpy(ids), torch.from_numpy(topic), torch.from_numpy(senti)


x_tr, topic_tr, senti_tr = make_reviews(3000)
x_va, topic_va, senti_va = make_reviews(1000)


class SharedEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, CONF["emb"], padding_idx=PAD)
        self.conv1 = nn.Conv1d(CONF["emb"], CONF["ch"], 3, padding=1)
        self.conv2 = nn.Conv1d(CONF["ch"], CONF["ch"], 3, padding=1)

    def forward(self, ids):
        x = self.emb(ids).transpose(1, 2)
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = x.masked_fill(ids.eq(PAD).unsqueeze(1), -1e4)
        return x.max(dim=2).values


class MultiTaskModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = SharedEncoder()
        self.heads = nn.ModuleDict({"topic": nn.Linear(CONF["ch"], N_TOPIC),
                                    "sentiment": nn.Linear(CONF["ch"], 2)})

    def forward(self, ids, task):
        return self.heads[task](self.encoder(ids))


TASKS = {"topic": (topic_tr, topic_va, N_TOPIC), "sentiment": (senti_tr, senti_va, 2)}
model = MultiTaskModel()
criterion = nn.CrossEntropyLoss(label_smoothing=CONF["smoothing"])
optimizer = torch.optim.Adam(model.parameters(), lr=CONF["lr"])


def smoothed_floor(k, eps):
    p_true = 1 - eps + eps / k
    p_other = eps / k
    return -(p_true * math.log(p_true) + (k - 1) * p_other * math.log(p_other))


print({t: round(smoothed_floor(k, CONF["smoothing"]), 4) for t, (_, _, k) in TASKS.items()}, "= loss floors")


@torch.no_grad()
def evaluate():
    model.eval()
    out = {}
    for task, (_, y_va, _) in TASKS.items():
        out[task] = (model(x_va, task).argmax(-1) == y_va).float().mean().item()
    model.train()
    return out


gen = torch.Generator().manual_seed(SEED)
order = list(TASKS)
t0 = time.time()
history = {t: [] for t in order}
for step in range(CONF["steps"]):
    task = order[step % len(order)]         # round-robin over tasks
    y_tr = TASKS[task][0]
    idx = torch.randint(len(x_tr), (CONF["bs"],), generator=gen)
    loss = criterion(model(x_tr[idx], task), y_tr[idx])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    history[task].append(loss.item())
    if (step + 1) % 100 == 0:
        acc = evaluate()
        print(f"step {step + 1:4d} topic_loss {np.mean(history['topic'][-50:]):.4f} "
              f"sent_loss {np.mean(history['sentiment'][-50:]):.4f} "
              f"val_topic_acc {acc['topic']:.4f} val_sent_acc {acc['sentiment']:.4f}")

acc = evaluate()
print(f"trained in {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_mean_acc={(acc['topic'] + acc['sentiment']) / 2:.4f} higher")
