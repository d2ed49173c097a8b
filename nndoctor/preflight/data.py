"""Data checks of the check-up: NaN/Inf in inputs and targets, labels against the model's output
size and the loss, class balance. Plain numbers out, findings built by the check-up."""
from __future__ import annotations

from typing import Any

import torch

from .sandbox import Batch, tensors_of

CLASS_LOSSES = ("cross_entropy", "nll_loss")
PROB_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits")


def nonfinite(batches: list[Batch]) -> dict[str, Any]:
    """Counts of NaN/Inf values in the inputs and in the targets of the batches."""
    out = {"inputs": [0, 0], "targets": [0, 0]}
    for b in batches:
        for key, part in (("inputs", (b.args, b.kwargs)), ("targets", b.target)):
            for t in tensors_of(part):
                if t.is_floating_point() or t.is_complex():
                    bad = ~torch.isfinite(t)
                    out[key][0] += int(bad.sum())
                    out[key][1] += t.numel()
                else:
                    out[key][1] += t.numel()
    return {k: {"nonfinite": v[0], "values": v[1]} for k, v in out.items()}


def label_stats(batches: list[Batch], loss_name: str | None, n_out: int | None,
                ignore_index: int = -100) -> dict[str, Any] | None:
    """Labels vs the model's output size for classification losses; class counts."""
    ts = [b.target for b in batches if isinstance(b.target, torch.Tensor)]
    if not ts:
        return None
    y = torch.cat([t.reshape(-1) for t in ts]).detach().cpu()
    d: dict[str, Any] = {"loss": loss_name, "outputs": n_out}
    if loss_name in CLASS_LOSSES and not y.is_floating_point():
        yy = y[y != ignore_index]
        if yy.numel():
            d["label_min"], d["label_max"] = int(yy.min()), int(yy.max())
            counts = torch.bincount(yy.clamp(min=0))
            d["class_counts"] = {int(i): int(c) for i, c in enumerate(counts.tolist()) if c}
            d["out_of_range"] = int(((yy < 0) | (yy >= n_out)).sum()) if n_out else 0
    elif loss_name in PROB_LOSSES:
        yf = y.double()
        d["label_min"], d["label_max"] = float(yf.min()), float(yf.max())
        d["out_of_range"] = int(((yf < 0) | (yf > 1)).sum())
        if bool(((yf == 0) | (yf == 1)).all()):
            pos = float(yf.mean())
            d["class_counts"] = {0: int((yf == 0).sum()), 1: int((yf == 1).sum())}
            d["positive_fraction"] = round(pos, 4)
    return d


def imbalance(counts: dict[int, int]) -> float | None:
    """Largest over smallest class count among the classes seen."""
    if not counts or len(counts) < 2:
        return None
    return max(counts.values()) / max(min(counts.values()), 1)


def output_size(out: Any) -> int | None:
    for t in tensors_of(out):
        if t.ndim >= 2:
            return int(t.shape[1])
        if t.ndim == 1:
            return 1
    return None
