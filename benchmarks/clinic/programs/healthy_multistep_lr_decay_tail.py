"""Regression MLP on a smooth synthetic function with SGD and MultiStepLR (x0.1 at steps 150, 300, 400).

expect: healthy
trap: step-decayed LR -- the LR drops from 0.05 to 5e-5 over the run; in the last 100 steps the per-step updates are ~1000x smaller than at the start and the test loss is flat at 0.013 (target variance 0.46; the fit is done, the decay just polishes it). A slope/update-ratio rule that ignores the schedule would call the tail "learning rate too low".
"""
import torch
from torch import nn

torch.manual_seed(0)


def target_fn(x):
    return torch.sin(1.5 * x[:, :1]) * torch.cos(x[:, 1:2]) + 0.3 * x[:, 2:3] ** 2


X_train = torch.randn(2048, 4)
y_train = target_fn(X_train) + 0.05 * torch.randn(2048, 1)
X_test = torch.randn(512, 4)
y_test = target_fn(X_test)

model = nn.Sequential(nn.Linear(4, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[150, 300, 400], gamma=0.1)
loss_fn = nn.MSELoss()

for step in range(1, 501):
    idx = torch.randint(0, len(X_train), (64,))
    loss = loss_fn(model(X_train[idx]), y_train[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 50 == 0:
        with torch.no_grad():
            test_mse = loss_fn(model(X_test), y_test).item()
        print(f"step {step:3d}  lr {optimizer.param_groups[0]['lr']:.0e}  batch mse {loss.item():.4f}  test mse {test_mse:.4f}")

print(f"final test mse {test_mse:.4f} (target variance {y_test.var().item():.3f})")
