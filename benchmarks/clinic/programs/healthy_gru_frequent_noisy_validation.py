"""GRU sequence classifier validated every 10 steps on a small held-out set (eval + no_grad, then back to train).

expect: healthy
trap: frequent validation in the middle of epochs -- model.eval() and torch.no_grad() for the check, model.train() right after (the GRU has inter-layer dropout); the validation set is small (120 sequences), so the val loss is noisy and goes up between some checks while the trend is clearly down to the end of training
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
SEQ_LEN, N_CLASSES = 24, 3


def make_sequences(n, gen):
    """Class = which of 3 motifs (rising ramp, spike pair, plateau) is hidden somewhere in a noisy sequence."""
    x = 0.5 * torch.randn(n, SEQ_LEN, 1, generator=gen)
    y = torch.randint(0, N_CLASSES, (n,), generator=gen)
    motifs = [torch.linspace(-1.5, 1.5, 6), torch.tensor([2.0, -2.0, 0.0, 2.0, -2.0, 0.0]), torch.full((6,), 1.5)]
    start = torch.randint(0, SEQ_LEN - 6, (n,), generator=gen)
    for i in range(n):
        x[i, start[i]:start[i] + 6, 0] += motifs[int(y[i])]
    return x, y


class SeqClassifier(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.gru = nn.GRU(1, hidden, num_layers=2, batch_first=True, dropout=0.2)
        self.fc = nn.Linear(hidden, N_CLASSES)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out.max(1).values)


gen = torch.Generator().manual_seed(0)
x_train, y_train = make_sequences(1400, gen)
x_val, y_val = make_sequences(120, gen)

model = SeqClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
step, VAL_EVERY = 0, 10

for epoch in range(5):
    perm = torch.randperm(len(x_train))
    for i in range(0, len(x_train), 32):
        idx = perm[i:i + 32]
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % VAL_EVERY == 0:
            model.eval()
            with torch.no_grad():
                logits = model(x_val)
                val_loss = F.cross_entropy(logits, y_val).item()
                val_acc = (logits.argmax(1) == y_val).float().mean().item()
            model.train()
            print(f"epoch {epoch} step {step:3d}  train loss {loss.item():.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}")
