"""Topic classifier on top of frozen "pretrained" word vectors (PPMI + SVD on an unlabeled corpus).
expect: healthy
trap: the embedding matrix (most of the model's parameters) is frozen with requires_grad=False yet passed to AdamW with the rest, so it never gets a .grad and never changes; padding rows; only the small head learns

Word vectors are "pretrained" on a large unlabeled corpus: windowed co-occurrence counts ->
positive PMI -> truncated SVD (the classic count-based recipe). They are loaded with
nn.Embedding.from_pretrained(freeze=True). The labeled training set is small and only uses
half of each topic's keywords; the validation documents mostly use the other half, which the
classifier never saw with a label. Because the embeddings stay frozen, unseen keywords
still land next to their topic's cluster, and the classifier transfers to them. The frozen
table is handed to AdamW together with the head (model.parameters()); AdamW skips parameters
whose .grad is None, which is correct and expected.
Measured: val_acc=0.9967 (seeds 1, 2: 0.9983, 0.9983)
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

N_TOPICS, KW, N_FUNC, DOC_LEN, DIM = 6, 30, 60, 20, 32
PAD = 0
FUNC0 = 1
KW0 = FUNC0 + N_FUNC
V = KW0 + N_TOPICS * KW
rng = np.random.RandomState(SEED)


def docs(n, kw_slice, p_kw=0.35):
    topics = rng.randint(N_TOPICS, size=n)
    lo, hi = kw_slice
    kw = KW0 + topics[:, None] * KW + rng.randint(lo, hi, size=(n, DOC_LEN))
    fn = FUNC0 + rng.randint(N_FUNC, size=(n, DOC_LEN))
    return np.where(rng.rand(n, DOC_LEN) < p_kw, kw, fn), topics


# ---------------- "pretraining": PPMI + SVD on unlabeled text ----------------
unlabeled, _ = docs(4000, (0, KW))
cooc = np.zeros((V, V))
WIN = 4
for off in range(1, WIN + 1):
    a, b = unlabeled[:, :-off].ravel(), unlabeled[:, off:].ravel()
    np.add.at(cooc, (a, b), 1.0)
    np.add.at(cooc, (b, a), 1.0)
total = cooc.sum()
pw = cooc.sum(1, keepdims=True) / total
with np.errstate(divide="ignore", invalid="ignore"):
    pmi = np.log((cooc / total) / (pw * pw.T))
ppmi = np.nan_to_num(np.maximum(pmi, 0.0), nan=0.0, posinf=0.0, neginf=0.0)
U, S, _ = np.linalg.svd(ppmi)
vectors = U[:, :DIM] * np.sqrt(S[:DIM])
vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8
vectors[PAD] = 0.0
pretrained = torch.tensor(vectors, dtype=torch.float32)

# ---------------- small labeled task ----------------
x_tr, y_tr = docs(300, (0, KW // 2))          # labeled docs only use keywords 0..14
x_va, y_va = docs(600, (KW // 2, KW))         # validation uses keywords 15..29
x_tr, y_tr = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
x_va, y_va = torch.from_numpy(x_va), torch.from_numpy(y_va)


class FrozenEmbClassifier(nn.Module):
    def __init__(self, vectors, n_classes, hidden=64):
        super().__init__()
        self.emb = nn.Embedding.from_pretrained(vectors, freeze=True, padding_idx=PAD)
        self.mlp = nn.Sequential(nn.Linear(vectors.size(1), hidden), nn.ReLU(),
                                 nn.Dropout(0.1), nn.Linear(hidden, n_classes))

    def forward(self, ids):
        m = ids.ne(PAD).unsqueeze(-1).float()
        pooled = (self.emb(ids) * m).sum(1) / m.sum(1).clamp(min=1)
        return self.mlp(pooled)


model = FrozenEmbClassifier(pretrained, N_TOPICS)
n_frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"frozen params {n_frozen}, trainable params {n_train}")
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
emb_before = model.emb.weight.detach().clone()

STEPS, BS = 400, 32
gen = torch.Generator().manual_seed(SEED)
t0 = time.time()
for step in range(1, STEPS + 1):
    model.train()
    idx = torch.randint(len(x_tr), (BS,), generator=gen)
    loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        model.eval()
        with torch.no_grad():
            lv = model(x_va)
        val_loss = F.cross_entropy(lv, y_va).item()
        val_acc = (lv.argmax(-1) == y_va).float().mean().item()
        print(f"step {step:3d} train_loss {loss.item():.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}")

assert torch.equal(emb_before, model.emb.weight)   # frozen table untouched
print(f"trained in {time.time() - t0:.1f}s")
print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
