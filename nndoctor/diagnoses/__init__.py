"""Rules: signals -> findings. One module per family; each code registered with its docs.

A rule reads only the :class:`Context` (the signal store and plain facts about the model) and
never touches PyTorch or hooks, so it can be unit-tested on synthetic numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from ..findings import Finding
from ..probes.model import ParamInfo
from ..signals import SignalStore
from .registry import REGISTRY, Diagnosis, get, register, rule  # noqa: F401
from .stats import median


@dataclass
class OptView:
    """One optimizer's signals, aligned to its parameters."""

    key: int
    name: str
    steps: int
    positions: list[int]          # table index of each column
    lrs: list[float]
    intervals: list[bool]         # per step interval: were grads reset in it?
    has_probe: bool
    grad_steps: np.ndarray        # (n,)
    grad: np.ndarray              # (n, width) per-parameter gradient norms (NaN: no grad)
    upd_steps: np.ndarray         # (m,)
    param: np.ndarray             # (m, width) parameter norms at sampled steps (before update)
    update: np.ndarray            # (m, width) update norms at sampled steps
    loss_steps: np.ndarray        # backward index of losses that preceded this optimizer's steps
    loss: np.ndarray


@dataclass
class Context:
    store: SignalStore
    params: list[ParamInfo]
    step: int
    n_backward: int
    closing: bool = False
    window_done: bool = True
    module_types: dict[str, str] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)  # code -> worst severity reported (error/warning)
    # repair mode: (first, last) optimizer steps and backward passes a rollback undid; the per-optimizer
    # views leave them out (the model they describe is gone). Empty when watching plainly.
    undone: list[tuple[int, int, int, int]] = field(default_factory=list)
    _views: list[OptView] | None = field(default=None, repr=False)
    # values several rules derive from the same signals, computed once per evaluation (per Context)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def facts(self) -> dict[str, Any]:
        return self.store.facts

    def module_order(self) -> dict[str, int]:
        return self.facts.get("module_order", {})

    def optimizers(self) -> list[OptView]:
        """Each optimizer's signals as arrays (built once per evaluation, shared by the rules)."""
        if self._views is None:
            self._views = list(self._build_views())
        return self._views

    def _build_views(self) -> Iterator[OptView]:
        for o in self.facts.get("optimizers", []):
            k = o["key"]
            g = self.store[f"grad_norm/{k}"]
            p = self.store[f"param_norm/{k}"]
            u = self.store[f"update_norm/{k}"]
            l = self.store[f"loss/{k}"]
            width = len(o["positions"])
            view = OptView(k, o["name"], o["steps"], o["positions"], o["lrs"], o["intervals"], o["has_probe"],
                           g.steps, _width(g.array(MISSING), width), p.steps, _width(p.array(MISSING), width),
                           _width(u.array(MISSING), width), l.steps, l.array())
            restart = self.facts.get("loss_restarts", {}).get(str(k))
            if restart is not None:
                # a model built anew mid-run, in place of the one this optimizer held (``Doctor._gradients_elsewhere``):
                # the losses before are another model's
                keep = view.loss_steps > restart
                view.loss_steps, view.loss = view.loss_steps[keep], view.loss[keep]
            yield _without(view, self.undone) if self.undone else view

    def batch_size(self) -> int:
        """The usual batch size of the model's forward passes (their most common first dimension)."""
        sizes = self.facts.get("batch_sizes") or {}
        return max(sizes, key=sizes.get) if sizes else 0

    def constant_prediction_loss(self) -> float | None:
        """The training loss of the best constant prediction (the entropy of the label frequencies for
        cross-entropy/BCE, the target variance for MSE; ``probes.loss.null_loss``), when it is defined for
        this run's loss series: one plain loss function (no class weights, pos_weight or label smoothing;
        mean or summed) computed the training loss, and every backward pass ran on that function's own
        result or on it times constants (``loss / accum_steps``, a sum divided by the data set's size), so
        the series is that function's mean loss times a constant (``loss_scale``). None otherwise."""
        if "constant_prediction_loss" in self.cache:   # (several rules ask, once per evaluation)
            return self.cache["constant_prediction_loss"]
        calls = [d for d in self.facts.get("loss_calls", {}).values() if d.get("train")]
        null = None
        direct = self.facts.get("backward_on_loss_call", 0)
        if len(calls) == 1 and direct + self.facts.get("backward_on_scaled_loss_call", 0) == self.n_backward:
            from ..probes.loss import null_loss
            null = null_loss(calls[0].get("prior"))
            c = self.loss_scale()
            if c is None and direct < self.n_backward:
                null = None   # passes on a scaled value, with no scale measured
            elif null is not None and c is not None:
                null *= c
        out = self.cache["constant_prediction_loss"] = float(null) if null is not None and null > 0 else None
        return out

    def loss_scale(self) -> float | None:
        """The loss series over its loss function's mean: 1 when every backward pass runs on the mean loss
        itself; the constant of ``loss / accum_steps`` or of a summed loss (the terms it sums), measured at the
        described calls as root x terms / call value. None when not measured, or when the measurements spread
        by more than 25% (a factor that changes, e.g. a loss weight on a schedule; a partial last batch of a
        summed loss shifts one measurement by its share of the batch, which 25% allows)."""
        s = [v for v in self.facts.get("loss_scale", ()) if v > 0]
        if not s:
            return None
        if max(s) > 1.25 * min(s):
            return None
        return median(s)

    def label(self, module: str) -> str:
        """`name` (Type) for messages."""
        t = self.module_types.get(module)
        return f"`{module}` ({t})" if t else f"`{module}`"

    def activation_types(self) -> list[str]:
        from ..probes.model import ACTIVATION_TYPES
        names = {t.__name__ for t in ACTIVATION_TYPES}
        seen: list[str] = []
        for t in self.module_types.values():
            if t in names and t not in seen:
                seen.append(t)
        return seen


def _without(v: OptView, undone: list[tuple[int, int, int, int]]) -> OptView:
    """The view without the rows of steps a rollback undid (repair mode)."""
    def keep(idx: np.ndarray, at: int) -> np.ndarray:
        k = np.ones(len(idx), dtype=bool)
        for u in undone:
            k &= ~((idx >= u[at]) & (idx <= u[at + 1]))
        return k

    gk, uk, lk = keep(v.grad_steps, 0), keep(v.upd_steps, 0), keep(v.loss_steps, 2)
    return OptView(v.key, v.name, v.steps, v.positions, v.lrs, v.intervals, v.has_probe,
                   v.grad_steps[gk], v.grad[gk], v.upd_steps[uk], v.param[uk], v.update[uk],
                   v.loss_steps[lk], v.loss[lk])


MISSING = -1.0  # marks "this parameter had no gradient at this step" (norms are never negative)


def _width(a: np.ndarray, width: int) -> np.ndarray:
    if a.ndim == 1:
        a = a.reshape(len(a), -1) if a.size else np.zeros((0, width))
    if a.shape[1] < width:
        a = np.concatenate([a, np.full((a.shape[0], width - a.shape[1]), MISSING)], axis=1)
    return a


def note_severities(found: dict[str, str], findings) -> dict[str, str]:
    """Record in ``found`` each code's worst alarm severity (error over warning; info is not an alarm)."""
    for f in findings:
        if f.severity == "error" or (f.severity == "warning" and found.get(f.code) != "error"):
            found[f.code] = f.severity
    return found


def run_rules(ctx: Context) -> Iterator[tuple[str, list[Finding] | None, BaseException | None]]:
    """Yield (code, findings, None) per rule (findings None: the rule cannot judge yet), or
    (code, None, error) when a rule itself failed."""
    # a diverged run's series hold inf/NaN: the rules judge them, and numpy's floating-point warnings about
    # them must not reach the user's output (np.errstate only: a warnings.catch_warnings() here would reset
    # the registry of the user's own once-per-line warnings at every evaluation, and they would print
    # again). Each rule runs under it; the results are yielded after, outside it.
    results = []
    with np.errstate(all="ignore"):
        for name, diag in REGISTRY.items():
            if diag.rule is None:
                continue
            try:
                found = diag.rule(ctx)
                found = list(found) if found is not None else None
            except Exception as e:  # a broken rule must not take the others down
                results.append((name, None, e))
                continue
            note_severities(ctx.found, found or ())
            ctx.cache[("findings", name)] = found   # what later rules of this evaluation may read
            results.append((name, found, None))
    yield from results


# the families register their codes on import
from . import gradients, code, activations, data, loss, hyperparams, training  # noqa: E402,F401
