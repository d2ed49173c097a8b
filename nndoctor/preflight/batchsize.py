"""Batch-size finder: the largest batch whose forward + backward + step fits in memory (with a safety
margin), and the gradient noise scale's suggestion of a *useful* batch.

Largest batch: a doubling search, then a bisection, of real forward/backward passes on a copy of the
model, each batch made by repeating the examples at hand. A pass "fits" when it completes without an
allocation failure (CUDA ``OutOfMemoryError``, CPU ``RuntimeError``/``MemoryError`` "can't allocate")
and the memory it needs stays within ``MARGIN`` of the capacity:

* CUDA: the peak allocated bytes of the pass against the device's total memory;
* CPU: the bytes predicted from what the autograd graph saves per example (measured at two batch
  sizes: activations grow linearly with the batch) plus parameters, gradients and optimizer state,
  against ``memory_limit_bytes`` (or the process's ``RLIMIT_AS`` headroom, or the machine's available
  memory). A CPU allocation failure under a real limit is caught like CUDA's.

MARGIN = 0.8: the measured bytes are the saved activations; backward also needs the gradients of the
activations (at most about as large, freed as it goes), the allocator fragments, and the real
training loop holds a few batches (prefetch, metrics). 20% headroom is the usual rule of thumb and
what e.g. Lightning's batch-size finder leaves in spirit (it backs off one step from the first OOM).

Useful batch: the simple noise scale B_simple = tr(Σ)/|G|² (McCandlish et al. 2018, "An Empirical
Model of Large-Batch Training"): below it, doubling the batch nearly halves the steps needed; above
it, returns diminish. Estimated from gradients at a small and a large batch of the same examples
(appendix A of the paper), at initialization -- it typically grows as training proceeds, so it is a
lower bound for later in training.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from ..probes import memory as memory_probe
from .sandbox import Batch, call_model, fresh_optimizer

MARGIN = 0.8
PASS_TIME_S = 2.0   # stop doubling when one pass takes longer (the answer is then "at least")


@dataclass
class BatchSizeResult:
    max_batch: int | None = None          # the largest batch that fits (with the margin)
    searched_up_to: int | None = None     # the search's upper bound (the answer may be larger)
    limited_by: str = ""                  # "memory", "search-bound", "dataset"
    capacity_bytes: int | None = None
    capacity_source: str = ""
    bytes_per_example: float | None = None
    static_bytes: int | None = None
    tried: list[tuple[int, bool]] = field(default_factory=list)
    noise_scale: float | None = None      # B_simple
    noise_batch: int | None = None        # a power of two near B_simple
    last_pass_s: float = 0.0
    verified: bool = True                 # the answer was run for real (False: predicted only, see notes)
    flop_budget: float | None = None
    flops_spent: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"max_batch": self.max_batch, "searched_up_to": self.searched_up_to, "limited_by": self.limited_by,
                "margin": MARGIN, "capacity_bytes": self.capacity_bytes, "capacity_source": self.capacity_source,
                "bytes_per_example": None if self.bytes_per_example is None else round(self.bytes_per_example),
                "static_bytes": self.static_bytes, "tried": [list(t) for t in self.tried],
                "noise_scale": None if self.noise_scale is None else round(self.noise_scale, 1),
                "useful_batch": self.noise_batch, "verified": self.verified,
                "pass_gflops": round(self.flops_spent / 1e9, 3), "notes": list(self.notes)}


def is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    msg = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in msg or "can't allocate" in msg
                                              or "cannot allocate" in msg or "failed to allocate" in msg)


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def capacity(device: torch.device, memory_limit_bytes: int | None) -> tuple[int | None, str]:
    if memory_limit_bytes is not None:
        return int(memory_limit_bytes), "memory_limit_bytes"
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        return int(total), "cuda total"
    snap = memory_probe.snapshot()
    caps = []
    if snap.get("address_limit") and snap.get("virtual"):
        caps.append((snap["address_limit"] - snap["virtual"] + (snap.get("rss") or 0), "RLIMIT_AS headroom"))
    avail = _mem_available()
    if avail:
        caps.append((avail + (snap.get("rss") or 0), "MemAvailable"))
    if not caps:
        return None, ""
    return min(caps)


def _state_bytes(model: nn.Module, opt: torch.optim.Optimizer | None) -> int:
    n = sum(p.numel() * p.element_size() for p in model.parameters())
    n += sum(b.numel() * b.element_size() for b in model.buffers())
    grads = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    # optimizer state: measured after one step when it exists, else assume Adam's two moments
    state = 0
    if opt is not None:
        for s in opt.state.values():
            for v in s.values():
                if isinstance(v, torch.Tensor):
                    state += v.numel() * v.element_size()
    return int(n + grads + (state if state else 2 * grads))


def _pass(model, opt, b: Batch, loss_fn, measure: bool) -> int:
    """One forward + backward + step; returns the bytes the graph saved (if ``measure``)."""
    opt.zero_grad(set_to_none=True)
    out = call_model(model, b)
    loss = loss_fn(out, b.target) if b.target is not None else loss_fn(out)
    saved = memory_probe.saved_activation_bytes([loss]) if measure else 0
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return saved


def find_batch_size(model: nn.Module, batch: Batch, loss_fn: Callable, optimizer=None, *,
                    memory_limit_bytes: int | None = None, max_batch: int = 4096,
                    noise_batches: list[Batch] | None = None, flop_budget: float | None = None,
                    step_flops_per_example: float | None = None) -> BatchSizeResult:
    """Run on a copy of ``model`` (the caller's check-up passes one); ``batch``: examples to repeat.

    ``flop_budget`` (with ``step_flops_per_example``, the FLOPs of one example's forward + backward):
    the search's passes together stay within it; a pass that would exceed it is not run, and the
    answer says so (``limited_by`` "budget" on CUDA; on CPU the predicted batch is reported
    ``verified=False``)."""
    res = BatchSizeResult()
    if not batch.splittable():
        res.notes.append("the inputs' first dimension is not the batch (a sequence-first input?): "
                         "no batch-size search")
        return res
    dev = batch.device() or torch.device("cpu")
    res.capacity_bytes, res.capacity_source = capacity(dev, memory_limit_bytes)
    model.train()
    opt = fresh_optimizer(optimizer, model)
    n0 = batch.size
    # bytes per example from the autograd graph at two sizes
    b1, b2 = max(2, n0 // 2), max(4, n0)
    s1 = _pass(model, opt, batch.resized(b1), loss_fn, True)
    s2 = _pass(model, opt, batch.resized(b2), loss_fn, True)
    res.bytes_per_example = max((s2 - s1) / (b2 - b1), s2 / b2 * 0.5, 1.0)
    res.static_bytes = _state_bytes(model, opt)
    cuda = dev.type == "cuda"

    def predicted(b: int) -> float:
        return res.static_bytes + res.bytes_per_example * b

    def fits(b: int) -> bool:
        if res.capacity_bytes is not None and not cuda and predicted(b) > MARGIN * res.capacity_bytes:
            res.tried.append((b, False))
            return False
        res.flops_spent += b * (step_flops_per_example or 0.0)
        try:
            if cuda:
                torch.cuda.reset_peak_memory_stats(dev)
            t0 = time.perf_counter()
            _pass(model, opt, batch.resized(b), loss_fn, False)
            res.last_pass_s = time.perf_counter() - t0
            ok = True
            if cuda and res.capacity_bytes:
                ok = torch.cuda.max_memory_allocated(dev) <= MARGIN * res.capacity_bytes
        except Exception as e:
            if not is_oom(e):
                raise
            ok = False
            opt.zero_grad(set_to_none=True)
            if cuda:
                torch.cuda.empty_cache()
        res.tried.append((b, ok))
        return ok

    if flop_budget is not None and step_flops_per_example:
        res.flop_budget = float(flop_budget)

    def affordable(b: int) -> bool:
        return res.flop_budget is None or res.flops_spent + b * step_flops_per_example <= res.flop_budget

    run = fits
    res.flops_spent = (b1 + b2) * (step_flops_per_example or 0.0)   # the two measuring passes
    if not cuda and res.capacity_bytes is not None:
        _cpu_search(res, run, affordable, max_batch)
    else:
        _doubling_search(res, run, affordable, max_batch, n0)
    if res.max_batch == 0:
        res.notes.append("not even a batch of 1 fits in the memory available")
    if noise_batches:
        try:
            res.noise_scale = noise_scale(model, noise_batches, loss_fn)
            if res.noise_scale is not None and math.isfinite(res.noise_scale) and res.noise_scale > 0:
                res.noise_batch = int(2 ** round(math.log2(max(res.noise_scale, 1.0))))
        except Exception as e:  # a model whose loss can't be split into micro-batches
            res.notes.append(f"gradient noise scale not estimated: {type(e).__name__}: {e}")
    return res


def _cpu_search(res: BatchSizeResult, run, affordable, max_batch: int) -> None:
    """CPU: the memory a batch needs is predicted (static bytes + bytes per example x batch, measured on
    the autograd graph), so the doubling passes would only repeat the prediction: one real pass at the
    predicted largest batch confirms it (an allocation failure there -- a tighter real limit, e.g.
    RLIMIT_AS -- falls back to a bisection of real passes)."""
    room = MARGIN * res.capacity_bytes - res.static_bytes
    pred = int(room // res.bytes_per_example) if room > 0 else 0
    b = min(max_batch, pred)
    res.limited_by = "memory" if pred < max_batch else "search-bound"
    res.searched_up_to = max_batch
    if b < 1:
        res.max_batch = 0
        res.tried.append((1, False))
        return
    if not affordable(b):
        res.max_batch, res.verified = b, False
        res.notes.append(f"the largest batch ({b}) is predicted from {res.bytes_per_example:.0f} bytes per example; "
                         "a pass at it was not run (over the check-up's compute budget)")
        return
    if run(b):
        res.max_batch = b
        return
    lo, hi = 0, b
    for t, ok in res.tried:
        if ok and t < hi:
            lo = max(lo, t)
    res.limited_by = "memory"
    while hi - lo > max(1, lo // 16) and affordable((lo + hi) // 2):
        mid = (lo + hi) // 2
        if run(mid):
            lo = mid
        else:
            hi = mid
    res.max_batch = lo


def _doubling_search(res: BatchSizeResult, run, affordable, max_batch: int, n0: int) -> None:
    """CUDA (or no known capacity): doubling, then bisection, of real passes, within the budget."""
    lo, hi = 0, None
    b = 2 if n0 >= 2 else 1   # not 1: BatchNorm cannot train on a single example
    while b <= max_batch:
        if not affordable(b):
            res.max_batch, res.searched_up_to, res.limited_by = lo, lo, "budget"
            return
        if run(b):
            lo = b
            b *= 2
            if res.last_pass_s > PASS_TIME_S and b <= max_batch:
                res.max_batch, res.searched_up_to, res.limited_by = lo, lo, "time"
                return
        else:
            hi = b
            break
    if hi is None:
        if lo * 2 > max_batch and lo < max_batch and affordable(max_batch) and run(max_batch):
            lo = max_batch
        res.max_batch, res.searched_up_to, res.limited_by = lo, max_batch, "search-bound"
        return
    while hi - lo > max(1, lo // 16) and affordable((lo + hi) // 2):  # bisection to ~6%
        mid = (lo + hi) // 2
        if run(mid):
            lo = mid
        else:
            hi = mid
    res.max_batch, res.limited_by = lo, "memory"


def _grad_vec(model: nn.Module, b: Batch, loss_fn) -> torch.Tensor:
    model.zero_grad(set_to_none=True)
    out = call_model(model, b)
    loss = loss_fn(out, b.target) if b.target is not None else loss_fn(out)
    loss.backward()
    g = [p.grad.detach().reshape(-1).float() for p in model.parameters() if p.grad is not None]
    model.zero_grad(set_to_none=True)
    return torch.cat(g) if g else torch.zeros(0)


def noise_scale(model: nn.Module, batches: list[Batch], loss_fn, small: int | None = None) -> float | None:
    """B_simple = tr(Σ)/|G|² from |G_small|² (mean over micro-batches of ``small`` examples) and
    |G_big|² (all the examples at once), McCandlish et al. 2018, appendix A:
    |G|² ≈ (B_big |G_big|² − B_small |G_small|²)/(B_big − B_small),
    tr(Σ) ≈ (|G_small|² − |G_big|²)/(1/B_small − 1/B_big). The loss must be a mean over examples."""
    pool = Batch.concat(batches) if len(batches) > 1 else batches[0]
    n = pool.size
    if n < 8 or not pool.splittable():
        return None
    small = small or max(1, min(batches[0].size, n // 8))
    k = n // small
    if k < 2:
        return None
    pool = pool.take(torch.arange(k * small))
    big_n = k * small
    g_big = _grad_vec(model, pool, loss_fn)
    sq = []
    for i in range(k):
        g = _grad_vec(model, pool.take(torch.arange(i * small, (i + 1) * small)), loss_fn)
        sq.append(float(g.pow(2).sum()))
    g_small2 = sum(sq) / len(sq)
    g_big2 = float(g_big.pow(2).sum())
    G2 = (big_n * g_big2 - small * g_small2) / (big_n - small)
    tr = (g_small2 - g_big2) / (1.0 / small - 1.0 / big_n)
    if G2 <= 0:
        return math.inf
    return max(tr / G2, 0.0)
