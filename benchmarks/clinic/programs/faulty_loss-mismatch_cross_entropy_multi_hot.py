"""Multi-label tagging (several tags per sample) trained with CrossEntropyLoss on multi-hot targets.

expect: loss-mismatch

Each sample carries 0..6 independent tags (2.4 on average) as a multi-hot float vector.
nn.CrossEntropyLoss accepts float targets as class probabilities, so it runs without error --
but it puts a softmax across the tags, making them compete for one unit of probability mass;
the multi-hot rows are not even distributions (they sum to 2-3). The loss stays around 3 and
the per-tag sigmoid decisions used at inference are poorly trained.
Fixed (nn.BCEWithLogitsLoss, one independent sigmoid per tag): val micro-F1 0.891 vs 0.811 here.
"""
import torch
import torch.nn as nn

torch.manual_seed(0)

N_FEATURES, N_TAGS = 24, 6


def make_tagged_data(n, W, b):
    x = torch.randn(n, N_FEATURES)
    tags = ((x @ W + b + 0.3 * torch.randn(n, N_TAGS)) > 0).float()   # each tag present independently
    return x, tags


W_true = torch.randn(N_FEATURES, N_TAGS) / N_FEATURES ** 0.5
b_true = torch.linspace(-1.0, 0.5, N_TAGS)
x_train, y_train = make_tagged_data(3000, W_true, b_true)
x_val, y_val = make_tagged_data(1000, W_true, b_true)
print(f"average tags per sample: {y_train.sum(1).mean():.2f}")


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(N_FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.classifier = nn.Linear(64, N_TAGS)

    def forward(self, x):
        return self.classifier(self.encoder(x))


def micro_f1(logits, targets):
    pred = (torch.sigmoid(logits) > 0.5).float()
    tp = (pred * targets).sum()
    return (2 * tp / (pred.sum() + targets.sum())).item()


model = Tagger()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)

for epoch in range(10):
    perm = torch.randperm(len(x_train))
    for i in range(0, len(x_train), 64):
        idx = perm[i:i + 64]
        loss = criterion(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        val_logits = model(x_val)
        val_loss = criterion(val_logits, y_val).item()
    print(f"epoch {epoch}  train loss {loss.item():.4f}  val loss {val_loss:.4f}  val micro-F1 {micro_f1(val_logits, y_val):.3f}")
