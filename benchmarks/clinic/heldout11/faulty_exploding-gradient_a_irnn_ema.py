"""Hand-written ReLU RNN (IRNN: identity-initialised recurrence) estimating the
smoothed level of a noisy sensor stream (function-based style).

expect: exploding-gradient
allow: learning-rate-too-high, non-finite, loss-not-decreasing, dead-relu, saturated-activation

Bug: the recurrent cell is h = relu(W_in x_t + W_rec h), with W_rec initialised
to the identity as in the IRNN recipe (small N(0, 0.01) input weights, zero
biases), unrolled in a Python loop over 50 time steps and trained with
SGD(lr=0.01, momentum=0.9) -- but without the gradient clipping the IRNN
recipe requires. The first updates push the spectral radius of W_rec above 1,
the ReLU recurrence amplifies the back-propagated signal over 50 steps, and the
gradient norm jumps from ~9 to ~3e5 by the third step. The giant update kills
the network, which ends worse than predicting the mean.
Measured: faulty val_mse=1.341 (grad norm 9.4 -> 42 -> 3.1e5 over steps 1-3; baseline
variance of the target is ~0.46) vs fixed val_mse=0.01944 (raw grad norm <= 39, median ~2-5).
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
