"""Word-level CNN sentiment classifier whose per-step warmup/decay schedule is stepped once per epoch.
expect: learning-rate-too-low
allow: loss-not-decreasing, optimizer-step-missing

The schedule is the usual HF-style linear warmup + linear decay, built with
num_training_steps = epochs * len(train_loader) and 10% warmup (i.e. counted in optimizer
steps). The loop was converted from an older epoch-based StepLR script and still calls
`scheduler.step()` at the end of each epoch. The scheduler therefore advances 1 tick per epoch
instead of 63: the LR is exactly 0 for the whole first epoch and climbs by 2.1e-5 per epoch
(94 warmup "steps"), reaching only 3e-4 (~1/6 of the 2e-3 peak) in the last epoch, so the
model is still badly undertrained when the run ends.
Measured: faulty val_acc=0.6950 vs fixed val_acc=1.0000
(seed 1: 0.8125 vs 1.0000; seed 2: 0.6162 vs 1.0000; 945 steps)
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)

# ----------------------------- toy review grammar -----------------------------
POS = ["good", "great", "superb", "charming", "clever", "moving", "fun", "brilliant"]
NEG = ["bad", "awful", "dull", "boring", "clumsy", "weak", "messy", "tedious"]
NEUTRAL = ["long", "french", "loud", "colourful", "old", "new", "short", "dark"]
SUBJ = ["the movie", "this film", "the plot", "the acting", "the script", "the cast", "the ending"]
VERB = ["was", "is", "seemed", "felt", "looked"]
ADV = ["", "", "very", "really", "quite", "rather"]


def clause(rng, polar):
    words = SUBJ[rng.randint(len(SUBJ))].split() + [VERB[rng.randint(len(VERB))]]
    neg = False
    if polar and rng.rand() < 0.4:
        words.append("not")
        neg = True
    adv = ADV[rng.randint(len(ADV))]
    if adv:
        words.append(adv)
    if polar:
        positive = rng.rand() < 0.5
        words.append((POS if positive else NEG)[rng.randint(8)])
        return words, positive != neg
    return words + [NEUTRAL[rng.randint(8)]], None


def review(rng):
    """A neutral clause and one polar clause in random order, joined by 'and'."""
    polar_words, label = clause(rng, True)
    neutral_words, _ = clause(rng, False)
    parts = [polar_words, neutral_words] if rng.rand() < 0.5 else [neutral_words, polar_words]
    return parts[0] + ["and"] + parts[1], int(label)


rng = np.random.RandomState(SEED)
itos = ["<pad>"] + sorted({w for s in SUBJ for w in s.split()} | set(VERB) | set(ADV[2:]) |
                          set(POS) | set(NEG) | set(NEUTRAL) | {"not", "and"})
stoi = {w: i for i, w in enumerate(itos)}
MAX_LEN = 14


def encode_split(n):
    X = np.zeros((n, MAX_LEN), dtype=np.int64)
    Y = np.zeros(n, dtype=np.int64)
    for i in range(n):
        words, Y[i] = review(rng)
        ids = [stoi[w] for w in words][:MAX_LEN]
        X[i, : len(ids)] = ids
    return torch.from_numpy(X), torch.from_numpy(Y)


train_ds = TensorDataset(*encode_split(2000))
val_x, val_y = encode_split(800)
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True,
                          generator=torch.Generator().manual_seed(SEED))


class TextCNN(nn.Module):
    def __init__(self, vocab, emb=32, channels=64, kernel_sizes=(2, 3)):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(emb, channels, k) for k in kernel_sizes])
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(channels * len(kernel_sizes), 2)

    def forward(self, x):
        e = self.embedding(x).transpose(1, 2)              # (B, E, T)
        feats = [F.relu(c(e)).max(dim=2).values for c in self.convs]
        return self.fc(self.dropout(torch.cat(feats, dim=1)))


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps):
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(0.0, float(num_training_steps - current_step) /
                   float(max(1, num_training_steps - num_warmup_steps)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


model = TextCNN(len(itos))
EPOCHS = 15
num_training_steps = EPOCHS * len(train_loader)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
scheduler = get_linear_schedule_with_warmup(optimizer, int(0.1 * num_training_steps), num_training_steps)


def evaluate():
    model.eval()
    with torch.no_grad():
        logits = model(val_x)
    model.train()
    return F.cross_entropy(logits, val_y).item(), (logits.argmax(1) == val_y).float().mean().item()


for epoch in range(EPOCHS):
    model.train()
    total, n = 0.0, 0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        n += len(yb)
    scheduler.step()
    val_loss, val_acc = evaluate()
    print(f"epoch {epoch + 1:2d} lr {optimizer.param_groups[0]['lr']:.2e} "
          f"train_loss {total / n:.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}")

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
