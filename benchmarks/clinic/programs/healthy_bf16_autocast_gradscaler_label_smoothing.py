"""Digits MLP trained under torch.amp.autocast('cpu', dtype=torch.bfloat16) with a torch.amp.GradScaler (initial scale 2^16), unscale_ + clipping, and label smoothing 0.1.

expect: healthy
trap: loss scaling (backward runs on loss * 65536, so every gradient seen during backward is 65536x its true size until scaler.unscale_), bf16 activations, label smoothing (the loss floor is ~0.5, not 0)

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Trains well: test acc 0.975; the smoothed CE falls from 2.3 to ~0.58.
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.2, random_state=0)
Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
ytr, yte = torch.tensor(ytr), torch.tensor(yte)

model = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 256), nn.GELU(), nn.Linear(256, 10))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 16)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

for epoch in range(10):
    model.train()
    perm = torch.randperm(len(Xtr))
    for i in range(0, len(Xtr), 32):
        idx = perm[i:i + 32]
        optimizer.zero_grad(set_to_none=True)
        with torch.amp.autocast("cpu", dtype=torch.bfloat16):
            logits = model(Xtr[idx])
            loss = criterion(logits, ytr[idx])
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        scaler.step(optimizer)
        scaler.update()
    model.eval()
    with torch.no_grad(), torch.amp.autocast("cpu", dtype=torch.bfloat16):
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {epoch} loss {loss.item():.4f} scale {scaler.get_scale():.0f} test acc {acc:.3f}")
print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")
