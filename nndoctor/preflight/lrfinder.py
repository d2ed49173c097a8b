"""LR range test (Smith 2015/2017): train with a learning rate that grows exponentially from tiny to
huge, record the loss, stop when it diverges, put the model back, and read a learning rate off the
curve.

The suggestion (``robust``):

1. Smooth the loss *without lag*: the EMA that fastai and torch-lr-finder use (beta 0.98, or 0.95)
   trails the raw loss by ~1/(1-beta) steps; on a 100-step sweep over 8 decades that is several
   decades of learning rate, so their minimum sits far right of the real one. We run the EMA
   forwards and backwards (a zero-phase filter) on log(loss), which cancels the lag.
2. ``lr_min``: where that curve is lowest before it diverges. Beyond it the LR is past the edge of
   stability (for a quadratic bowl of curvature L, SGD diverges above 2/L); the loss at ``lr_min``
   is the best the sweep reached, reached *while* the LR was already at the edge.
3. Suggest ``lr_min / 10``: Smith's and fastai's classic decade below the minimum, now on a curve
   whose minimum is where the loss really was lowest. Why a decade: for a quadratic bowl the fastest
   constant step is 1/L, half the edge of stability 2/L, and the sweep's minimum lies at or past the
   edge (an instability needs a few steps to grow, and the loss at an LR still reflects the smaller
   LRs just before it); on real networks the curvature also grows during training (progressive
   sharpening), so an LR found on the first ~100 steps must leave room. ``rules["lagfree_sqrt10"]``
   (lr_min / 3.16, the bracket's geometric middle for the quadratic alone) is reported for comparison.

The smoothing is robust as well as lag-free: a running median over 5 steps first (one spiky batch
cannot make a minimum), then the forward-backward EMA, and the minimum is searched only before the
curve first rises 4x above its best (so values after divergence cannot pull it).

The other rules are computed on the same curve for comparison: fastai's ``valley`` (the longest
descending run, two thirds of the way down) and the steepest slope (torch-lr-finder / Lightning).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from .sandbox import Batch, batches_from, call_model, fresh_optimizer, preserved_rng

DIVERGE_FACTOR = 4.0      # stop when the smoothed loss is 4x its best (fastai's rule)
EMA_BETA = 0.98           # fastai's / Lightning's smoothing of the recorded loss
SUGGESTION_FACTOR = 10.0  # robust: lr_min / 10 on the lag-free curve (see the module docstring)


@dataclass
class LRRangeResult:
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)      # raw
    smoothed: list[float] = field(default_factory=list)    # EMA (beta 0.98, debiased), as fastai records it
    zero_lag: list[float] = field(default_factory=list)    # forward-backward EMA of log loss
    stopped: str = "end"          # "diverged", "non-finite", "end"
    suggestion: float | None = None
    progress: bool = True         # the loss fell beyond its own noise somewhere in the sweep
    lr_min: float | None = None   # zero-lag minimum
    lr_diverged: float | None = None
    rules: dict[str, float | None] = field(default_factory=dict)
    conclusive: bool = False      # the curve has a minimum: it rose clearly (>= 25%) after it

    def to_dict(self, curve: bool = False) -> dict[str, Any]:
        d = {"suggested_lr": self.suggestion, "conclusive": self.conclusive, "progress": self.progress, "lr_min_loss": self.lr_min, "lr_diverged": self.lr_diverged,
             "stopped": self.stopped, "steps": len(self.losses), "rules": dict(self.rules)}
        if curve:
            d["curve"] = {"lr": self.lrs, "loss": self.losses}
        return d


def lr_range_test(model: nn.Module, loader_or_batch: Any, loss_fn: Callable, optimizer=None, *,
                  start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
                  diverge: float = DIVERGE_FACTOR, restore: bool = True, seed: int | None = 0,
                  max_batches: int = 16) -> LRRangeResult:
    """Run the LR range test on ``model`` (its parameters and buffers are restored afterwards when
    ``restore``; the global RNG states always are). ``optimizer``: its class, param groups and
    hyperparameters are used (a fresh instance, the lr swept); None: Adam."""
    batches = loader_or_batch if isinstance(loader_or_batch, list) and loader_or_batch and \
        isinstance(loader_or_batch[0], Batch) else batches_from(loader_or_batch, max_batches)[0]
    saved = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()} if restore else None
    was_training = model.training
    try:
        with preserved_rng(seed):
            lrs, losses, stopped = _sweep(model, batches, loss_fn, optimizer, start_lr, end_lr, num_steps, diverge)
    finally:
        if saved is not None:
            with torch.no_grad():
                for k, v in model.state_dict(keep_vars=True).items():
                    v.copy_(saved[k])
            for p in model.parameters():
                p.grad = None
        model.train(was_training)
    return analyse(lrs, losses, stopped)


def _sweep(model, batches, loss_fn, template, start_lr, end_lr, num_steps, diverge):
    model.train()
    opt = fresh_optimizer(template, model, lr=start_lr)
    base = [g["lr"] for g in opt.param_groups]
    ratio = (end_lr / start_lr) ** (1.0 / max(num_steps - 1, 1))
    lrs: list[float] = []
    losses: list[float] = []
    avg, best, stopped = 0.0, math.inf, "end"
    for i in range(num_steps):
        lr = start_lr * ratio ** i
        for g, b0 in zip(opt.param_groups, base):
            g["lr"] = b0 * (lr / start_lr)
        b = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        out = call_model(model, b)
        loss = loss_fn(out, b.target) if b.target is not None else loss_fn(out)
        v = float(loss.detach())
        if not math.isfinite(v):
            stopped = "non-finite"
            break
        lrs.append(lr)
        losses.append(v)
        avg = EMA_BETA * avg + (1 - EMA_BETA) * v
        sm = avg / (1 - EMA_BETA ** (i + 1))
        if i > 0 and sm > diverge * best and best > 0:
            stopped = "diverged"
            break
        best = min(best, sm)
        loss.backward()
        opt.step()
    opt.zero_grad(set_to_none=True)
    return lrs, losses, stopped


# ----------------------------------------------------------------------------- reading the curve
def ema(values: np.ndarray, beta: float) -> np.ndarray:
    out, avg = np.empty(len(values)), 0.0
    for i, v in enumerate(values):
        avg = beta * avg + (1 - beta) * v
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def zero_lag(values: np.ndarray, beta: float = 0.8) -> np.ndarray:
    """EMA run forwards then backwards (zero phase), each pass debiased at its start."""
    return ema(ema(values, beta)[::-1], beta)[::-1]


def running_median(values: np.ndarray, k: int) -> np.ndarray:
    h = k // 2
    return np.array([np.median(values[max(0, i - h): i + h + 1]) for i in range(len(values))])


def valley(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """fastai's ``valley``: the longest strictly descending subsequence; two thirds of the way down."""
    n = len(losses)
    if n < 3:
        return None
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[min(idx, n - 1)])


def steepest(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """torch-lr-finder / Lightning: the LR of the most negative slope of the (EMA) loss."""
    if len(losses) < 3:
        return None
    return float(lrs[int(np.gradient(losses).argmin())])


def analyse(lrs: list[float], losses: list[float], stopped: str) -> LRRangeResult:
    r = LRRangeResult(lrs=list(lrs), losses=list(losses), stopped=stopped)
    n = len(losses)
    if n < 8:
        return r
    L = np.asarray(losses, dtype=float)
    x = np.asarray(lrs, dtype=float)
    sm = ema(L, EMA_BETA)
    r.smoothed = sm.tolist()
    if stopped != "end":
        r.lr_diverged = float(x[-1] * (x[1] / x[0]))  # the step that diverged
    # fastai: skip the first tenth and the last 5 points; Lightning/torch-lr-finder: skip 10 and 1/5
    a, e = n // 10, max(n - 5, n // 10 + 3)
    r.rules["fastai_valley"] = valley(x[a:e], sm[a:e])
    k0, k1 = min(10, n // 4), max(n - 5, min(10, n // 4) + 3)
    r.rules["steepest"] = steepest(x[k0:k1], sm[k0:k1])
    r.rules["fastai_min_over_10"] = float(x[int(sm.argmin())] / 10)
    # the robust rule: minimum of the lag-free, spike-free curve, before divergence
    pos = bool((L > 0).all())
    z = zero_lag(running_median(np.log(L) if pos else L, 5), 0.6)
    r.zero_lag = (np.exp(z) if pos else z).tolist()
    end = len(z)
    best = np.inf
    for i, v in enumerate(z):
        if pos and v > best + math.log(DIVERGE_FACTOR) or not pos and best < np.inf and v - best > 3 * abs(best):
            end = i
            break
        best = min(best, v)
    imin = int(z[:end].argmin())
    r.lr_min = float(x[imin])
    # divergence, scale-free: past the minimum, the loss climbs back above where the sweep started (all
    # progress undone: a network killed by a huge step plateaus there rather than blowing up 4x)
    start = float(np.median(z[:5]))
    # ... but only once the sweep has made progress beyond the loss's own noise: a curve that is flat
    # within its noise (e.g. mixup's per-batch soft targets) has its minimum and its "climb back" made of
    # noise. The noise: the robust spread (MAD) of the raw curve around the smoothed one over the first
    # quarter of the sweep, where the LR is too small to change anything, divided by the ~5 points the
    # smoothing averages; progress must exceed 3 of those standard errors.
    head = max(8, n // 4)
    resid = (np.log(L) if pos else L)[:head] - z[:head]
    sigma = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    progress = (start - float(z[imin])) > 3.0 * sigma / math.sqrt(5.0)
    back = [i for i in range(imin + 1, len(z)) if z[i] >= start]
    if back and progress:
        r.lr_diverged = float(x[back[0]])
    rise = (z[imin:].max() - z[imin]) if pos else 0.0
    r.conclusive = stopped != "end" or (progress and (r.lr_diverged is not None or (pos and rise >= math.log(1.25))))
    r.progress = progress
    r.suggestion = r.lr_min / SUGGESTION_FACTOR
    r.rules["robust"] = r.suggestion
    r.rules["lagfree_sqrt10"] = r.lr_min / 10 ** 0.5
    return r


# ----------------------------------------------------------------------------- the confirmation race
RACE_FACTORS = (1 / 10, 1 / 3, 1.0, 3.0, 10.0)   # around the suggestion: its bracket [lr_min/100, lr_min]
# a finalist within 2 standard errors of the winner's held-out loss (the paired difference over the held-out
# units) is reported as tied: with ~16 units the one-sided 2-SE region is roughly the 95% level, the usual
# bar for "not distinguishable"; it is the benchmark's own definition of the grid's indistinguishable band
TIE_SE = 2.0


@dataclass
class RaceResult:
    """A short race between constant learning rates, judged on held-out batches (successive halving).

    ``rungs``: per rung, the steps each survivor had trained by then, every survivor's held-out
    loss (inf: it diverged) and the standard error of its paired difference from the rung's best
    (over the held-out units: see ``heldout_units``); ``winner``: the lowest held-out loss at the last
    rung; ``tied``: the other finalists whose held-out loss is within ``TIE_SE`` standard errors of the
    winner's -- the race could not tell them apart (the winner is then a choice among equals)."""

    candidates: list[float] = field(default_factory=list)
    rungs: list[dict[str, Any]] = field(default_factory=list)
    winner: float | None = None
    heldout_start: float | None = None          # the held-out loss of the initial weights
    train_batches: int = 0
    heldout_batches: int = 0
    heldout_examples: int = 0
    heldout_units: int = 0
    tied: list[float] = field(default_factory=list)
    skipped: str = ""

    def final(self) -> dict[float, float]:
        """Each candidate's held-out loss at the last rung it reached."""
        out: dict[float, float] = {}
        for r in self.rungs:
            out.update(r["heldout"])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"candidates": [float(f"{c:.4g}") for c in self.candidates], "winner": self.winner,
                "heldout_start": self.heldout_start, "train_batches": self.train_batches,
                "heldout_batches": self.heldout_batches, "heldout_examples": self.heldout_examples,
                "heldout_units": self.heldout_units, "tied": [float(f"{c:.4g}") for c in self.tied],
                "rungs": [{"steps": r["steps"],
                           "heldout": {f"{k:.4g}": (round(v, 6) if math.isfinite(v) else "inf")
                                       for k, v in r["heldout"].items()},
                           "se": {f"{k:.4g}": (float(f"{v:.3g}") if math.isfinite(v) else "inf")
                                  for k, v in r.get("se", {}).items()}} for r in self.rungs],
                **({"skipped": self.skipped} if self.skipped else {})}


def race_candidates(r: LRRangeResult, factors=RACE_FACTORS) -> list[float]:
    """The suggestion times ``factors``, kept below the LR at which the sweep diverged."""
    if r.suggestion is None:
        return []
    cands = [r.suggestion * f for f in factors]
    if r.lr_diverged is not None:
        cands = [c for c in cands if c < r.lr_diverged]
    return cands


def split_heldout(batches: list[Batch]) -> tuple[list[Batch], list[Batch]] | None:
    """Training and held-out batches for the race: the last quarter of the batches (at least one) are
    held out; one batch of >= 16 examples is split 3:1 by example. None: too little data."""
    if len(batches) >= 4:
        k = max(1, len(batches) // 4)
        return batches[:-k], batches[-k:]
    pool = Batch.concat(batches) if len(batches) > 1 else batches[0]
    n = pool.size
    if n < 16 or not pool.splittable():
        return None
    k = n // 4
    return [pool.take(torch.arange(0, n - k))], [pool.take(torch.arange(n - k, n))]


# the held-out examples are also judged in ~16 parts of equal size, the units of a paired test between
# finalists (its standard error needs more than the 1-4 held-out batches; 16 keeps a unit >= 4 examples on
# the smallest held-out set a race accepts, 16 examples, and costs one more forward pass of them)
HELDOUT_UNITS = 16


def heldout_units(heldout: list[Batch], units: int = HELDOUT_UNITS) -> list[Batch]:
    """The held-out batches cut into about ``units`` parts of equal size along the examples: the units
    of the race's paired test (the batches themselves when there are that many already, or when one
    cannot be split, e.g. a sequence-first input)."""
    n = sum(b.size for b in heldout)
    if len(heldout) >= units or not all(b.splittable() for b in heldout):
        return heldout
    size = max(1, -(-n // units))
    out: list[Batch] = []
    for b in heldout:
        for i in range(0, b.size, size):
            out.append(b.take(torch.arange(i, min(i + size, b.size))))
    return out


def _heldout_loss(model: nn.Module, heldout: list[Batch], loss_fn: Callable,
                  units: list[Batch] | None = None) -> tuple[float, np.ndarray | None]:
    """The example-weighted mean loss over the held-out batches, as they are (inf when not finite), and
    the mean loss of each of ``units`` (the same examples cut smaller, for the paired test; None: not
    asked). The ranking reads the whole batches, so a loss with batch-level terms ranks as before."""
    was = model.training
    model.eval()

    def losses(bs: list[Batch]) -> np.ndarray:
        vals = []
        for b in bs:
            out = call_model(model, b)
            vals.append((loss_fn(out, b.target) if b.target is not None else loss_fn(out)).detach().float().cpu())
        return np.asarray(torch.stack(vals).tolist(), dtype=float)   # one sync per call
    try:
        with torch.no_grad():
            per = losses(heldout)
            per_unit = None if units is None else per if units is heldout else losses(units)
    finally:
        model.train(was)
    sizes = np.asarray([b.size for b in heldout], dtype=float)
    v = float((per * sizes).sum() / max(sizes.sum(), 1.0))
    return (v if math.isfinite(v) else math.inf), per_unit


def lr_race(model: nn.Module, batches: list[Batch], loss_fn: Callable, optimizer, candidates: list[float], *,
            first_rung_steps: int = 25, seed: int | None = 0) -> RaceResult:
    """Race constant learning rates ``candidates`` from ``model``'s current weights (each on its own
    copy; ``model`` is not touched) by successive halving: every candidate trains ``first_rung_steps``
    steps on the training batches, all are judged on the held-out batches (eval mode), the better
    half goes on for twice as many steps, and so on until one is left (the winner). The optimizer's
    class, param groups and hyperparameters are used (fresh state), as in the range test. Cost:
    ``first_rung_steps * race_cost(len(candidates))`` training steps."""
    import copy

    res = RaceResult(candidates=list(candidates))
    split = split_heldout(batches)
    if split is None:
        res.skipped = "too little data to hold out (fewer than 4 batches and fewer than 16 examples)"
        return res
    train, heldout = split
    res.train_batches, res.heldout_batches = len(train), len(heldout)
    res.heldout_examples = sum(b.size for b in heldout)
    if not candidates:
        res.skipped = "no candidate learning rate"
        return res
    units = heldout_units(heldout)
    res.heldout_units = len(units)
    with preserved_rng(seed):
        res.heldout_start = _heldout_loss(model, heldout, loss_fn)[0]
    runners = []
    for lr in candidates:
        m = copy.deepcopy(model)
        m.train()
        runners.append({"lr": lr, "model": m, "opt": fresh_optimizer(optimizer, m, original=model, lr=lr),
                        "steps": 0, "loss": math.inf, "units": None, "dead": False})
    alive, rung_steps, total = runners, first_rung_steps, 0
    while len(alive) > 1:
        total += rung_steps
        for run in alive:
            with preserved_rng(None if seed is None else seed + total):
                _train(run, train, loss_fn, total)
                run["loss"], run["units"] = ((math.inf, None) if run["dead"]
                                             else _heldout_loss(run["model"], heldout, loss_fn, units))
        ranked = sorted(alive, key=lambda r: (r["loss"], r["lr"]))
        se = {run["lr"]: paired_se(run["units"], ranked[0]["units"]) for run in alive}
        res.rungs.append({"steps": total, "heldout": {run["lr"]: run["loss"] for run in alive}, "se": se})
        if len(ranked) <= 3:   # the last rung (halving 2 or 3 leaves 1): who is within noise of the winner
            res.tied = [r["lr"] for r in ranked[1:] if math.isfinite(r["loss"]) and math.isfinite(se[r["lr"]])
                        and r["loss"] - ranked[0]["loss"] <= TIE_SE * se[r["lr"]]]
        alive = ranked[:max(1, len(alive) // 2)]
        rung_steps *= 2
    best = alive[0]
    res.winner = best["lr"] if math.isfinite(best["loss"]) or len(runners) == 1 else None
    if res.winner is None:
        res.tied = []
    return res


def paired_se(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Standard error of the mean paired difference of two candidates' per-unit held-out losses (inf when
    one diverged or there are fewer than 2 units; 0 for the same candidate)."""
    if a is None or b is None or len(a) < 2 or len(a) != len(b):
        return math.inf
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if not np.isfinite(d).all():
        return math.inf
    return float(d.std(ddof=1) / math.sqrt(len(d)))


def race_cost(n: int) -> int:
    """Training steps of a race between ``n`` candidates, in first-rung steps (n + 2(n//2) + 4(n//4)...)."""
    cost, k, w = 0, n, 1
    while k > 1:
        cost += k * w
        k, w = k // 2, w * 2
    return cost


def _train(run: dict, train: list[Batch], loss_fn: Callable, until: int) -> None:
    m, opt = run["model"], run["opt"]
    while run["steps"] < until and not run["dead"]:
        b = train[run["steps"] % len(train)]
        opt.zero_grad(set_to_none=True)
        out = call_model(m, b)
        loss = loss_fn(out, b.target) if b.target is not None else loss_fn(out)
        if not torch.isfinite(loss.detach()):
            run["dead"] = True
            break
        loss.backward()
        opt.step()
        run["steps"] += 1
    opt.zero_grad(set_to_none=True)
