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


_RENDERED: dict[Any, tuple[Remedy, ...]] = {}


def render(ids: list[str], **context: Any) -> list[Remedy]:
    """The remedies ``ids`` rendered for ``context``. An active finding is rebuilt at every evaluation with
    the same remedies and context: the rendering is kept (up to 256 distinct ones; a Remedy is never
    modified after it is made, so findings may share one).

    ``roots`` (from the doctor, with ``nndoctor run``'s several models): the variable names that prefix
    each model's module names. A ``module`` under one of them is named from its own model
    (``enc.get_submodule("emb")``, not ``model.get_submodule("enc.emb")``)."""
    roots = context.pop("roots", ())
    module = context.get("module")
    if roots and isinstance(module, str):
        for r in roots:
            if module == r or module.startswith(r + "."):
                context = {**context, "model": r, "module": module[len(r) + 1:]}
                break
    try:
        # (the values' types too: 1, 1.0 and True are equal keys but render as "1", "1.0" and "True")
        key = (tuple(ids), tuple((k, type(v), v) for k, v in sorted(context.items())))
        hit = _RENDERED.get(key)
    except TypeError:   # an unhashable or unorderable context value: rendered every time
        key, hit = None, None
    if hit is None:
        hit = tuple(CATALOGUE[i].render(**context) for i in ids)
        if key is not None:
            if len(_RENDERED) >= 256:
                _RENDERED.clear()
            _RENDERED[key] = hit
    return list(hit)


# The remedies repair mode (``watch(..., repair=True)``, ``nndoctor run --fix``) can apply to the
# live training objects, and how; every other remedy needs a code change and is only reported.
LIVE: dict[str, str] = {
    "lower-lr": "each group's lr times the measured factor (suggested LR / LR) during step()",
    "raise-lr": "each group's lr times the measured factor (suggested LR / LR) during step()",
    "warmup-scheduler": "a linear warmup of the lr from 1% over max(20, 5*every) steps",
    "schedule-per-epoch": "the lr in effect during step() held at the schedule's peak (the decay undone; the "
                          "epoch length is the script's, so no slower clock is guessed)",
    "clip-grad-norm": "gradients clipped before step() at 2x their early norm; non-finite steps skipped",
    "zero-grad": "optimizer.zero_grad() after every optimizer.step()",
    "optimizer-all-params": "optimizer.add_param_group() with the missing parameters",
    "init-for-activation": "the layers re-initialized with the init matched to their activation",
    "leaky-relu": "nn.ReLU modules replaced by nn.LeakyReLU(0.01) in their parent module",
    "relu-family": "hidden nn.Sigmoid/nn.Tanh modules replaced by nn.ReLU, the layers feeding them He-initialized",
    "add-normalization": "a BatchNorm (per unit, over the batch) after each hidden layer that feeds a sigmoid/tanh "
                         "(a forward hook; the norms' parameters join the optimizer)",
    "standardize-inputs": "the first layer's input standardized with the measured per-feature mean/std",
    "check-data-finite": "NaN/Inf in the model's floating inputs replaced by 0",
    "safe-forward": "NaN/Inf entering the module named by the finding replaced by 0 (a forward pre-hook): "
                    "what an epsilon makes of 0/0",
    "safe-sqrt": "the backward pass's 0 * inf products at ops with an infinite derivative (sqrt, log, div at 0) "
                 "set to 0 by hooks on those graph nodes",
    "autograd-backward": "the custom torch.autograd.Function's hand-written backward replaced by autograd's "
                         "derivative of its own forward (its apply runs the forward with gradients recorded)",
    "safe-log": "while gradients are on, torch.log/log2/log10 take an input element in [0, 1e-7) as 1e-7 (the "
                "printed fix's clamp: log(0) = -inf becomes -16.1, its gradient 0); nothing else changes",
    "model-train": "model.train() before each forward pass with gradients enabled",
    "adaptive-optimizer": "a plain SGD optimizer turned into Adam in place (same object, groups and hooks; "
                          "lr 1e-3, fresh moments)",
}


def apply(remedy_id: str, controller: Any, finding: Any) -> Any:
    """Build and apply the live form of a remedy (repair mode); returns the applied action, whose
    ``undo()`` takes it back. Raises KeyError for a remedy with no live form."""
    if remedy_id not in LIVE:
        raise KeyError(f"remedy {remedy_id!r} has no live form (it needs a code change)")
    from ..repair.engine import make_action

    action = make_action(controller, finding, remedy_id)
    action.details = action.apply()
    return action


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
# the clamp the safe-log snippet prints; repair mode's live safe-log applies the same one (tests check both)
SAFE_LOG_EPS = 1e-7
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
remedy("autograd-backward", "Fix the hand-written backward of `{function}`, or let autograd derive it", """
# {function}.backward returns NaN/Inf from a finite gradient (a division by a norm that is 0 where the
# forward adds an eps, 0 * inf): give the backward the forward's guard, e.g. the same eps --
#     d = torch.sqrt((diff * diff).sum(-1) + EPS)     # not diff.norm(dim=-1)
# -- or drop the custom Function and call the forward's math directly: autograd derives its gradient
# (check a fixed backward with torch.autograd.gradcheck on float64 inputs)
""", function="the custom autograd.Function")
remedy("safe-forward", "Make the forward code's own arithmetic finite before `{enters}` (an epsilon, a clamp)", """
# in {module}.forward, the code that computes what `{enters}` is fed makes NaN/Inf from finite inputs, e.g.
x = (x - x.mean(0)) / (x.std(0) + 1e-5)     # an epsilon in every division by a statistic (0/0 on a constant)
x = torch.log(x.clamp_min(1e-7))             # a clamp before log / sqrt / pow of values that can reach 0
""", enters="the first layer", module="the model")
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

# --- activations and initialization ------------------------------------------------------------
remedy("leaky-relu", "Use LeakyReLU/ELU in {where}: a unit with a negative input still gets a gradient", """
# a dead ReLU unit outputs 0 for every input and gets no gradient, so it never recovers
act = torch.nn.LeakyReLU(0.01)     # or torch.nn.ELU(); functional: F.leaky_relu(x, 0.01)
""", where="the affected layers")
remedy("fix-negative-bias", "Reset the biases that push pre-activations negative", """
for m in {model}.modules():
    if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) and m.bias is not None:
        torch.nn.init.zeros_(m.bias)          # a bias far below 0 keeps a ReLU unit off for every input
""")
remedy("init-for-activation", "{init_title}", """
for m in {model}.modules():
    if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d)):
        {init_call}
        if m.bias is not None:
            torch.nn.init.zeros_(m.bias)
""", init_title="Initialize weights for the activation (He/Kaiming for ReLU, Xavier for tanh/sigmoid)",
       init_call='torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")')
remedy("lsuv", "Scale each layer to unit output variance on a real batch (LSUV, Mishkin & Matas 2016)", """
layers = [m for m in {model}.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
with torch.no_grad():
    for layer in layers:                       # in forward order
        out = []
        h = layer.register_forward_hook(lambda m, i, o: out.append(o))
        {model}(x_batch)
        h.remove()
        layer.weight /= out[0].std() + 1e-8    # this layer's output now has std ~1
""")
remedy("normalize-before-activation", "Normalize the pre-activations (BatchNorm/LayerNorm before {activation})", """
block = torch.nn.Sequential(
    torch.nn.Linear(n_in, n_out),
    torch.nn.LayerNorm(n_out),        # or BatchNorm1d: keeps pre-activations near 0, off the flat tails
    torch.nn.{activation}(),
)
""", activation="Tanh")

# --- data --------------------------------------------------------------------------------------
remedy("standardize-inputs", "Standardize the inputs with training-set statistics", """
mean, std = X_train.mean(0, keepdim=True), X_train.std(0, keepdim=True).clamp_min(1e-8)
X_train = (X_train - mean) / std
X_val = (X_val - mean) / std          # the same statistics for validation/test data
""")
remedy("scale-images", "Scale images to [0, 1] (then optionally normalize per channel)", """
x = x.float() / 255.0                 # or torchvision.transforms.ToTensor(), which does this
x = (x - x.mean((0, 2, 3), keepdim=True)) / x.std((0, 2, 3), keepdim=True)
""")
remedy("input-batchnorm", "Let the model normalize its input (BatchNorm as the first layer)", """
{model} = torch.nn.Sequential(torch.nn.BatchNorm1d(n_features), {model})
""")

# --- loss --------------------------------------------------------------------------------------
remedy("ce-on-logits", "Give CrossEntropyLoss the raw logits: remove the softmax before it", """
# CrossEntropyLoss applies log_softmax itself; a softmax before it squashes the logits
logits = {model}(x)                   # no softmax in forward()
loss = torch.nn.functional.cross_entropy(logits, y)
probs = logits.softmax(dim=1)         # only where probabilities are needed (inference)
""")
remedy("bce-with-logits", "Use BCEWithLogitsLoss on the raw outputs (no sigmoid before it)", """
logits = {model}(x)                   # no sigmoid in forward()
loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y.float())
""")
remedy("cross-entropy", "Use CrossEntropyLoss with class-index targets for single-label classification", """
logits = {model}(x)                   # shape [N, n_classes], no softmax
loss = torch.nn.functional.cross_entropy(logits, y.long())   # y: class indices, shape [N]
""")
remedy("nll-after-log-softmax", "NLLLoss expects log-probabilities: apply log_softmax first (or use CrossEntropyLoss)", """
loss = torch.nn.functional.nll_loss(torch.log_softmax(logits, dim=1), y)
# equivalently: torch.nn.functional.cross_entropy(logits, y)
""")
remedy("multilabel-bce", "Multi-label targets: one independent sigmoid per label (BCEWithLogitsLoss)", """
logits = {model}(x)                   # shape [N, n_labels]
loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y.float())   # y multi-hot
""")
remedy("two-logits-or-bce", "A single output unit needs a sigmoid (BCEWithLogitsLoss), not a softmax", """
# softmax over one unit is always 1.0 (and CrossEntropy over one class is always 0)
logit = {model}(x).squeeze(-1)        # one unit -> BCEWithLogitsLoss
loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y.float())
# or: two output units with torch.nn.functional.cross_entropy(logits, y.long())
""")
remedy("regression-loss", "Use a regression loss (MSELoss/HuberLoss) for real-valued targets", """
loss = torch.nn.functional.mse_loss(pred, y)     # or smooth_l1_loss / huber_loss for outliers
""")
remedy("match-shapes", "Make prediction and target the same shape before the loss", """
{fix_line}
""", fix_line="loss = loss_fn(pred.squeeze(-1), y)   # [N, 1] -> [N]; or pred.view_as(y)")

# --- hyperparameters ---------------------------------------------------------------------------
remedy("raise-lr", "Raise the learning rate (to {suggested_lr})", """
for group in {optimizer}.param_groups:
    group["lr"] = {suggested_lr}
""", suggested_lr="current_lr * 10")
remedy("lr-range-test", "Measure a good learning rate with an LR range test", """
# raise the LR exponentially over ~100 steps on a copy of the model; pick ~1/10 of the LR where
# the loss is lowest (before it blows up). `nndoctor checkup` runs this for you.
lrs = torch.logspace(-6, 0, 100)
""")
remedy("warmup-scheduler", "Warm the learning rate up, then decay it (OneCycleLR / cosine)", """
scheduler = torch.optim.lr_scheduler.OneCycleLR({optimizer}, max_lr={max_lr}, total_steps=n_steps)
# call scheduler.step() after every optimizer.step()
""", max_lr="lr")
remedy("schedule-per-epoch", "Step the LR scheduler as often as its parameters assume (per epoch for StepLR)", """
for epoch in range(n_epochs):
    for x, y in loader:
        ...
        {optimizer}.step()
    scheduler.step()        # StepLR/MultiStepLR/ExponentialLR count epochs: step them once per epoch
# stepping per batch instead? then give it steps: StepLR(opt, step_size=epochs_per_decay * len(loader))
""")
remedy("adaptive-optimizer", "Use an adaptive optimizer (Adam/AdamW), less sensitive to the LR's scale", """
{optimizer} = torch.optim.AdamW({model}.parameters(), lr=1e-3)
""")
remedy("larger-batch", "Use a larger batch (or accumulate gradients over {k} batches)", """
loader = torch.utils.data.DataLoader(dataset, batch_size={suggested_batch}, shuffle=True)
# if it does not fit in memory, accumulate:
for i, (x, y) in enumerate(loader):
    (loss_fn({model}(x), y) / {k}).backward()
    if (i + 1) % {k} == 0:
        {optimizer}.step()
        {optimizer}.zero_grad()
""", suggested_batch=64, k=8)
remedy("batch-ramp", "Increase the batch size during training (small early, larger later)", """
for epoch in range(n_epochs):
    batch_size = min({suggested_batch}, 8 * 2 ** (epoch // 5))
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
""", suggested_batch=64)
remedy("groupnorm-small-batch", "With tiny batches, use GroupNorm/LayerNorm instead of BatchNorm", """
norm = torch.nn.GroupNorm(num_groups=8, num_channels=c)   # statistics per sample, not per batch
""")
remedy("fit-batch", "Use a batch size that fits: {suggested_batch}", """
loader = torch.utils.data.DataLoader(dataset, batch_size={suggested_batch}, shuffle=True)
""", suggested_batch="batch_size // 2")
remedy("mixed-precision", "Train in mixed precision (about half the activation memory)", """
with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
    loss = loss_fn({model}(x), y)
loss.backward()
""")
remedy("activation-checkpointing", "Recompute activations in backward instead of storing them", """
from torch.utils.checkpoint import checkpoint
h = checkpoint(block, h, use_reentrant=False)   # for each large block in forward()
""")

# --- generalization and progress ---------------------------------------------------------------
remedy("early-stopping", "Stop at the best validation loss (early stopping) and keep that checkpoint", """
best, bad_epochs, patience = float("inf"), 0, 5
for epoch in range(n_epochs):
    train_one_epoch()
    val_loss = evaluate()
    if val_loss < best:
        best, bad_epochs = val_loss, 0
        torch.save({model}.state_dict(), "best.pt")
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            break
{model}.load_state_dict(torch.load("best.pt"))
""")
remedy("dropout", "Add Dropout between layers", """
layer = torch.nn.Sequential(torch.nn.Linear(n_in, n_out), torch.nn.ReLU(), torch.nn.Dropout(0.3))
""")
remedy("smaller-model", "Use a smaller model (fewer or narrower layers) or more data / augmentation", """
# fewer parameters than training examples is a reasonable starting point for tabular data;
# for images: torchvision.transforms.RandomResizedCrop / RandomHorizontalFlip add data for free
""")
remedy("model-train", "Put the model back in training mode before training", """
{model}.train()      # after every evaluation: model.eval() switches off dropout and batch statistics
for x, y in loader:
    ...
""")
remedy("check-labels", "Check that inputs and labels still line up (shuffle them together)", """
idx = torch.randperm(len(X))
X, y = X[idx], y[idx]                 # one permutation for both
print(X[:3], y[:3])                   # look at a few examples by eye
""")
remedy("overfit-one-batch", "Check the model can drive the loss to ~0 on one batch", """
x, y = next(iter(loader))
for _ in range(200):
    {optimizer}.zero_grad(); loss = loss_fn({model}(x), y); loss.backward(); {optimizer}.step()
print(loss.item())                    # a model that cannot overfit one batch has a bug
""")
