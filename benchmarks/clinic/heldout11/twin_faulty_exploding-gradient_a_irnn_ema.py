"""Hand-written ReLU RNN (IRNN: identity-initialised recurrence) estimating the
smoothed level of a noisy sensor stream (function-based style).

expect: healthy
Fix: torch.nn.utils.clip_grad_norm_(params, 1.0) before optimizer.step() (same lr=0.01, momentum=0.9).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)

SEQ_LEN = 50
HIDDEN = 64
DECAY = 0.9


def make_data(n, seq_len, gen):
    """Noisy sensor readings; target = 3 x exponential moving average at the last step."""
    x = torch.randn(n, seq_len, 1, generator=gen)
    ema = torch.zeros(n, 1)
    for t in range(seq_len):
        ema = DECAY * ema + (1 - DECAY) * x[:, t]
    return x, 3.0 * ema


def init_rnn(n_in, hidden, n_out):
    layers = {
        "inp": nn.Linear(n_in, hidden),
        "rec": nn.Linear(hidden, hidden),
        "out": nn.Linear(hidden, n_out),
    }
    with torch.no_grad():
        nn.init.normal_(layers["inp"].weight, std=0.01)
        layers["inp"].bias.zero_()
        layers["rec"].weight.copy_(torch.eye(hidden))
        layers["rec"].bias.zero_()
    return layers


def parameters(layers):
    return [p for layer in layers.values() for p in layer.parameters()]


def rnn_forward(layers, x):
    h = torch.zeros(x.size(0), layers["rec"].weight.size(0))
    for t in range(x.size(1)):
        h = torch.relu(layers["inp"](x[:, t]) + layers["rec"](h))
    return layers["out"](h)


def train(layers, x, y, steps=300, batch_size=32, lr=0.01):
    params = parameters(layers)
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9)
    for step in range(steps):
        idx = torch.randint(0, x.size(0), (batch_size,))
        loss = F.mse_loss(rnn_forward(layers, x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
        optimizer.step()
        if step % 50 == 0:
            print(f"step {step:4d}  train_mse {loss.item():.4f}")


def evaluate(layers, x, y):
    with torch.no_grad():
        mse = F.mse_loss(rnn_forward(layers, x), y).item()
    return mse if torch.isfinite(torch.tensor(mse)) else 1e6


def main():
    gen = torch.Generator().manual_seed(0)
    x_train, y_train = make_data(2048, SEQ_LEN, gen)
    x_val, y_val = make_data(512, SEQ_LEN, gen)
    layers = init_rnn(1, HIDDEN, 1)
    train(layers, x_train, y_train)
    val_mse = evaluate(layers, x_val, y_val)
    print(f"NNDOCTOR_METRIC val_mse={val_mse:.5g} lower")


if __name__ == "__main__":
    main()
