"""A small nn.TransformerEncoder classifying token sequences by their most frequent token.

expect: healthy
trap: transformer -- embedding tables (only rows of tokens in the batch get gradient), attention/LayerNorm parameters with very different gradient scales, dropout, AdamW with warmup-free constant LR
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, SEQ_LEN, N_CLASSES = 8, 12, 8


def make_batch(n):
    """Each sequence has one token repeated 5 times; every other token appears at most 3 times."""
    majority = torch.randint(0, VOCAB, (n,))
    seqs = torch.empty(n, SEQ_LEN, dtype=torch.long)
    for i in range(n):
        others = torch.tensor([t for t in range(VOCAB) if t != majority[i]])
        rest = others[torch.randint(0, len(others), (SEQ_LEN - 5,))]
        while torch.bincount(rest, minlength=VOCAB).max() > 3:
            rest = others[torch.randint(0, len(others), (SEQ_LEN - 5,))]
        seq = torch.cat([majority[i].repeat(5), rest])
        seqs[i] = seq[torch.randperm(SEQ_LEN)]
    return seqs, majority


class TokenClassifier(nn.Module):
    def __init__(self, d_model=32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.pos = nn.Parameter(torch.zeros(1, SEQ_LEN, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, N_CLASSES)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) + self.pos)
        return self.head(h.mean(dim=1))


X_train, y_train = make_batch(2000)
X_val, y_val = make_batch(400)
model = TokenClassifier()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)

for step in range(150):
    model.train()
    idx = torch.randint(0, len(X_train), (64,))
    loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0 or step == 149:
        model.eval()
        with torch.no_grad():
            acc = (model(X_val).argmax(1) == y_val).float().mean().item()
        print(f"step {step:3d}  loss {loss.item():.3f}  val acc {acc:.3f}")
