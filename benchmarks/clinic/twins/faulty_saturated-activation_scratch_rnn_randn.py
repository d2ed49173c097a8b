"""Healthy twin of faulty_saturated-activation_scratch_rnn_randn.py: W and U scaled by 1/sqrt(fan_in).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

SEQ_LEN, N_IN, HIDDEN = 20, 2, 64


class ElmanRNN(nn.Module):
    def __init__(self, n_in, hidden, n_classes):
        super().__init__()
        self.W_xh = nn.Parameter(torch.randn(n_in, hidden) / n_in ** 0.5)
        self.W_hh = nn.Parameter(torch.randn(hidden, hidden) / hidden ** 0.5)
        self.b_h = nn.Parameter(torch.zeros(hidden))
        self.readout = nn.Linear(hidden, n_classes)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.W_hh.shape[0])
        for t in range(x.shape[1]):
            h = torch.tanh(x[:, t] @ self.W_xh + h @ self.W_hh + self.b_h)
        return self.readout(h)


def make_batch(n, generator):
    x = torch.randn(n, SEQ_LEN, N_IN, generator=generator)
    y = (x[:, :, 0].sum(dim=1) > 0).long()
    return x, y


def main():
    g = torch.Generator().manual_seed(0)
    X_train, y_train = make_batch(2000, g)
    X_val, y_val = make_batch(500, g)

    model = ElmanRNN(N_IN, HIDDEN, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    for epoch in range(8):
        perm = torch.randperm(len(X_train))
        losses = []
        for i in range(0, len(X_train), 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(X_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with torch.no_grad():
            val_acc = (model(X_val).argmax(1) == y_val).float().mean().item()
        print(f"epoch {epoch + 1}: mean loss {sum(losses) / len(losses):.4f}  val acc {val_acc:.3f}")
    print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")


if __name__ == "__main__":
    main()
