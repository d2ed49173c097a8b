"""Encoder-decoder GRU that learns to sort short integer sequences, wrapped in a
scikit-learn style estimator (fit / predict / score).

expect: healthy
Fix: fit() now calls torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.25) between loss.backward() and optimizer.step(); lr stays at 3.5.
"""
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


def make_sorting_data(n_samples, seq_len=10, vocab_size=10, rng=None):
    """Random integer sequences X and their sorted versions y."""
    rng = np.random.RandomState(0) if rng is None else rng
    X = rng.randint(0, vocab_size, size=(n_samples, seq_len))
    y = np.sort(X, axis=1)
    return X, y


class _Seq2Seq(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_size, recurrent_gain):
        super().__init__()
        self.bos = vocab_size  # extra token used to start decoding
        self.embed = nn.Embedding(vocab_size + 1, emb_dim)
        self.encoder = nn.GRU(emb_dim, hidden_size, batch_first=True)
        self.decoder = nn.GRU(emb_dim, hidden_size, batch_first=True)
        self.proj = nn.Linear(hidden_size, vocab_size)
        self._init_weights(hidden_size, recurrent_gain)

    def _init_weights(self, hidden_size, gain):
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        nn.init.uniform_(self.proj.weight, -0.1, 0.1)
        nn.init.zeros_(self.proj.bias)
        for gru in (self.encoder, self.decoder):
            w = gru.weight_hh_l0.data
            for k in range(3):  # reset / update / new gate blocks
                nn.init.orthogonal_(w[k * hidden_size:(k + 1) * hidden_size], gain=gain)

    def forward(self, src, tgt_in):
        _, h = self.encoder(self.embed(src))
        out, _ = self.decoder(self.embed(tgt_in), h)
        return self.proj(out)

    @torch.no_grad()
    def greedy_decode(self, src, length):
        _, h = self.encoder(self.embed(src))
        tok = torch.full((src.shape[0], 1), self.bos, dtype=torch.long)
        outputs = []
        for _ in range(length):
            out, h = self.decoder(self.embed(tok), h)
            tok = self.proj(out).argmax(-1)
            outputs.append(tok)
        return torch.cat(outputs, dim=1)


class GRUSeq2SeqSorter:
    """Minimal sklearn-like estimator: fit(X, y) / predict(X) / score(X, y)."""

    def __init__(self, vocab_size=10, emb_dim=32, hidden_size=64, recurrent_gain=1.5,
                 lr=3.5, momentum=0.9, n_epochs=6, batch_size=64, max_grad_norm=0.25):
        self.vocab_size = vocab_size
        self.emb_dim = emb_dim
        self.hidden_size = hidden_size
        self.recurrent_gain = recurrent_gain
        self.lr = lr
        self.momentum = momentum
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.max_grad_norm = max_grad_norm

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in ("vocab_size", "emb_dim", "hidden_size", "recurrent_gain",
                                              "lr", "momentum", "n_epochs", "batch_size", "max_grad_norm")}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y):
        X = torch.as_tensor(X, dtype=torch.long)
        y = torch.as_tensor(y, dtype=torch.long)
        self.model_ = _Seq2Seq(self.vocab_size, self.emb_dim, self.hidden_size, self.recurrent_gain)
        self.optimizer_ = torch.optim.SGD(self.model_.parameters(), lr=self.lr, momentum=self.momentum)
        criterion = nn.CrossEntropyLoss()
        bos = torch.full((len(y), 1), self.model_.bos, dtype=torch.long)
        y_in = torch.cat([bos, y[:, :-1]], dim=1)  # teacher forcing
        self.loss_curve_ = []
        self.model_.train()
        for epoch in range(self.n_epochs):
            perm = torch.randperm(len(X))
            running = 0.0
            for start in range(0, len(X), self.batch_size):
                idx = perm[start:start + self.batch_size]
                logits = self.model_(X[idx], y_in[idx])
                loss = criterion(logits.reshape(-1, self.vocab_size), y[idx].reshape(-1))
                self.optimizer_.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), self.max_grad_norm)
                self.optimizer_.step()
                running += loss.item() * len(idx)
            self.loss_curve_.append(running / len(X))
        return self

    def predict(self, X):
        X = torch.as_tensor(X, dtype=torch.long)
        self.model_.eval()
        return self.model_.greedy_decode(X, X.shape[1]).numpy()

    def score(self, X, y):
        """Per-token accuracy of the greedy decoding."""
        return float((self.predict(X) == np.asarray(y)).mean())


if __name__ == "__main__":
    rng = np.random.RandomState(0)
    X_train, y_train = make_sorting_data(3000, rng=rng)
    X_val, y_val = make_sorting_data(1000, rng=rng)
    est = GRUSeq2SeqSorter().fit(X_train, y_train)
    acc = est.score(X_val, y_val)
    if not np.isfinite(acc):
        acc = 0.1
    print(f"NNDOCTOR_METRIC val_token_acc={acc:.4f} higher")
