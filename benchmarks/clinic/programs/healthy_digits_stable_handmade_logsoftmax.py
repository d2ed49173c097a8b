"""MLP on digits trained with a hand-written, max-shifted log-softmax and one-hot NLL, numpy metrics inside the loop.
expect: healthy
trap: hand-written exp/log loss (but the stable log-sum-exp form); one-hot float targets multiplied into log-probabilities; .detach().numpy() and .item() every batch for bookkeeping only; model.eval()/model.train() toggled around a per-epoch validation with a no_grad val loss; Dropout

The loss is spelled out by hand: z - max(z) is subtracted before exp, log-softmax is
z - log(sum(exp(z))), and the loss is -(Y_onehot * log_probs).sum(1).mean(). Because of the shift the
exp never overflows and log never sees 0, so there is no NaN even when the network is very confident
(the naive softmax-then-log version gives -inf/NaN as soon as a probability underflows to 0). Predictions and losses are turned
into numpy / Python floats each batch, but only for accuracy bookkeeping after backward, so no graph is
cut. model.eval() is used for the validation pass and model.train() is restored at the top of every
epoch; the validation loss flattens out near its minimum rather than rising.
Measured: val_acc=0.9899   (val loss 1.05 -> 0.058, no NaN; seeds 1, 2: 0.9572, 0.9748)
"""
import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)

digits = load_digits()
X = digits.data.astype(np.float32) / 16.0
Y = digits.target

perm = np.random.permutation(len(X))
X = X[perm]
Y = Y[perm]
X_tr, Y_tr = X[:1400], Y[:1400]
X_va, Y_va = X[1400:], Y[1400:]

Y_tr_onehot = np.eye(10)[Y_tr]
Y_va_onehot = np.eye(10)[Y_va]


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(64, 128)
        self.l2 = nn.Linear(128, 64)
        self.l3 = nn.Linear(64, 10)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        x = torch.relu(self.l1(x))
        x = self.drop(x)
        x = torch.relu(self.l2(x))
        return self.l3(x)


def log_softmax(z):
    z = z - z.max(dim=1, keepdim=True)[0]
    return z - torch.log(torch.exp(z).sum(dim=1, keepdim=True))


model = MLP()
opt = torch.optim.Adam(model.parameters(), lr=0.003)

for epoch in range(15):
    model.train()
    idx = np.random.permutation(len(X_tr))
    correct = 0
    losses = []
    for start in range(0, len(idx), 50):
        b = idx[start:start + 50]
        xb = torch.Tensor(X_tr[b])
        yb = torch.Tensor(Y_tr_onehot[b])

        out = model(xb)
        logp = log_softmax(out)
        loss = -(yb * logp).sum(dim=1).mean()

        opt.zero_grad()
        loss.backward()
        opt.step()

        losses.append(loss.item())
        pred = out.detach().numpy().argmax(axis=1)
        correct += (pred == Y_tr[b]).sum()

    model.eval()
    with torch.no_grad():
        out = model(torch.Tensor(X_va))
        val_loss = -(torch.Tensor(Y_va_onehot) * log_softmax(out)).sum(dim=1).mean().item()
        val_acc = (out.numpy().argmax(axis=1) == Y_va).mean()
    print("epoch %2d train loss %.4f train acc %.3f val loss %.4f val acc %.3f"
          % (epoch, np.mean(losses), correct / len(X_tr), val_loss, val_acc))

print(f"NNDOCTOR_METRIC val_acc={val_acc:.4f} higher")
