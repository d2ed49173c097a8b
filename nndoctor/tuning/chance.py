"""The chance-level loss of a training run: the loss of the best *constant* predictor, one that ignores
its inputs, estimated from the targets the loss function was given. A trial whose loss is not below it
has learned nothing from its inputs, however far its loss fell from a blown-up start.

Known for the losses whose best constant has a closed form (mean reduction, no class weights, no label
smoothing, input and target of the same layout):

* ``cross_entropy`` / ``nll_loss`` with class indices: the entropy of the class frequencies
  (``ln K`` for ``K`` balanced classes), the loss of predicting the class prior;
* ``binary_cross_entropy[_with_logits]``: the mean over output positions of the binary entropy of each
  position's target mean (``ln 2`` for balanced labels);
* ``mse_loss``: the mean over output positions of each position's target variance (predicting the mean).

Anything else (L1/Huber, whose best constant is a median; weighted or smoothed losses; a sum of several
losses; ``reduction="sum"``) is unknown: :meth:`ChanceLevel.value` returns None and the caller falls
back on the loss before any update. Statistics stay on the targets' device as running sums; nothing is
synced until :meth:`value` is asked (the tuning pruner asks only once a trial has an ``error`` finding).
"""
from __future__ import annotations

import math
import weakref
from typing import Any

import torch

_MAX_POSITIONS = 4096  # per-position statistics up to this many outputs per example, else one global position


def _plain(kwargs: dict, *extra_none: str) -> bool:
    if kwargs.get("reduction", "mean") != "mean":
        return False
    if kwargs.get("size_average") is not None or kwargs.get("reduce") is not None:
        return False
    return all(kwargs.get(k) is None for k in ("weight",) + extra_none)


class ChanceLevel:
    """Feed it the loss calls (:meth:`on_loss`) and the backward roots (:meth:`on_backward`); the targets
    of a loss call count only when that call's result is what ``backward()`` was called on (the training
    loss itself, not a validation loss or one term of a sum)."""

    def __init__(self) -> None:
        self._pending: tuple | None = None   # (weakref to the loss result, kind, target, n_classes)
        self._kind: str | None = None
        self._acc: dict[str, Any] = {}
        self._mixed = False

    # ------------------------------------------------------------------ feeding
    def on_loss(self, name: str, args: tuple, kwargs: dict, result: Any) -> None:
        self._pending = None
        if not (isinstance(result, torch.Tensor) and result.requires_grad and result.numel() == 1):
            return
        if len(args) < 2 or not all(isinstance(a, torch.Tensor) for a in args[:2]) or \
                any(a is not None for a in args[2:]):
            return  # a positional weight (BCEWithLogitsLoss passes its ``weight`` so, None by default)
        inp, tgt = args[:2]
        kind, n_classes = None, 0
        if name in ("cross_entropy", "nll_loss"):
            if (_plain(kwargs) and float(kwargs.get("label_smoothing", 0.0) or 0.0) == 0.0
                    and not tgt.is_floating_point() and inp.dim() >= 1 and tgt.dim() == inp.dim() - 1):
                kind, n_classes = "class", int(inp.shape[1] if inp.dim() > 1 else inp.shape[0])
        elif name in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
            if _plain(kwargs, "pos_weight") and tgt.shape == inp.shape:
                kind = "binary"
        elif name == "mse_loss":
            if _plain(kwargs) and tgt.shape == inp.shape:
                kind = "mse"
        if kind is not None:
            ignore = int(kwargs.get("ignore_index", -100)) if kind == "class" else None
            self._pending = (weakref.ref(result), kind, tgt.detach(), n_classes, ignore)

    def on_backward(self, root: Any) -> None:
        pending, self._pending = self._pending, None
        if pending is None or self._mixed:
            return
        ref, kind, tgt, n_classes, ignore = pending
        if ref() is not root:
            return
        if self._kind is not None and self._kind != kind:
            self._mixed = True
            return
        self._kind = kind
        try:
            self._add(kind, tgt, n_classes, ignore)
        except Exception:  # an odd target layout: no chance level rather than a wrong one
            self._mixed = True

    def _add(self, kind: str, tgt: torch.Tensor, n_classes: int, ignore: int | None) -> None:
        acc = self._acc
        if kind == "class":  # scatter-add, no host sync: a label out of range is counted, not indexed
            t = tgt.reshape(-1).long()
            keep = t != ignore if ignore is not None else torch.ones_like(t, dtype=torch.bool)
            valid = keep & (t >= 0) & (t < n_classes)
            c = torch.zeros(n_classes, dtype=torch.float64, device=t.device)
            c.scatter_add_(0, t.clamp(0, n_classes - 1), valid.double())
            bad = (keep & ~valid).sum()
            if "counts" not in acc:
                acc.update(counts=c, bad=bad)
            elif acc["counts"].shape != c.shape:
                raise ValueError("number of classes changed")
            else:
                acc["counts"], acc["bad"] = acc["counts"] + c, acc["bad"] + bad
            return
        x = tgt.detach().double()
        x = x.reshape(x.shape[0], -1) if x.dim() > 1 else x.reshape(-1, 1)
        if x.shape[1] > _MAX_POSITIONS:
            x = x.reshape(-1, 1)
        if "n" in acc and acc["s1"].shape[0] != x.shape[1]:
            raise ValueError("target layout changed")
        s1, s2 = x.sum(0), (x * x).sum(0)
        if "n" not in acc:
            acc.update(n=0, s1=s1, s2=s2)
        else:
            acc["s1"], acc["s2"] = acc["s1"] + s1, acc["s2"] + s2
        acc["n"] += x.shape[0]

    # ------------------------------------------------------------------ the answer
    def value(self) -> float | None:
        """The chance-level loss, or None where it is not known (see the module docstring)."""
        try:
            return self._value()
        except Exception:  # never a reason to fail a trial
            return None

    def _value(self) -> float | None:
        if self._mixed or self._kind is None:
            return None
        acc = self._acc
        if self._kind == "class":
            c = acc["counts"]
            if int(acc["bad"]):
                return None  # labels out of range: the data rules report them; no chance level here
            total = float(c.sum())
            if total <= 0:
                return None
            p = c[c > 0] / total
            return float(-(p * p.log()).sum())
        n = acc["n"]
        if n < 2:
            return None
        mean = acc["s1"] / n
        if self._kind == "mse":
            return float((acc["s2"] / n - mean * mean).clamp_min(0).mean())
        if float(mean.min()) < 0 or float(mean.max()) > 1:
            return None  # binary cross-entropy on targets outside [0, 1]: no closed form
        p = mean.clamp(1e-12, 1 - 1e-12)
        return float(-(p * p.log() + (1 - p) * (1 - p).log()).mean())


def entropy(counts) -> float:
    """The entropy (nats) of a list of counts; for tests and docs."""
    total = sum(counts)
    return -sum(c / total * math.log(c / total) for c in counts if c)
