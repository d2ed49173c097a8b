"""Breast-cancer model whose forward() returns a dict (logits + embedding + attention weights).

expect: healthy
trap: model output is a dict, not a tensor; the loss uses out["logits"] and a small penalty on out["attention"]; out["embedding"] is only logged (it is on the path to the logits, so nothing is cut off)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

torch.manual_seed(0)


class FeatureAttentionNet(nn.Module):
    """Soft feature gating followed by an MLP; returns everything a caller might want."""

    def __init__(self, n_features, hidden=32):
        super().__init__()
        self.gate = nn.Linear(n_features, n_features)
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.classifier = nn.Linear(hidden, 2)

    def forward(self, x):
        attention = torch.softmax(self.gate(x), dim=-1)
        embedding = self.encoder(x * attention * x.shape[-1])
        return {"logits": self.classifier(embedding), "embedding": embedding, "attention": attention}


data = load_breast_cancer()
X_tr, X_te, y_tr, y_te = train_test_split(data.data, data.target, test_size=0.25, random_state=0)
mu, sd = X_tr.mean(0), X_tr.std(0)
X_tr = torch.tensor((X_tr - mu) / sd, dtype=torch.float32)
X_te = torch.tensor((X_te - mu) / sd, dtype=torch.float32)
y_tr, y_te = torch.tensor(y_tr), torch.tensor(y_te)

model = FeatureAttentionNet(X_tr.shape[1])
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(20):
    model.train()
    perm = torch.randperm(len(X_tr))
    for i in range(0, len(X_tr), 32):
        idx = perm[i:i + 32]
        out = model(X_tr[idx])
        entropy = -(out["attention"] * out["attention"].clamp_min(1e-8).log()).sum(-1).mean()
        loss = F.cross_entropy(out["logits"], y_tr[idx]) - 0.001 * entropy
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch % 5 == 4:
        model.eval()
        with torch.no_grad():
            out = model(X_te)
            acc = (out["logits"].argmax(1) == y_te).float().mean().item()
            emb_norm = out["embedding"].norm(dim=1).mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}  test acc {acc:.3f}  mean |embedding| {emb_norm:.2f}")
