"""A small GRU language model with input and output embeddings tied, on a synthetic Markov-chain corpus.

expect: healthy
trap: weight tying -- `decoder.weight = embedding.weight`, one Parameter used by two modules (listed once by parameters(), its gradient is the sum of both uses; named_parameters() shows it under the embedding's name only); an embedding where every step touches only the rows of the tokens in the batch plus a dense gradient from the tied decoder; a bias-only decoder entry; integer token ids as input; clip_grad_norm_

The corpus is sampled from a sparse random Markov chain over 60 tokens (each token has 3
likely successors), so the best achievable cross-entropy is ~1.0 nats against ln(60)=4.1
for a uniform guess.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, EMB, SEQ, BATCH = 60, 48, 24, 32

# A sparse Markov chain: 3 successors per token with probabilities 0.6 / 0.3 / 0.1.
succ = torch.stack([torch.randperm(VOCAB)[:3] for _ in range(VOCAB)])
probs = torch.tensor([0.6, 0.3, 0.1])


def sample_batch(n, length):
    tok = torch.randint(0, VOCAB, (n,))
    out = [tok]
    for _ in range(length):
        choice = torch.multinomial(probs.expand(n, 3), 1).squeeze(1)
        tok = succ[tok, choice]
        out.append(tok)
    return torch.stack(out, dim=1)


class TiedLM(nn.Module):
    def __init__(self, vocab, dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.embedding.weight          # weight tying

    def forward(self, tokens):
        h, _ = self.rnn(self.embedding(tokens))
        return self.decoder(h)


model = TiedLM(VOCAB, EMB)
print("parameter tensors:", len(list(model.parameters())),
      "tied:", model.decoder.weight is model.embedding.weight)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
held_out = sample_batch(256, SEQ)

for step in range(200):
    seq = sample_batch(BATCH, SEQ)
    logits = model(seq[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), seq[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % 40 == 0 or step == 199:
        with torch.no_grad():
            val = F.cross_entropy(model(held_out[:, :-1]).reshape(-1, VOCAB), held_out[:, 1:].reshape(-1))
        print(f"step {step:3d}  loss {loss.item():.3f}  held-out {val.item():.3f}")
