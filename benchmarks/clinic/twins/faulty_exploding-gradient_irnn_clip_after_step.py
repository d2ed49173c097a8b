"""IRNN (ReLU RNN, identity-initialised recurrence) forecasting a noisy sine; grad clipping is called after optimizer.step().
expect: exploding-gradient
allow: non-finite, learning-rate-too-high, dead-relu

The script follows the IRNN recipe (Le et al. 2015): ReLU recurrence with W_hh = I, which only
works with gradient clipping. The author did write clip_grad_norm_, but placed it after
opt.step(), so the update has already used the raw gradient and the clip does nothing. Over a
long unroll the ReLU recurrence amplifies the backpropagated signal; the gradient norm spikes by
orders of magnitude, the weights get kicked far away and the forecast error ends far above the
clipped run. Fix: move clip_grad_norm_ before opt.step().
Measured: faulty val_mse=0.6278 vs fixed val_mse=0.0191; seeds 1/2: 0.6108 vs 0.0183, 0.5955 vs 0.0192. The spike hits at step 1 (grad norm 17 -> ~1e6), then loss oscillates and most ReLU units die
"""
import math
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)

CFG = dict(seed=0, seq_len=50, hidden=48, batch=32, steps=220, lr=0.03, momentum=0.9,
           clip=1.0, n_train=1024, n_val=256, noise=0.1)


def make_data(n, seq_len, noise, rng):
    t0 = rng.uniform(0, 2 * math.pi, size=(n, 1))
    freq = rng.uniform(0.5, 1.5, size=(n, 1))
    t = t0 + freq * np.arange(seq_len + 1)[None, :] * 0.2
    y = np.sin(t) + 0.5 * np.sin(2.3 * t)
    x = y + noise * rng.standard_normal(y.shape)
    X = torch.tensor(x[:, :-1, None], dtype=torch.float32)
    Y = torch.tensor(y[:, 1:, None], dtype=torch.float32)
    return X, Y


class IRNN(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, nonlinearity="relu", batch_first=True)
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(torch.eye(hidden))
            self.rnn.bias_hh_l0.zero_()
            self.rnn.bias_ih_l0.zero_()
            self.rnn.weight_ih_l0.normal_(0, 0.1)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h)


def evaluate(model, X, Y):
    model.eval()
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(X), Y).item()
    model.train()
    return mse


def main(cfg):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    Xtr, Ytr = make_data(cfg["n_train"], cfg["seq_len"], cfg["noise"], rng)
    Xva, Yva = make_data(cfg["n_val"], cfg["seq_len"], cfg["noise"], rng)
    model = IRNN(cfg["hidden"])
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    for step in range(cfg["steps"]):
        idx = torch.randint(0, cfg["n_train"], (cfg["batch"],))
        pred = model(Xtr[idx])
        loss = nn.functional.mse_loss(pred, Ytr[idx])
        opt.zero_grad()
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
        if step % 50 == 0:
            print(f"step {step:4d} loss {loss.item():.4f} gnorm {gn.item():.3g}")
    val = evaluate(model, Xva, Yva)
    if not math.isfinite(val):
        val = 1e6
    print(f"NNDOCTOR_METRIC val_mse={val:.4f} lower")


if __name__ == "__main__":
    main(CFG)
