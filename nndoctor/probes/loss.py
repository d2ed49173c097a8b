"""Loss probes: what a loss function was given (prediction and target), and what the autograd
graph between the model's output and the loss did with them. Plain numbers out, no judgement.

``torch.nn.functional``'s loss functions are wrapped while a doctor is active (see ``tap``), so
every call -- ``nn.CrossEntropyLoss()(out, y)`` calls ``F.cross_entropy`` too -- is seen with
its arguments. A loss written by hand (``((out - y) ** 2).mean()``) is seen through the graph.
"""
from __future__ import annotations

import math
from typing import Any

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
    try:
        d["broadcast_shape"] = list(torch.broadcast_shapes(pred.shape, target.shape))
    except RuntimeError:
        d["broadcast_shape"] = None
    with torch.no_grad():
        p = pred.detach()
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
    (d["pred_min"], d["pred_max"], d["pred_rowsum_min"], d["pred_rowsum_max"], d["target_min"], d["target_max"],
     integral, binary, d["target_rowsum_min"], d["target_rowsum_max"]) = vals
    d["target_integral"] = bool(integral == 1.0)
    d["target_binary"] = bool(binary == 1.0)
    d["target_unique"] = int(n_unique)
    d["n_classes"] = int(pred.shape[1]) if pred.ndim >= 2 else (1 if pred.ndim == 1 else 0)
    return d


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

