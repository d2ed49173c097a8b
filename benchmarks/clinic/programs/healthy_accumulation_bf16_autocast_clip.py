"""Breast-cancer classifier with gradient accumulation (4 micro-batches), bf16 autocast on CPU, clipping and warmup + cosine decay.

expect: healthy
trap: the loss is divided by the accumulation count, backward runs 4 times per optimizer step, gradients are clipped at 1.0 and the LR warms up then decays (accuracy 0.98)
"""
import math, torch, torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler
torch.manual_seed(3)
X, y = load_breast_cancer(return_X_y=True)
X = torch.tensor(StandardScaler().fit_transform(X), dtype=torch.float32); y = torch.tensor(y, dtype=torch.float32)
model = nn.Sequential(nn.Linear(30, 64), nn.SiLU(), nn.LayerNorm(64), nn.Linear(64, 1))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
total, warm = 150, 15
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
accum = 4
for it in range(total * accum):
    idx = torch.randint(0, len(X), (16,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(X[idx]).squeeze(-1)
    loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), y[idx]) / accum
    loss.backward()
    if (it + 1) % accum == 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); sched.step(); opt.zero_grad()
    if it % 100 == 0:
        print(it, loss.item() * accum)
with torch.no_grad():
    print("acc", ((model(X).squeeze(-1) > 0).float() == y).float().mean().item())
