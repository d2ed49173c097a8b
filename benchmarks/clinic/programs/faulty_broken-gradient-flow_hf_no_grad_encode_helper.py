"""A tiny BERT (from a config, no download) fine-tuned for sequence classification with a custom head; the `encode()` helper, copied from the inference code, runs the encoder under torch.no_grad(), so only the head learns although the optimizer holds every parameter.

expect: broken-gradient-flow

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

Task: label 1 when the sequence contains token 5 before token 9 (order matters: a frozen random
encoder's mean-pooled features cannot tell).
Fixed (no torch.no_grad() in encode()): val acc 1.000; here val acc 0.530.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import BertConfig, BertModel

torch.manual_seed(0)
V, L = 24, 12


def make_data(n, g):
    ids = torch.randint(10, V, (n, L), generator=g)
    pos = torch.stack([torch.randperm(L, generator=g)[:2] for _ in range(n)])
    ids[torch.arange(n), pos[:, 0]] = 5
    ids[torch.arange(n), pos[:, 1]] = 9
    labels = (pos[:, 0] < pos[:, 1]).long()
    return ids, labels


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=L, hidden_dropout_prob=0.0,
                         attention_probs_dropout_prob=0.0)
        self.encoder = BertModel(cfg, add_pooling_layer=False)
        self.head = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))

    def encode(self, input_ids):
        with torch.no_grad():
            out = self.encoder(input_ids=input_ids)
        return out.last_hidden_state.mean(1)

    def forward(self, input_ids):
        return self.head(self.encode(input_ids))


g = torch.Generator().manual_seed(0)
Xtr, ytr = make_data(2000, g)
Xva, yva = make_data(400, g)
model = Classifier()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
for epoch in range(6):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        acc = (model(Xva).argmax(1) == yva).float().mean().item()
    print(f"epoch {epoch} loss {loss.item():.4f} val acc {acc:.3f}")
print(f"NNDOCTOR_METRIC val_acc={acc:.4f} higher")
