"""The final metric of faulty programs that print no ``NNDOCTOR_METRIC`` line of their own.

The clinic's programs must not be edited, and some were written before repair mode was scored. For
those, the repair scorer reads the metric in one of two ways, the same way for the repaired run and
the unrepaired run; their twins print the same quantity on an ``NNDOCTOR_METRIC`` line:

* ``PATTERNS``: the last match of a regular expression in the program's own output (a held-out
  metric the program prints every epoch), e.g. ``val acc 0.906``;
* ``EVALUATORS``: a function of the script's module globals once it has ended (or crashed), for a
  program that prints no usable metric; it evaluates the model the script trained, without gradients.
  A twin computes the same thing at its end (same code, same seed for the evaluation batch).
"""
from __future__ import annotations

import re
from typing import Any, Callable

# program -> (regex with one group, metric name, "higher" | "lower")
PATTERNS: dict[str, tuple[str, str, str]] = {
    "faulty_non-finite_heteroscedastic_relu_variance.py": (r"val mse (\S+)", "val_mse", "lower"),
    "faulty_saturated-activation_scratch_rnn_randn.py": (r"val acc (\S+)", "val_acc", "higher"),
    "faulty_unnormalized-input_uint8_texture_cnn.py": (r"test acc (\S+)", "test_acc", "higher"),
    "faulty_vanishing-gradient_tanh_small_init.py": (r" acc (\S+)", "train_acc", "higher"),
}


def _greedy_reward(g: dict[str, Any]) -> tuple[str, float, str]:
    import torch

    torch.manual_seed(1234)
    ctx = torch.randn(4096, g["CTX_DIM"])
    with torch.no_grad():
        return "greedy_reward", float(g["pull"](ctx, g["policy"](ctx).argmax(1)).mean()), "higher"


def _knn_acc(g: dict[str, Any]) -> tuple[str, float, str]:
    import torch

    X, y = g["X"], g["y"]
    with torch.no_grad():
        z = g["net"](X)
        d = torch.cdist(z, z)
        d.fill_diagonal_(float("inf"))
        return "knn_acc", float((y[d.argmin(1)] == y).float().mean()), "higher"


EVALUATORS: dict[str, Callable[[dict[str, Any]], tuple[str, float, str]]] = {
    "faulty_non-finite_policy_entropy_log_zero.py": _greedy_reward,
    "faulty_non-finite_sqrt_distance.py": _knn_acc,
}


def from_output(program: str, text: str) -> str | None:
    """The ``NNDOCTOR_METRIC`` line for a PATTERNS program, from its output (None if it printed none)."""
    spec = PATTERNS.get(program)
    if spec is None:
        return None
    found = re.findall(spec[0], text or "")
    return f"NNDOCTOR_METRIC {spec[1]}={found[-1]} {spec[2]}" if found else None
