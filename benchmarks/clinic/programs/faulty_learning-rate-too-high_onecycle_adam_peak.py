"""A breast-cancer MLP (no normalization layers) trained with Adam under OneCycleLR whose max_lr=0.3 was copied from an SGD+BatchNorm recipe: for Adam that peak is ~300x its usual step size.

expect: learning-rate-too-high
allow: dead-relu, exploding-gradient, loss-not-decreasing, non-finite

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.

Fixed (max_lr=3e-3): test acc 0.951; here 0.902 (the loss jumps around ~0.7 at the peak).
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def main(max_lr=0.3, epochs=20, batch_size=32):
    torch.manual_seed(0)
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    sc = StandardScaler().fit(Xtr)
    Xtr, Xte = torch.tensor(sc.transform(Xtr), dtype=torch.float32), torch.tensor(sc.transform(Xte), dtype=torch.float32)
    ytr, yte = torch.tensor(ytr), torch.tensor(yte)
    model = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = torch.optim.Adam(model.parameters(), lr=max_lr / 25)
    steps = (len(Xtr) + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, epochs=epochs, steps_per_epoch=steps)
    for epoch in range(epochs):
        perm = torch.randperm(len(Xtr))
        for i in range(steps):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            loss = nn.functional.cross_entropy(model(Xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            acc = (model(Xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch} lr {sched.get_last_lr()[0]:.4f} loss {loss.item():.4f} test acc {acc:.3f}")
    print(f"NNDOCTOR_METRIC test_acc={acc:.4f} higher")


if __name__ == "__main__":
    main()
