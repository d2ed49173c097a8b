"""Friedman-1 MLP regressor in a Lightning-style loop; the module overrides the optimizer_zero_grad hook to record gradient norms and never actually zeroes the gradients.
expect: gradient-not-zeroed
allow: exploding-gradient, learning-rate-too-high, loss-not-decreasing, non-finite

The Trainer delegates zeroing to the module, as Lightning does: after optimizer.step() it calls
module.optimizer_zero_grad(epoch, batch_idx, optimizer), whose default body is optimizer.zero_grad().
The user wanted to log the gradient norm of every step "just before the grads are cleared" and overrode
optimizer_zero_grad (confusing it with the notification hook on_before_zero_grad), without calling
optimizer.zero_grad() or super(). Every backward() now adds into .grad, so the update at step t is driven
by the sum of all t gradients so far: the effective step grows linearly with t, and training oscillates
instead of converging. Fix: call optimizer.zero_grad() in the override (or use on_before_zero_grad).
Measured: faulty val_mse=1.0900 vs fixed val_mse=0.0605 (standardised target; seeds 1,2: 1.0516/1.1148 vs 0.0705/0.0646)
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)


class LitModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.logs = {}

    def log(self, k, v):
        self.logs.setdefault(k, []).append(float(v))

    # ---- hooks with default behaviour, overridable like in pytorch_lightning
    def on_before_zero_grad(self, optimizer):
        pass

    def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
        optimizer.zero_grad()


class Trainer:
    def __init__(self, max_epochs):
        self.max_epochs = max_epochs

    def fit(self, module, train_loader, val_loader):
        optimizer = module.configure_optimizers()
        module.optimizer_zero_grad(0, 0, optimizer)
        for epoch in range(self.max_epochs):
            module.train()
            for batch_idx, batch in enumerate(train_loader):
                loss = module.training_step(batch, batch_idx)
                loss.backward()
                optimizer.step()
                module.on_before_zero_grad(optimizer)
                module.optimizer_zero_grad(epoch, batch_idx, optimizer)
            module.eval()
            with torch.no_grad():
                for batch_idx, batch in enumerate(val_loader):
                    module.validation_step(batch, batch_idx)
            if epoch % 3 == 0 or epoch == self.max_epochs - 1:
                print(f"epoch {epoch:3d} train_mse {np.mean(module.logs['train_mse'][-len(train_loader):]):.4f} "
                      f"val_mse {module.logs['val_mse'][-1]:.4f} grad_norm {module.grad_norms[-1]:.3g}")


class FriedmanRegressor(LitModule):
    def __init__(self, n_in, hidden=64, lr=0.003):
        super().__init__()
        self.lr = lr
        self.grad_norms = []
        self.model = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.model(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train_mse", loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_mse", F.mse_loss(self(x), y).item())

    def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
        # record the gradient norm of this step before the grads get cleared
        norms = [p.grad.detach().norm() for p in self.parameters() if p.grad is not None]
        self.grad_norms.append(torch.norm(torch.stack(norms)).item() if norms else 0.0)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def main():
    t0 = time.time()
    X, y = make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=SEED)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=SEED)
    xs = StandardScaler().fit(Xtr)
    ym, ysd = ytr.mean(), ytr.std()
    f32 = lambda a: torch.tensor(a, dtype=torch.float32)
    tr = TensorDataset(f32(xs.transform(Xtr)), f32((ytr - ym) / ysd))
    va = TensorDataset(f32(xs.transform(Xva)), f32((yva - ym) / ysd))
    train_loader = DataLoader(tr, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(SEED))
    val_loader = DataLoader(va, batch_size=len(va))

    model = FriedmanRegressor(X.shape[1])
    Trainer(max_epochs=20).fit(model, train_loader, val_loader)
    print(f"time {time.time() - t0:.2f}s")
    print(f"NNDOCTOR_METRIC val_mse={model.logs['val_mse'][-1]:.4f} lower")


if __name__ == "__main__":
    main()
