"""Diabetes regression with a model, optimizer and scheduler all built from a config dict.

expect: healthy
trap: a model assembled at run time from a config (getattr(nn, name) for layers, an nn.ModuleDict of named blocks, layer sizes from a list); AdamW and ReduceLROnPlateau built by name from the config -- the LR is cut by 10x (down to min_lr=1e-5) when the validation loss plateaus, so late updates are ~300x smaller than early ones; a regression target standardised by train statistics; a noisy small-data validation loss that stops improving
"""
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes

torch.manual_seed(0)

CONFIG = {
    "model": {
        "blocks": {
            "encoder": [
                {"type": "Linear", "out": 64},
                {"type": "SiLU"},
                {"type": "Linear", "out": 64},
                {"type": "SiLU"},
                {"type": "Dropout", "p": 0.1},
            ],
            "head": [
                {"type": "Linear", "out": 32},
                {"type": "SiLU"},
                {"type": "Linear", "out": 1},
            ],
        },
        "order": ["encoder", "head"],
    },
    "optimizer": {"name": "AdamW", "lr": 3e-3, "weight_decay": 1e-2},
    "scheduler": {"name": "ReduceLROnPlateau", "mode": "min", "factor": 0.1, "patience": 4, "min_lr": 1e-5},
    "epochs": 40,
    "batch_size": 32,
}


def build_block(specs, n_in):
    layers = []
    for spec in specs:
        spec = dict(spec)
        cls = getattr(nn, spec.pop("type"))
        if cls is nn.Linear:
            layers.append(cls(n_in, spec["out"]))
            n_in = spec["out"]
        else:
            layers.append(cls(**spec))
    return nn.Sequential(*layers), n_in


class ConfigNet(nn.Module):
    def __init__(self, cfg, n_in):
        super().__init__()
        self.order = cfg["order"]
        self.blocks = nn.ModuleDict()
        for name in self.order:
            self.blocks[name], n_in = build_block(cfg["blocks"][name], n_in)

    def forward(self, x):
        for name in self.order:
            x = self.blocks[name](x)
        return x.squeeze(-1)


def build_optimizer(params, cfg):
    cfg = dict(cfg)
    return getattr(torch.optim, cfg.pop("name"))(params, **cfg)


def build_scheduler(opt, cfg):
    cfg = dict(cfg)
    return getattr(torch.optim.lr_scheduler, cfg.pop("name"))(opt, **cfg)


data = load_diabetes()
X = torch.tensor(data.data, dtype=torch.float32)
y = torch.tensor(data.target, dtype=torch.float32)
perm = torch.randperm(len(X))
tr, va = perm[:350], perm[350:]
x_mu, x_sd = X[tr].mean(0), X[tr].std(0)
y_mu, y_sd = y[tr].mean(), y[tr].std()
X, y = (X - x_mu) / x_sd, (y - y_mu) / y_sd

model = ConfigNet(CONFIG["model"], X.shape[1])
opt = build_optimizer(model.parameters(), CONFIG["optimizer"])
sched = build_scheduler(opt, CONFIG["scheduler"])
loss_fn = nn.MSELoss()

for epoch in range(CONFIG["epochs"]):
    model.train()
    order = tr[torch.randperm(len(tr))]
    running = 0.0
    for i in range(0, len(order), CONFIG["batch_size"]):
        idx = order[i:i + CONFIG["batch_size"]]
        opt.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        running += loss.item() * len(idx)
    model.eval()
    with torch.no_grad():
        val = loss_fn(model(X[va]), y[va]).item()
    sched.step(val)
    if epoch % 5 == 0 or epoch == CONFIG["epochs"] - 1:
        print(f"epoch {epoch:2d}  train mse {running / len(tr):.4f}  val mse {val:.4f}  "
              f"lr {opt.param_groups[0]['lr']:.1e}")
