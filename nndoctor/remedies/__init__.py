"""The remedy catalogue: each fix has an id, a title and a snippet a user can paste.

A snippet is a template: ``{name}`` fields are filled from the finding's context (the model's
variable name, the parameters concerned, a measured value...) and fall back to the defaults given
here, so a snippet is always complete, runnable-looking code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..findings import Remedy


@dataclass(frozen=True)
class RemedyDoc:
    id: str
    title: str
    snippet: str
    defaults: dict[str, Any] = field(default_factory=dict)

    def render(self, **context: Any) -> Remedy:
        values = {"model": "model", "optimizer": "optimizer", **self.defaults}
        values.update({k: v for k, v in context.items() if v is not None})
        title = self.title.format_map(_Missing(values))
        snippet = self.snippet.format_map(_Missing(values)).strip("\n")
        return Remedy(id=self.id, title=title, snippet=snippet)


class _Missing(dict):
    def __missing__(self, key: str) -> str:  # leave unknown fields visible rather than crash
        return "{" + key + "}"


CATALOGUE: dict[str, RemedyDoc] = {}


def remedy(id: str, title: str, snippet: str, **defaults: Any) -> RemedyDoc:
    doc = RemedyDoc(id, title, snippet, defaults)
    if id in CATALOGUE:
        raise ValueError(f"duplicate remedy id {id}")
    CATALOGUE[id] = doc
    return doc


def render(ids: list[str], **context: Any) -> list[Remedy]:
    return [CATALOGUE[i].render(**context) for i in ids]


# --- gradients ---------------------------------------------------------------------------------
remedy("clip-grad-norm", "Clip the gradient norm (max_norm={max_norm})", """
loss.backward()
torch.nn.utils.clip_grad_norm_({model}.parameters(), max_norm={max_norm})
{optimizer}.step()
""", max_norm=1.0)
remedy("lower-lr", "Lower the learning rate (to {suggested_lr})", """
for group in {optimizer}.param_groups:
    group["lr"] = {suggested_lr}
""", suggested_lr="current_lr / 10")
remedy("weight-decay", "Add weight decay (L2 regularization)", """
optimizer = torch.optim.AdamW({model}.parameters(), lr=1e-3, weight_decay=1e-2)
""")
remedy("use-lstm-gru", "Use a gated recurrent cell (LSTM/GRU) instead of a plain RNN", """
rnn = torch.nn.LSTM(input_size, hidden_size, batch_first=True)  # or torch.nn.GRU(...)
""")
remedy("add-normalization", "Add normalization layers (BatchNorm/LayerNorm) between layers", """
layer = torch.nn.Sequential(
    torch.nn.Linear(n_in, n_out),
    torch.nn.BatchNorm1d(n_out),   # or torch.nn.LayerNorm(n_out)
    torch.nn.ReLU(),
)
""")
remedy("relu-family", "Use ReLU/LeakyReLU/ELU instead of {activation}", """
# replace torch.nn.{activation}() with one whose derivative is 1 on the positive side:
act = torch.nn.LeakyReLU(0.01)   # or torch.nn.ReLU(), torch.nn.ELU()
""", activation="Sigmoid/Tanh")
remedy("residual", "Add residual (skip) connections", """
class Block(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
        self.f = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU(),
                                     torch.nn.Linear(width, width))
    def forward(self, x):
        return x + self.f(x)   # the gradient reaches x unattenuated through the identity
""")
remedy("he-init", "Initialize weights for the activation (He/Kaiming for ReLU, Xavier for tanh/sigmoid)", """
for m in {model}.modules():
    if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
        torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")  # xavier_uniform_ for tanh/sigmoid
        torch.nn.init.zeros_(m.bias)
""")

# --- non-finite --------------------------------------------------------------------------------
remedy("check-data-finite", "Remove or impute NaN/Inf in the data", """
bad = ~torch.isfinite(X).all(dim=1)
print(f"{{int(bad.sum())}} rows with NaN/Inf")
X, y = X[~bad], y[~bad]            # or impute: X = torch.nan_to_num(X, nan=0.0)
""")
remedy("safe-log", "Compute the loss on logits with a numerically safe op (no log(0))", """
# instead of  -(y * torch.log(torch.sigmoid(z))) ...  or  torch.log(torch.softmax(z, 1))
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
# multi-class: torch.nn.functional.cross_entropy(logits, target)   (log_softmax inside)
# if a log/div is unavoidable: torch.log(p.clamp_min(1e-7)), x / (d + 1e-8)
""")
remedy("safe-sqrt", "Keep sqrt/norm/pow away from 0 (their gradient at 0 is inf)", """
# d sqrt(x)/dx = inf at x == 0 and ||v||' is 0/0 at v == 0:
r = torch.sqrt(x + 1e-12)              # or torch.sqrt(x.clamp_min(1e-12))
n = torch.linalg.vector_norm(v, dim=-1).clamp_min(1e-12)
""")
remedy("fp32-loss", "Compute the loss in float32", """
with torch.autocast(device_type="cuda", enabled=False):
    loss = loss_fn(output.float(), target)
""")
remedy("detect-anomaly-once", "Confirm the failing op with anomaly mode (slow: for one step only)", """
with torch.autograd.detect_anomaly():
    loss = loss_fn({model}(x), y)
    loss.backward()
""")

# --- code problems -----------------------------------------------------------------------------
remedy("call-step", "Call optimizer.step() after loss.backward()", """
{optimizer}.zero_grad()
loss = loss_fn({model}(x), y)
loss.backward()
{optimizer}.step()        # <- applies the gradients to the parameters
""")
remedy("use-optimizer", "Update parameters in place (or use a torch.optim optimizer)", """
# `p = p - lr * p.grad` only rebinds a local name; update the tensor in place:
with torch.no_grad():
    for p in {model}.parameters():
        p -= lr * p.grad          # or p.add_(p.grad, alpha=-lr)
# simpler: optimizer = torch.optim.SGD({model}.parameters(), lr=lr); optimizer.step()
""")
remedy("nonzero-lr", "Give the optimizer a non-zero learning rate", """
for group in {optimizer}.param_groups:
    print(group["lr"])          # 0.0 means step() changes nothing
    group["lr"] = 1e-3
""")
remedy("zero-grad", "Reset gradients every step: call optimizer.zero_grad()", """
for x, y in loader:
    {optimizer}.zero_grad()   # PyTorch *adds* new gradients to .grad
    loss = loss_fn({model}(x), y)
    loss.backward()
    {optimizer}.step()
""")
remedy("zero-grad-right-object", "Call zero_grad() on the optimizer (or model) being trained", """
# zero_grad() on another model/optimizer leaves these parameters' gradients accumulating:
{optimizer}.zero_grad(set_to_none=True)   # the optimizer that owns {model}'s parameters
""")
remedy("remove-detach", "Keep the forward pass in the autograd graph (no detach/numpy/item/torch.tensor)", """
# cut:   h = self.{cut_after}(x).detach()                     (or .numpy() -> torch.tensor(...))
# fixed: h = self.{cut_after}(x)
# a NumPy step must be rewritten with torch ops so autograd can differentiate it:
#   torch.tanh(h) instead of torch.tensor(np.tanh(h.detach().numpy()))
""", cut_after="encoder")
remedy("remove-no-grad", "Do not run trained modules under torch.no_grad()", """
# wrong: with torch.no_grad(): h = self.{cut_after}(x)
h = self.{cut_after}(x)          # keep gradients for modules the optimizer trains
""", cut_after="encoder")
remedy("freeze-explicitly", "If the parameters are meant to stay fixed, freeze them explicitly", """
for p in {model}.get_submodule("{module}").parameters():
    p.requires_grad_(False)       # no gradient is computed, no optimizer state, no surprise
""", module="backbone")
remedy("module-list", "Register sub-modules with nn.ModuleList/ModuleDict, not a Python list", """
# wrong: self.layers = [torch.nn.Linear(64, 64) for _ in range(n)]   # invisible to .parameters()
self.layers = torch.nn.ModuleList([torch.nn.Linear(64, 64) for _ in range(n)])
""")
remedy("optimizer-all-params", "Build the optimizer from all trainable parameters", """
{optimizer} = torch.optim.Adam(
    [p for p in {model}.parameters() if p.requires_grad], lr=1e-3)
# or, to add a layer to an existing optimizer:
# {optimizer}.add_param_group({{"params": new_layer.parameters()}})
""")
remedy("create-optimizer-after-model", "Create the optimizer after the model is fully built", """
{model}.head = torch.nn.Linear(128, 10)    # change the model first ...
{optimizer} = torch.optim.Adam({model}.parameters(), lr=1e-3)  # ... then build the optimizer
""")
