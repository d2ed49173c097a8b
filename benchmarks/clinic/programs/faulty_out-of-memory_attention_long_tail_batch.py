"""Tiny self-attention classifier on length-bucketed token sequences; the last bucket holds the long documents.

expect: out-of-memory

The script caps its address space at (current size + 400 MB) with RLIMIT_AS, as if on a small
GPU. Most sequences are 16-192 tokens, but the corpus also has 16 long documents (700-1024
tokens). Batches are formed after sorting by length (to save padding), so the first 19
batches train fine, but the 20th holds the long documents: the hand-written attention builds
a batch x heads x L x L score matrix, 16 x 4 x 1010 x 1010 floats = 261 MB, plus softmax
output and the padding-masked copy, and the step dies with "RuntimeError: ...
DefaultCPUAllocator: can't allocate memory" at the end of the first epoch (exit code 1).
Fixed (truncate every sequence to MAX_LEN = 256 tokens): both epochs complete (40 steps,
exit 0, last loss 0.67 -- just an early stage of training); here the run crashes at step 20.
"""
import math
import resource

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

VOCAB, D_MODEL, HEADS, BATCH = 20, 64, 4, 16
MAX_LEN = None            # keep whole documents


def limit_address_space(extra_bytes):
    status = open("/proc/self/status").read()
    vm_size = int(status.split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm_size + extra_bytes, resource.getrlimit(resource.RLIMIT_AS)[1]))


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.d_head = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x, pad_mask):
        b, L, d = x.shape
        q, k, v = self.qkv(x).view(b, L, 3, self.heads, self.d_head).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)          # b x h x L x L
        scores = scores.masked_fill(pad_mask[:, None, None, :], float("-inf"))
        attn = scores.softmax(-1)
        return self.out((attn @ v).transpose(1, 2).reshape(b, L, d))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL, padding_idx=0)
        self.pos = nn.Embedding(1024, D_MODEL)
        self.attn = SelfAttention(D_MODEL, HEADS)
        self.norm1, self.norm2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
        self.ff = nn.Sequential(nn.Linear(D_MODEL, 128), nn.GELU(), nn.Linear(128, D_MODEL))
        self.head = nn.Linear(D_MODEL, 2)

    def forward(self, tokens):
        pad = tokens == 0
        x = self.embed(tokens) + self.pos(torch.arange(tokens.shape[1]))
        x = self.norm1(x + self.attn(x, pad))
        x = self.norm2(x + self.ff(x))
        keep = (~pad).unsqueeze(-1).float()
        return self.head((x * keep).sum(1) / keep.sum(1))


def make_corpus(g):
    lengths = torch.cat([torch.randint(16, 193, (304,), generator=g), torch.randint(700, 1025, (16,), generator=g)])
    docs, labels = [], []
    for n in lengths.tolist():
        doc = torch.randint(1, VOCAB, (n,), generator=g)
        docs.append(doc)
        labels.append(int((doc == 3).sum() > (doc == 7).sum()))
    return docs, torch.tensor(labels)


def bucketed_batches(docs, labels):
    order = sorted(range(len(docs)), key=lambda i: len(docs[i]))
    for start in range(0, len(order), BATCH):
        idx = order[start:start + BATCH]
        seqs = [docs[i][:MAX_LEN] for i in idx]
        yield nn.utils.rnn.pad_sequence(seqs, batch_first=True), labels[idx]


def main():
    limit_address_space(400 * 2**20)
    torch.manual_seed(0)
    docs, labels = make_corpus(torch.Generator().manual_seed(0))
    model = Classifier()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    step = 0
    for epoch in range(2):
        for tokens, y in bucketed_batches(docs, labels):
            loss = F.cross_entropy(model(tokens), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 5 == 0:
                print(f"epoch {epoch}  step {step:2d}  seq len {tokens.shape[1]:4d}  loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
