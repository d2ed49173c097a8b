"""GRU encoder-decoder with hand-written additive attention learns to sort digit strings; teacher forcing + CyclicLR.

expect: healthy
trap: CyclicLR (triangular2) swings the LR up and down 15x every 100 steps, so the loss curve
has periodic bumps; teacher forcing is annealed from 1.0 to 0.3, so the training loss rises
when the decoder starts being fed its own predictions; near the end the model has converged
and every gradient is small.

Source: 9 random digits (0-9).  Target: the same digits sorted, followed by EOS.  The encoder
is a bidirectional GRU; the decoder is a GRUCell that at each step attends over the encoder
states with Bahdanau attention written out by hand (v^T tanh(W_h h + W_s s)), and the model's
forward returns a dict {"logits", "attn"}.  Teacher forcing ratio decays linearly from 1.0 to
0.3.  Adam with CyclicLR(base_lr=2e-4, max_lr=3e-3, step_size_up=50, mode="triangular2",
cycle_momentum=False), grad clipping at 1.0.
Measured: greedy-decoding exact-sequence accuracy 0.9920, token accuracy 0.9982 (plain run, 5 epochs).
"""
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
random.seed(0)
torch.set_num_threads(1)

L = 9
BOS, EOS = 10, 11
V_IN, V_OUT = 10, 12


def make(n, g):
    src = torch.randint(0, 10, (n, L), generator=g)
    tgt = torch.cat([src.sort(dim=1).values, torch.full((n, 1), EOS)], dim=1)
    return src, tgt


g = torch.Generator().manual_seed(0)
src_tr, tgt_tr = make(4000, g)
src_te, tgt_te = make(500, g)


class Seq2Seq(nn.Module):
    def __init__(self, d=64):
        super().__init__()
        self.src_emb = nn.Embedding(V_IN, d)
        self.tgt_emb = nn.Embedding(V_OUT, d)
        self.encoder = nn.GRU(d, d, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * d, d)
        self.W_h = nn.Linear(2 * d, d, bias=False)
        self.W_s = nn.Linear(d, d)
        self.v = nn.Linear(d, 1, bias=False)
        self.cell = nn.GRUCell(d + 2 * d, d)
        self.out = nn.Linear(d + 2 * d, V_OUT)

    def forward(self, src, tgt=None, tf_ratio=1.0, max_len=L + 1):
        enc, h_n = self.encoder(self.src_emb(src))          # enc: B,L,2d
        s = torch.tanh(self.bridge(torch.cat([h_n[0], h_n[1]], dim=-1)))
        keys = self.W_h(enc)
        inp = torch.full((src.shape[0],), BOS, dtype=torch.long)
        logits, attns = [], []
        for t in range(max_len):
            scores = self.v(torch.tanh(keys + self.W_s(s).unsqueeze(1))).squeeze(-1)
            a = F.softmax(scores, dim=-1)
            ctx = torch.bmm(a.unsqueeze(1), enc).squeeze(1)
            s = self.cell(torch.cat([self.tgt_emb(inp), ctx], dim=-1), s)
            o = self.out(torch.cat([s, ctx], dim=-1))
            logits.append(o)
            attns.append(a)
            if tgt is not None and random.random() < tf_ratio:
                inp = tgt[:, t]
            else:
                inp = o.argmax(-1)
        return {"logits": torch.stack(logits, 1), "attn": torch.stack(attns, 1)}


model = Seq2Seq()
opt = torch.optim.Adam(model.parameters(), lr=2e-4)
sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=2e-4, max_lr=3e-3, step_size_up=50,
                                          mode="triangular2", cycle_momentum=False)
BS, EPOCHS = 64, 5
steps_per_epoch = len(src_tr) // BS
total = EPOCHS * steps_per_epoch
step = 0
for epoch in range(EPOCHS):
    model.train()
    perm = torch.randperm(len(src_tr))
    for s_ in range(steps_per_epoch):
        idx = perm[s_ * BS:(s_ + 1) * BS]
        tf = 1.0 - 0.7 * step / total
        out = model(src_tr[idx], tgt_tr[idx], tf_ratio=tf)
        loss = F.cross_entropy(out["logits"].reshape(-1, V_OUT), tgt_tr[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
    print(f"epoch {epoch} loss {loss.item():.4f} tf {tf:.2f}")

model.eval()
with torch.no_grad():
    pred = model(src_te)["logits"].argmax(-1)
    seq_acc = (pred == tgt_te).all(dim=1).float().mean().item()
    tok_acc = (pred == tgt_te).float().mean().item()
print(f"token acc {tok_acc:.4f}")
print(f"NNDOCTOR_METRIC seq_acc={seq_acc:.4f} higher")
