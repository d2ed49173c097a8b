"""Loss probes: what a loss function was given (prediction and target), and what the autograd
graph between the model's output and the loss did with them. Plain numbers out, no judgement.

``torch.nn.functional``'s loss functions are wrapped while a doctor is active (see ``tap``), so
every call -- ``nn.CrossEntropyLoss()(out, y)`` calls ``F.cross_entropy`` too -- is seen with
its arguments. A loss written by hand (``((out - y) ** 2).mean()``) is seen through the graph.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

# the wrapped functions and the family each belongs to
LOSS_FUNCTIONS: dict[str, str] = {
    "cross_entropy": "class",
    "nll_loss": "nll",
    "binary_cross_entropy": "bce",
    "binary_cross_entropy_with_logits": "bce_logits",
    "mse_loss": "regression",
    "l1_loss": "regression",
    "smooth_l1_loss": "regression",
    "huber_loss": "regression",
    "kl_div": "kl",
    "multilabel_soft_margin_loss": "bce_logits",
    "soft_margin_loss": "margin",
    "poisson_nll_loss": "regression",
}

# autograd ops that only move or reshape values: looked through to find the op that made them
_SHAPE_OPS = {"View", "Reshape", "UnsafeView", "Squeeze", "Unsqueeze", "Permute", "Transpose", "T", "Clone",
              "Select", "Slice", "Expand", "ToCopy", "Flatten", "Contiguous", "AsStrided", "Cat", "Stack",
              "Index", "SqueezeDim", "UnsqueezeDim", "Narrow", "Split", "SplitWithSizes", "Unbind",
              "Alias", "Lift", "Float", "Double"}


def op_name(node: Any) -> str:
    """``SoftmaxBackward0`` -> ``Softmax``."""
    name = type(node).__name__
    for suffix in ("Backward0", "Backward1", "Backward2", "Backward"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def producer_node(t: torch.Tensor, depth: int = 8) -> Any:
    """The autograd node of the op that computed ``t``'s values, looking through reshapes/views."""
    node = t.grad_fn
    for _ in range(depth):
        if node is None:
            return None
        if op_name(node) not in _SHAPE_OPS:
            return node
        nxt = [n for n, _ in node.next_functions if n is not None]
        if not nxt:
            return node
        node = nxt[0]
    return node


def producer(t: torch.Tensor, depth: int = 8) -> str:
    """The op that computed ``t``'s values ("" for a leaf)."""
    node = producer_node(t, depth)
    return op_name(node) if node is not None else ""


def _sample(t: torch.Tensor, n: int = 4096) -> torch.Tensor:
    flat = t.detach().reshape(-1)
    return flat if flat.numel() <= n else flat[:: max(1, flat.numel() // n)][:n]


def call_options(fn: str, args: tuple, kwargs: dict) -> dict[str, float]:
    """Options of a loss call that move its floor above 0: cross-entropy's ``label_smoothing``
    (a keyword, or the 8th positional argument of ``F.cross_entropy``)."""
    ls = kwargs.get("label_smoothing", args[7] if fn == "cross_entropy" and len(args) > 7 else 0.0)
    return {"label_smoothing": float(ls)} if isinstance(ls, (int, float)) and ls > 0 else {}


def describe_call(fn: str, pred: Any, target: Any) -> dict[str, Any] | None:
    """Shapes, dtypes, producers and value summaries of one loss call's prediction and target.

    One host transfer for all the numbers. Returns None when the arguments are not tensors."""
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        return None
    d: dict[str, Any] = {
        "fn": fn, "family": LOSS_FUNCTIONS.get(fn, "other"),
        "pred_shape": list(pred.shape), "target_shape": list(target.shape),
        "pred_dtype": str(pred.dtype).replace("torch.", ""), "target_dtype": str(target.dtype).replace("torch.", ""),
        "producer": producer(pred), "train": bool(pred.requires_grad and torch.is_grad_enabled()),
    }
    node = producer_node(pred)
    if node is not None and d["producer"] in ("Softmax", "LogSoftmax"):
        try:  # how many classes the softmax normalizes over
            res, dim = node._saved_result, int(node._saved_dim)
            d["softmax_size"] = int(res.shape[dim])
        except (AttributeError, RuntimeError, IndexError, TypeError):
            pass
    d["broadcast_shape"] = _broadcast(list(pred.shape), list(target.shape))
    with torch.no_grad():
        p = pred.detach()
        try:
            vals = _summaries_host(p, target.detach())
        except Exception:   # a tensor numpy cannot view (a neg bit, a subclass...): the torch path decides
            vals = None
        n_unique = vals.pop() if vals is not None else None
    if vals is None:
        vals, n_unique = _summaries_device(p, target)
    (d["pred_min"], d["pred_max"], d["pred_rowsum_min"], d["pred_rowsum_max"], d["target_min"], d["target_max"],
     integral, binary, d["target_rowsum_min"], d["target_rowsum_max"]) = vals
    d["target_integral"] = bool(integral == 1.0)
    d["target_binary"] = bool(binary == 1.0)
    d["target_unique"] = int(n_unique)
    d["n_classes"] = int(pred.shape[1]) if pred.ndim >= 2 else (1 if pred.ndim == 1 else 0)
    return d


def _broadcast(a: list[int], b: list[int]) -> list[int] | None:
    """``list(torch.broadcast_shapes(a, b))``, or None where they do not broadcast (a cross-entropy's
    [N, C] prediction and [N] target at every described call: torch builds an error message for it)."""
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            return None
        out.append(y if x == 1 else x)
    return out


_HOST_DTYPES = (torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8,
                torch.uint8, torch.bool)


def _summaries_host(p: torch.Tensor, tg: torch.Tensor) -> list[float] | None:
    """``_summaries_device``'s numbers, for CPU tensors, by numpy on zero-copy views: the same values
    (min, max, round, comparisons and unique are exact; the row sums are torch's own), without ~20 small
    torch ops (~0.2 ms a call, and ~1.5 ms for the first in a process, which nndoctor run pays in every
    script). Returns the ten numbers and the unique-target count, or None where the tensors are not
    plain CPU tensors numpy can view (the device path then)."""
    if p.device.type != "cpu" or tg.device.type != "cpu" or p.layout != torch.strided or tg.layout != torch.strided \
            or p.dtype not in _HOST_DTYPES or tg.dtype not in _HOST_DTYPES or p.is_meta or tg.is_meta:
        return None
    nan = float("nan")
    out: list[float] = []
    if p.is_floating_point() and p.numel():
        ps = _sample(p).float().numpy()
        out += [float(ps.min()), float(ps.max())]
        if p.ndim >= 2 and p.shape[1] > 1:
            rows = p.float().sum(1).reshape(-1)[:1024].numpy()
            out += [float(rows.min()), float(rows.max())]
        else:
            out += [nan, nan]
    else:
        out += [nan] * 4
    if tg.numel():
        ts = _sample(tg).double().numpy()
        out += [float(ts.min()), float(ts.max()), float(bool((ts == np.round(ts)).all())),
                float(bool(((ts == 0) | (ts == 1)).all()))]
        if tg.ndim >= 2 and tg.shape[-1] > 1 and tg.is_floating_point():
            rows = tg.double().reshape(-1, tg.shape[-1])[:1024].sum(-1).numpy()
            out += [float(rows.min()), float(rows.max())]
        else:
            out += [nan, nan]
        out.append(int(np.unique(ts[:1024], equal_nan=False).size))   # (torch.unique: each NaN its own)
    else:
        out += [nan] * 6
        out.append(0)
    return out


def _summaries_device(p: torch.Tensor, target: torch.Tensor) -> tuple[list[float], int]:
    """The prediction's and target's summaries computed where they live, in one host transfer."""
    with torch.no_grad():
        stats = []
        if p.is_floating_point() and p.numel():
            ps = _sample(p).float()
            stats += [ps.min(), ps.max()]
            if p.ndim >= 2 and p.shape[1] > 1:  # class dimension 1: do rows sum to one?
                rows = p.float().sum(1).reshape(-1)[:1024]
                stats += [rows.min(), rows.max()]
            else:
                stats += [torch.tensor(float("nan")), torch.tensor(float("nan"))]
        else:
            stats += [torch.tensor(float("nan"))] * 4
        tg = target.detach()
        if tg.numel():
            ts = _sample(tg).double()
            integral = (ts == ts.round()).all().double()
            stats += [ts.min(), ts.max(), integral, ((ts == 0) | (ts == 1)).all().double()]
            if tg.ndim >= 2 and tg.shape[-1] > 1 and tg.is_floating_point():
                rows = tg.double().reshape(-1, tg.shape[-1])[:1024].sum(-1)
                stats += [rows.min(), rows.max()]
            else:
                stats += [torch.tensor(float("nan"))] * 2
            uniq = torch.unique(ts[:1024])
            n_unique = uniq.numel()
        else:
            stats += [torch.tensor(float("nan"))] * 6
            n_unique = 0
        vals = torch.stack([s.detach().double().reshape(()).cpu() for s in stats]).tolist()
    return vals, n_unique


def broadcasts_in_loss(root_fns: list[Any], stop: set[int], batch: int | None, max_nodes: int = 2000) -> list[dict]:
    """Elementwise ops between the model's output and the loss that broadcast the prediction
    against a tensor outside the graph (a target) into a bigger tensor: ``[N, 1] - [N] -> [N, N]``.

    ``stop``: ids of the model's output nodes (the walk does not go into the model). Only growth
    that creates a second dimension of the batch size is reported, which is what an accidental
    ``[N]`` vs ``[N, 1]`` broadcast does; broadcasting against a parameter, or between two tensors
    that both come from the model (pairwise distances), is not.
    """
    found: list[dict] = []
    seen: set[int] = set()
    stack = [n for n in root_fns if n is not None]
    while stack and len(seen) < max_nodes:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in stop:
            continue
        nxt = [n for n, _ in node.next_functions]
        name = op_name(node)
        if name in ("Sub", "Add", "Mul", "Div", "Rsub", "Pow", "Maximum", "Minimum", "Atan2") and len(nxt) >= 2:
            in_graph = [n for n in nxt[:2] if n is not None]
            if len(in_graph) == 1:
                try:
                    out_shape = list(node._input_metadata[0].shape)
                    in_shape = list(in_graph[0]._input_metadata[0].shape)
                except (AttributeError, IndexError, RuntimeError):
                    out_shape = in_shape = []
                n = batch or (max(in_shape) if in_shape else 0)
                if n > 1 and math.prod(out_shape) > math.prod(in_shape) and out_shape.count(n) >= 2 > in_shape.count(n):
                    found.append({"op": name, "pred_shape": in_shape, "result_shape": out_shape})
        stack.extend(n for n in nxt if n is not None)
    return found



def prior_stats(fn: str, pred: Any, target: Any, args: tuple, kwargs: dict) -> dict | None:
    """Sufficient statistics of this batch's targets for the loss of the best *constant* prediction (the
    null model that knows only the label frequencies / the target mean), or None when this call's loss is
    not the plain mean loss such a baseline is defined for (class weights, pos_weight, label smoothing, a
    reduction other than the mean, broadcasting shapes). One host transfer; taken only for described calls.

    * ``cross_entropy`` with class indices: the class counts (the null loss is their entropy);
    * ``binary_cross_entropy[_with_logits]`` with 0/1 targets of the prediction's shape: per-column sums
      of the targets and the row count (the null loss is the mean binary entropy of the column rates);
    * ``mse_loss`` with the prediction's shape: count, sum and sum of squares (the null loss is the variance).
    """
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor) or not pred.numel():
        return None
    if kwargs.get("reduction", "mean") not in ("mean", "sum") or kwargs.get("size_average") is not None \
            or kwargs.get("reduce") is not None:
        return None
    with torch.no_grad():
        if fn == "cross_entropy":
            weight = kwargs.get("weight", args[2] if len(args) > 2 else None)
            if weight is not None or call_options(fn, args, kwargs) or len(args) > 3:
                return None
            if target.is_floating_point() or pred.ndim < 2 or target.ndim != pred.ndim - 1 or pred.shape[1] > 4096:
                return None
            t = target.reshape(-1)
            t = t[t >= 0]            # ignore_index (-100 by default) is not a class
            if not t.numel():
                return None
            k = int(pred.shape[1])
            counts = torch.bincount(t.clamp(max=k), minlength=k + 1).tolist()
            if counts[k]:            # an index >= the number of classes: not a plain class target
                return None
            return {"kind": "class", "counts": counts[:k]}
        if fn in ("binary_cross_entropy_with_logits", "binary_cross_entropy"):
            if kwargs.get("weight", args[2] if len(args) > 2 else None) is not None \
                    or kwargs.get("pos_weight") is not None or len(args) > 3:
                return None
            if target.shape != pred.shape or not target.is_floating_point():
                return None
            t = target.detach().double()
            t = t.reshape(-1, 1) if t.ndim <= 1 else t.reshape(t.shape[0], -1)
            binary = ((t == 0) | (t == 1)).all().double().reshape(1)
            vals = torch.cat([binary, t.sum(0)]).tolist()
            if vals[0] != 1.0 or len(vals) > 1025:
                return None
            return {"kind": "binary", "sums": vals[1:], "n": int(t.shape[0])}
        if fn == "mse_loss":
            if target.shape != pred.shape or not target.is_floating_point() or len(args) > 2:
                return None
            t = target.detach().double().reshape(-1)
            n, s1, s2 = float(t.numel()), *torch.stack([t.sum(), (t * t).sum()]).tolist()
            return {"kind": "mse", "n": n, "s1": s1, "s2": s2}
    return None


def mean_count(fn: str, pred: Any, target: Any, kwargs: dict) -> float | None:
    """How many terms the call's value is the sum of, relative to its mean: 1 for ``reduction="mean"``; for
    ``"sum"``, the terms its mean would divide by (cross-entropy: the targets not ignored; BCE and MSE: the
    elements). A summed loss is that many times its mean, so the best constant prediction's summed loss is
    that many times its mean loss. None for another reduction."""
    red = kwargs.get("reduction", "mean")
    if red == "mean":
        return 1.0
    if red != "sum" or not isinstance(target, torch.Tensor):
        return None
    if fn == "cross_entropy" and not target.is_floating_point():
        ignore = kwargs.get("ignore_index", -100)
        return float((target != ignore).sum())
    return float(target.numel())


def scale_chain_end(root: torch.Tensor, hops: int = 4):
    """The autograd node ``root`` is a multiple of, through a chain of at most ``hops`` multiplications or
    divisions by constants (``loss / accum_steps``, ``loss * 0.5``, ``loss / n_train``): each a Mul/Div whose
    only input with a gradient is the node before. None when ``root`` is not such a product. Read from the
    graph's nodes, no tensor value."""
    node = root.grad_fn
    for i in range(hops + 1):
        if node is None:
            return None
        if type(node).__name__ not in ("MulBackward0", "DivBackward0"):
            return node if i else None
        inputs = [f for f, _ in node.next_functions if f is not None]
        if len(inputs) != 1:
            return None   # (a product of two tensors with gradients: not a constant factor)
        node = inputs[0]
    return None


def merge_prior(prev: dict | None, new: dict | None) -> dict | None:
    """Pool two ``prior_stats`` of one call site (None when either is None or they do not match)."""
    if prev is None or new is None or prev.get("kind") != new.get("kind"):
        return None
    if new["kind"] == "class":
        if len(prev["counts"]) != len(new["counts"]):
            return None
        return {"kind": "class", "counts": [a + b for a, b in zip(prev["counts"], new["counts"])]}
    if new["kind"] == "binary":
        if len(prev["sums"]) != len(new["sums"]):
            return None
        return {"kind": "binary", "sums": [a + b for a, b in zip(prev["sums"], new["sums"])], "n": prev["n"] + new["n"]}
    return {"kind": "mse", "n": prev["n"] + new["n"], "s1": prev["s1"] + new["s1"], "s2": prev["s2"] + new["s2"]}


def null_loss(prior: dict | None) -> float | None:
    """The loss of the best constant prediction for the pooled targets of ``prior`` (see ``prior_stats``)."""
    if not prior:
        return None
    if prior["kind"] == "class":
        c = [x for x in prior["counts"] if x > 0]
        n = sum(c)
        return -sum(x / n * math.log(x / n) for x in c) if n else None
    if prior["kind"] == "binary":
        n = prior["n"]
        if not n:
            return None
        h = [0.0 if p in (0.0, 1.0) else -(p * math.log(p) + (1 - p) * math.log(1 - p))
             for p in (s / n for s in prior["sums"])]
        return sum(h) / len(h) if h else None
    n = prior["n"]
    return max(0.0, prior["s2"] / n - (prior["s1"] / n) ** 2) if n else None
