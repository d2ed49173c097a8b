"""The engine behind ``nndoctor.watch``: hooks in, numbers out, rules at a cadence.

Per step it does a few fused tensor ops on the device (gradient norms with ``torch._foreach_norm``,
a finiteness flag) and keeps the results as device tensors; every ``every`` steps it moves them to
the host in one transfer (the *flush*), appends them to the signal store and, on a geometric
schedule, runs the rules. The first few steps (the *analysis window*) are inspected more deeply:
per-module forward hooks record execution order and which module outputs reach the loss, and
each loss's autograd graph is walked. Those hooks are removed when the window closes.

Everything that runs inside the user's loop is wrapped by ``_guard``: an error in nndoctor is
recorded in the report and never raised into training.
"""
from __future__ import annotations

import copy
import functools
import math
import os
import operator
import sys
import time
import traceback
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from .findings import Finding, Report
from .probes import graph as graph_probe
from .probes import tap
from .probes.hooks import InertOnCopy, in_transform
from .probes.activations import ActivationProbe
from .probes.forward import ForwardRecorder, iter_tensors, locate_nonfinite_forward
from .probes import memory as memory_probe
from .probes.loss import (broadcasts_in_loss, call_options, describe_call, mean_count, merge_prior, prior_stats,
                          scale_chain_end)
from .probes.model import ModelTable, compiled_wrapper, discover, unwrap_model, unwrap_optimizer
from .probes.tensors import FlagReader, descent_cosine, norms
from .signals import SignalStore

MAX_INTERNAL_ERRORS = 50
NOISE_WINDOW = 8      # consecutive steps summed for the large-batch gradient estimate


_IS_NONE = functools.partial(operator.is_, None)


def _guard(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(self: "Doctor", *args, **kwargs):
        if self._disabled:
            return None
        try:
            return fn(self, *args, **kwargs)
        except _StopTraining:
            raise
        except Exception as exc:  # never raise into the user's loop
            self._internal_error(fn.__name__, exc)
            return None
    return wrapper


class _StopTraining(BaseException):
    """Raised (only when asked, e.g. by ``nndoctor run --max-steps``) to end the training script."""


@dataclass
class _Probe:
    """Tracks whether one parameter's .grad was reset (None, replaced or zeroed in place)."""

    param: torch.Tensor
    grad_id: int | None = None
    version: int | None = None
    param_version: int | None = None

    def mark(self) -> None:
        g = self.param.grad
        self.grad_id = id(g) if g is not None else None
        self.version = g._version if g is not None else None
        self.param_version = self.param._version

    def param_changed(self) -> bool:
        """Was the parameter itself written in place (an update) since mark()?"""
        return self.param_version is not None and self.param._version != self.param_version

    def version_now(self) -> int | None:
        g = self.param.grad
        return g._version if g is not None else None

    def was_reset(self) -> bool:
        g = self.param.grad
        if g is None:
            return True
        return id(g) != self.grad_id or g._version != self.version


@dataclass
class _Opt:
    key: int
    name: str
    ref: Any                                  # weakref to the optimizer
    params: list[torch.Tensor] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)   # table index of each param
    signature: tuple = ()
    n_steps: int = 0
    leads: bool = False                       # its latest step began a training iteration (advanced doctor.step)
    snapshot: list[torch.Tensor] | None = None
    snapshot_local: list[int] | None = None
    probe: _Probe | None = None
    reset_seen: bool = True                   # a .grad reset was seen since the last step
    closure: bool = False                     # step(closure): backward runs inside step()
    backward_in_step: bool = False
    intervals: list[bool] = field(default_factory=list)  # per step interval: was grads reset?
    lrs: list[float] = field(default_factory=list)   # the latest learning rates seen
    noise: dict | None = None                 # gradient-noise window in progress
    noise_next: int = 10                      # step at which the next noise window may start
    noise_cost: float = 0.0
    noise_last: float = 0.0
    log_norm: float | None = None             # slow running level of log10(sum of gradient norms)
    all_local: list[int] = field(default_factory=list)   # [0, 1, ..., len(params) - 1], shared
    no_grad_run: int = 0                      # its steps in a row with no gradient after a backward pass
    last_step: int = 0                        # the training iteration (doctor.step) of its latest step
    interval_probed: bool = True              # its probe existed when the current step interval began

    sentinel_cache: list[torch.Tensor] | None = None

    def sentinels(self) -> list[torch.Tensor]:
        """The first and last of its trainable parameters (what stands in for a probe not chosen yet): found
        once (a pass over its parameters), again while none is trainable or after its parameters change."""
        if self.sentinel_cache is None or len(self.sentinel_cache) == 0:
            ps = [p for p in self.params if p.requires_grad]
            self.sentinel_cache = [ps[0], ps[-1]] if len(ps) > 1 else ps
        return self.sentinel_cache


class Doctor(tap.Listener):
    """Watches training. Create it with :func:`nndoctor.watch`."""

    def __init__(self, models=None, optimizers=None, *, discover_models: bool = False, every: int = 20,
                 analysis_backward: int = 3, max_analysis_backward: int = 16,
                 on_finding: Callable[[Finding], None] | None = None, run_dir=None,
                 repair: bool = False, fixed_cadence: bool = False) -> None:
        every = _positive_int(every, "every", "optimizer steps between flushes of the statistics")
        if on_finding is not None and not callable(on_finding):
            raise TypeError(f"nndoctor.watch: on_finding must be a function of one Finding (called for each "
                            f"new finding), got {type(on_finding).__name__}")
        if run_dir is not None and not isinstance(run_dir, (str, os.PathLike)):
            raise TypeError(f"nndoctor.watch: run_dir must be a folder path (str or pathlib.Path), "
                            f"got {type(run_dir).__name__}")
        models, model_names = _named_list(models)
        optimizers, _ = _named_list(optimizers)
        for m in models:
            if not isinstance(m, nn.Module):
                raise TypeError(_not_a_module(m))
        for o in optimizers:
            if not isinstance(unwrap_optimizer(o), torch.optim.Optimizer):
                raise TypeError(_not_an_optimizer(o))
        self.every = every
        # fixed_cadence: the flush, the rules, the activation samples and the noise windows follow a
        # fixed step schedule (flush every ``every`` steps; rules at every flush while the run is young,
        # then spaced 10% of the steps apart; samples at every 2^k-th and every 4th flush), not the
        # ~1-2% wall-time budgets below. For runs whose verdicts must not depend on the machine's load
        # or come late: a tuning trial the doctor may prune, and repair mode (below). The rules and
        # their evidence standards are the same; only when they look changes.
        self.analysis_backward = analysis_backward
        self.max_analysis_backward = max_analysis_backward
        self.on_finding = on_finding
        self.discover_models = discover_models
        self.run_dir = run_dir                   # where close() keeps the run (report, signals, meta)
        self.lang: str | None = None             # the report's language ("en"/"zh"; None: $NNDOCTOR_LANG)
        self.run_meta: dict[str, Any] = {"started": time.time()}
        self._signals: dict[str, Any] | None = None   # the plot series, exported once at close
        self._flush_callbacks: list[Callable[["Doctor"], None]] = []   # e.g. a live view
        self.store = SignalStore()
        self.table = ModelTable()
        self.notes: list[str] = []
        self.internal_errors: list[str] = []
        self._n_internal = 0
        self._disabled = False
        self._open = False
        self._closed = False
        self._depth = 0             # ``with doctor:`` blocks entered and not yet left
        # iterations: one per training iteration (see _on_step_pre); the largest optimizer step count seen,
        # except that an optimizer of a later training phase continues the count where the earlier one left it
        self.step = 0
        self._iter_keys: set[int] = set()   # the optimizers that stepped in the current iteration
        self.n_backward = 0
        self._opts: dict[int, _Opt] = {}
        self._ignored_opts: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._explicit_opts: list[Any] = []
        self._findings: dict[tuple, Finding] = {}
        self._flags = FlagReader()
        self._pending_loss: list[tuple[int, torch.Tensor]] = []   # (backward index, value)
        self._untagged_loss: list[int] = []                       # positions in _pending_loss
        self._loss_tags: list[tuple[int, int]] = []              # (backward index, optimizer key)
        # (optimizer key, step, norms: a device vector, or plain floats on the CPU path, local columns)
        self._pending_grad: list[tuple[int, int, Any, list[int]]] = []
        self._pending_update: list[tuple[int, int, torch.Tensor, torch.Tensor, list[int], torch.Tensor | None]] = []
        self._pending_bw_param: list[tuple[int, torch.Tensor]] = []
        self._last_inputs: dict[int, tuple[tuple, dict]] = {}
        self._hooks: list[Any] = []
        self._recorder: ForwardRecorder | None = None
        self._trainable_sig: tuple | None = None   # per model: (parameters, those requiring grad, id checksum) at the last look
        self._trainable_most: tuple = ()            # ... and the largest of each seen
        self._replacements = 0                      # parameter sets replaced at the same count, seen so far
        self._window_open = False
        self._window_base: tuple[int, int, dict[int, int]] = (0, 0, {})
        self._graph: dict[str, Any] = _fresh_graph()
        self._probe: _Probe | None = None          # doctor-wide probe (no optimizer stepping)
        self._bw_intervals: list[bool] = []        # between backward passes with no step: reset? (latest)
        self._bw_reset_count = 0                   # ... how many of them ever had a reset
        self._manual_intervals: list[bool] = []    # ... of those, the ones with an in-place update: reset?
        self._steps_since_backward = 0
        self._last_eval_step = -1
        self._last_eval_bw = -1
        self._spike_eval_due = False                 # a gradient spike asked for the rules now (_watch_spike)
        self._spike_eval_step = -(1 << 30)
        self._spike_gap = 5                          # steps between such early looks (doubles when fruitless)
        self._spike_level = -math.inf                # log10 gradient norm that asked for the last one
        self._last_eval_time = 0.0
        self._last_eval_cost = 0.0
        self._last_flush_time = 0.0
        self._last_flush_cost = 0.0
        self._in_replay = False
        self._step_callbacks: list[Callable[[int], None]] = []
        self._discovered = False
        self._leaf_tries = 0                       # nndoctor run with no model or optimizer: leaf adoptions tried
        self._adopted = False                      # ... and whether bare tensors were adopted as the parameters
        # nndoctor run finds the model at the first backward pass, after its first forward ran unhooked: until
        # then two process-wide module hooks keep the outermost module call's inputs (module, args), so a NaN
        # made by that first forward can still be replayed and located (``_investigate_nonfinite``)
        self._pre_discovery: tuple[Any, tuple] | None = None
        self._global_hooks: list[Any] = []
        self._global_depth = 0
        self._stepping: _Opt | None = None        # the optimizer whose step() is running
        self.var_names: dict[str, str] = {}      # the user's names for the model and optimizer
        self._backward_stack: list[dict] = []     # backward passes started, not yet ended
        self._forward_since_backward = False      # a watched model ran forward with grad since
        # activation samples (a few consecutive training forwards, armed on a schedule)
        self._act = ActivationProbe(self.table.module_names)
        self._act_due = True
        self._act_left = 0
        self._act_last_time = 0.0
        self._act_cost = 0.0
        self._act_step = 0
        # losses: training calls inspected, validation values, the train/eval mode of forwards
        self._loss_calls_seen = 0
        self._last_loss_ref = None   # weakref to the last training loss call's result (is it the backward root?)
        # the last training loss call's autograd node type (a backward pass on a constant multiple of such a node is
        # one on a scaled loss: ``loss / accum_steps``); and a described call's (node, value, terms its value sums
        # relative to its mean), held until the next backward pass starts: there the root's scale against the
        # call's mean is measured (Context.loss_scale; the values read at the flush)
        self._last_loss_fn_type: type | None = None
        self._scale_probe: tuple | None = None
        self._pending_scale: list[tuple[torch.Tensor, torch.Tensor, float]] = []
        self._val_ready = False                   # the latest watched forward ran under no_grad/eval
        self._val_sites: dict[tuple, int] = {}
        self._pending_val: list[tuple[int, int, torch.Tensor]] = []   # (step, site index, value)
        self._val_candidates: list[tuple[int, int, torch.Tensor]] = []  # eval-mode losses with grad
        self._val_site_text: dict[int, str] = {}
        self._fwd_eval = False                    # the latest training forward ran in eval mode
        self._pending_mode: list[tuple[int, bool]] = []               # (backward index, eval mode)
        self._batch_sizes: dict[int, int] = {}
        self._last_batch: int | None = None
        self._pending_noise: list[tuple[int, int, int, torch.Tensor, torch.Tensor]] = []
        self._ok_batches: set[int] = set()       # batch sizes whose backward pass completed
        self.repair = None                        # repair mode's controller (nndoctor.repair)
        # (repair mode acts on what the rules find: it always uses the fixed schedule, so a repaired run
        # is reproducible given its seed; plain watching keeps the time budget and never slows a loop)
        self.fixed_cadence = bool(fixed_cadence or repair)
        if repair:
            from .repair import RepairController
            self.repair = RepairController(self)

        # AMP: GradScaler calls seen through probes.tap (the scaled loss, skipped steps)
        self._amp_scaled: tuple[int, torch.Tensor] | None = None   # (id(scaled loss), unscaled loss)
        self._n_step_pre = 0
        self._amp_pre: dict[int, int] = {}

        for i, m in enumerate(models):
            name = model_names[i] if model_names else f"{type(unwrap_model(m)).__name__}{i}"
            self._add_root(m, None if len(models) == 1 and not model_names else name)
        for o in optimizers:
            self._explicit_opts.append(unwrap_optimizer(o))
        if not self.table.roots and not discover_models:
            raise ValueError("nndoctor.watch needs a model (or use nndoctor run, which finds them)")
        if self.table.roots and not self.table.params:
            self.notes.append("the model has no parameters: there is nothing to train or watch")
        elif self.table.params and not any(p.requires_grad for p in self.table.params):
            self.notes.append("no parameter of the model requires grad (everything is frozen)")

    def _add_root(self, m: nn.Module, name: str | None) -> None:
        """Watch the module that holds the layers (DDP and torch.compile wrappers looked through)."""
        wrapper = compiled_wrapper(m)
        inner = unwrap_model(m)
        if any(inner is r for r in self.table.roots):
            return
        self.table.add_root(inner, name)
        if wrapper is not None:
            self.table.compiled[len(self.table.roots) - 1] = wrapper
            self.notes.append(
                f"`{self.table.root_names[-1]}` runs under torch.compile: nndoctor does not hook its layers "
                "(hooks inside a compiled model make dynamo recompile or fall back to eager), so the "
                "layer-level checks (dead-relu, saturated-activation, poor-initialization, unnormalized-input, "
                "the per-module detail of broken-gradient-flow) are not available for it; gradients, losses, "
                "learning rate, optimizer, AMP and NaN checks are (a NaN's origin is found by an eager replay)")

    def _eager_roots(self, first: int = 0) -> list[nn.Module]:
        """Roots whose layers may be hooked (not compiled)."""
        return [r for i, r in enumerate(self.table.roots) if i >= first and i not in self.table.compiled]

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Doctor":
        if self._open or self._closed:
            return self
        self._open = True
        for o in self._explicit_opts:
            self._register_optimizer(o)
            if not any(i < len(self.table.info) and self.table.info[i].root >= 0 for i in self._opts[id(o)].positions):
                self.notes.append(f"{self._opts[id(o)].name} holds none of the watched model's parameters")
        self._warn_if_already_watched()
        self._install_model_hooks()
        if self.discover_models and not self._discovered:
            self._install_pre_discovery_hooks()
        tap.attach(self)
        return self

    def _install_pre_discovery_hooks(self) -> None:
        from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

        def pre(module, args):   # (runs in the user's forward: must never raise)
            self._global_depth += 1
            if self._global_depth == 1 and not self._in_replay and torch.is_grad_enabled():
                try:
                    self._pre_discovery = (weakref.ref(module), args)
                except TypeError:
                    pass

        def post(module, args, output):
            self._global_depth = max(0, self._global_depth - 1)

        try:
            self._global_hooks = [register_module_forward_pre_hook(pre),
                                  register_module_forward_hook(post, always_call=True)]
        except Exception as e:  # pragma: no cover - a torch without global module hooks
            self._internal_error("pre-discovery hooks", e)

    def _remove_pre_discovery_hooks(self) -> None:
        for h in self._global_hooks:
            h.remove()
        self._global_hooks = []

    def _warn_if_already_watched(self) -> None:
        """A model already watched by a doctor nobody closed (a notebook cell with ``doctor = watch(...)``
        run again): both keep watching, and the old one holds its model and hooks until closed. Said
        once, here (not in the loop), as a warning and in the report's notes."""
        mine = {id(r) for r in self.table.roots}
        if not mine:
            return
        for other in tap.active():
            if isinstance(other, Doctor) and other is not self and not other._closed \
                    and mine & {id(r) for r in other.table.roots}:
                started = other.run_meta.get("started")
                ago = f", started {time.time() - started:.0f} s ago" if started else ""
                text = (f"this model is also watched by another nndoctor doctor that is still open{ago} "
                        "(a notebook cell run again?): both watch it, and the old one keeps its hooks and "
                        "its references until closed. Use `with nndoctor.watch(...) as doctor:` or call "
                        "`doctor.close()`; `nndoctor.close_all()` closes every open doctor")
                self.notes.append(text)
                import warnings

                warnings.warn(f"nndoctor.watch: {text}", RuntimeWarning, stacklevel=4)
                return

    def __enter__(self) -> "Doctor":
        self._depth += 1
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> bool:
        # ``with doctor:`` nested in another ``with doctor:`` (a helper that enters the doctor it was
        # handed): only the outermost exit ends the watch, or the outer block would run unwatched
        self._depth = max(0, self._depth - 1)
        if self._depth == 0:
            self.close(exc if isinstance(exc, BaseException) else None)
        return False

    def close(self, exc: BaseException | None = None) -> Report:
        """Stop watching: remove every hook, run the rules a last time, drop references."""
        if self._closed:
            return self.report()
        self._closed = True
        tap.detach(self)
        try:
            if exc is not None and not isinstance(exc, (_StopTraining, KeyboardInterrupt)):
                self.store.facts["exception"] = {"type": type(exc).__name__, "message": str(exc)[:500],
                                                 "step": self.step, "last_batch": self._last_batch,
                                                 "completed_batches": sorted(self._ok_batches),
                                                 "memory": memory_probe.snapshot()}
            self._close_window()
            if self._act.armed and self._act.forwards:
                self._collect_activations()
            self._pending_val.extend(self._val_candidates)
            self._val_candidates.clear()
            self._flush()
            self._evaluate(closing=True)
            self._signals = self.export_signals()
        except Exception as e:  # pragma: no cover - defensive
            self._internal_error("close", e)
        finally:
            if self.repair is not None:  # its hooks come off even if the doctor was disabled
                try:
                    self.repair.close()
                except Exception as e:  # pragma: no cover - defensive
                    self._internal_error("repair close", e)
            self._remove_hooks()
            self._release()
        self.run_meta["ended"] = time.time()
        self._notify_flush()
        report = self.report()
        if self.run_dir is not None:
            try:
                from .report.rundir import save_run

                save_run(self.run_dir, report)
            except Exception as e:
                self._internal_error("run_dir", e)
                report = self.report()
        return report

    def _release(self) -> None:
        for rec in self._opts.values():
            rec.params = []
            rec.snapshot = None
            rec.probe = None
            rec.noise = None
        self._pending_val.clear()
        self._val_candidates.clear()
        self._pending_noise.clear()
        self._pending_scale.clear()
        self._scale_probe = None
        self._act.disarm()
        self._act.mods = {}
        self._act._input_ptrs = set()
        self._probe = None
        self._amp_scaled = None
        self._last_inputs.clear()
        self._pending_loss.clear()
        self._pending_grad.clear()
        self._pending_update.clear()
        self._pending_bw_param.clear()
        self._backward_stack.clear()
        self._stepping = None
        self._explicit_opts = []
        self.table.clear()

    def _remove_hooks(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks.clear()
        self._remove_pre_discovery_hooks()
        self._pre_discovery = None
        if self._recorder is not None:
            self._recorder.remove()
            self._recorder = None
        self._act.disarm()

    def _suspend_module_hooks(self) -> None:
        """Take nndoctor's hooks off the modules (``torch.jit.script`` compiles every module hook, and
        ours are Python that TorchScript cannot compile); ``_resume_module_hooks`` puts them back."""
        for h in self._hooks:
            h.remove()
        self._hooks.clear()
        if self._recorder is not None:
            self._recorder.unhook()
        if self._act.armed:
            if self._act.forwards:
                self._collect_activations()
            else:
                self._act.disarm()
            self._act_left = 0

    @_guard
    def _guarded_suspend(self) -> None:
        self._suspend_module_hooks()
        if self.repair is not None:
            self.repair.suspend()

    @_guard
    def _guarded_resume(self) -> None:
        self._resume_module_hooks()
        if self.repair is not None:
            self.repair.resume()

    def _resume_module_hooks(self) -> None:
        if self._closed or self._disabled:
            return
        self._hook_roots(0)
        if self._recorder is not None and self._window_open:
            self._recorder.install(self._eager_roots())

    # ------------------------------------------------------------------ public
    @property
    def findings(self) -> list[Finding]:
        return self.report().findings

    def report(self) -> Report:
        if self._open and not self._closed:
            try:
                self._flush()
                self._evaluate(closing=False, force=True)
            except Exception as e:  # pragma: no cover
                self._internal_error("report", e)
        findings = list(self._findings.values())
        repairs = None
        if self.repair is not None:
            findings = [copy.copy(f) for f in findings]
            self._repair_call("annotate", findings)
            repairs = self._repair_call("records") or []
        return Report(findings=findings, steps=self.step,
                      backward_passes=self.n_backward, notes=list(self.notes),
                      internal_errors=list(self.internal_errors), repairs=repairs,
                      signals=self._signals if self._closed else self._guarded_export(),
                      meta=dict(self.run_meta), lang=self.lang)

    def export_signals(self, max_points: int = 400) -> dict[str, Any]:
        """The numbers the report's plots show, as plain lists (bounded: ~``max_points`` per series):
        loss and validation losses, learning rates, per-layer gradient norms, update/weight ratios and
        activation statistics. Reads the host-side store only: no device sync."""
        from .report.series import export

        return export(self.store, list(self.table.info), max_points=max_points)

    def _guarded_export(self) -> dict[str, Any] | None:
        try:
            return self.export_signals()
        except Exception as e:
            self._internal_error("export_signals", e)
            return None

    def add_flush_callback(self, fn: Callable[["Doctor"], None]) -> None:
        """``fn(doctor)`` after each flush of statistics to the host (every ``every`` steps at most)
        and once at close: what a live view refreshes from, never per step."""
        self._flush_callbacks.append(fn)

    def _notify_flush(self) -> None:
        for cb in self._flush_callbacks:
            try:
                cb(self)
            except Exception as e:
                self._internal_error("flush callback", e)

    @_guard
    def _repair_call(self, name: str, *args):
        """Repair mode (``watch(..., repair=True)``): the controller's entry points, each guarded."""
        return getattr(self.repair, name)(*args)

    def add_step_callback(self, fn: Callable[[int], None]) -> None:
        self._step_callbacks.append(fn)

    # ------------------------------------------------------------------ registration
    def _install_model_hooks(self) -> None:
        self._hook_roots(0)
        self._open_window()

    def _open_window(self) -> None:
        """Start an analysis window: at the start of the run, and again when a new training phase
        begins (a new optimizer, or new models in ``nndoctor run``), so each phase's graph is seen."""
        if self._window_open or self._closed or not self._open:
            return
        self._graph = _fresh_graph()
        self._window_base = (self.n_backward, self.step, {r.key: r.n_steps for r in self._opts.values()})
        self._recorder = ForwardRecorder(self.table.module_names)
        self._recorder.install(self._eager_roots())
        self._window_open = True

    def _window_should_close(self) -> bool:
        bw0, step0, steps0 = self._window_base
        bw, st = self.n_backward - bw0, self.step - step0
        if bw >= self.max_analysis_backward or st >= self.max_analysis_backward:
            return True
        return bw >= self.analysis_backward and all(r.n_steps - steps0.get(r.key, 0) >= 2
                                                    for r in self._opts.values())

    def _hook_roots(self, first: int) -> None:
        """Forward pre-hooks on the roots from index ``first`` on: they keep a reference to the
        latest training batch (used only to replay a forward pass that produced NaN)."""
        for ridx in range(first, len(self.table.roots)):
            target, hook = self.table.roots[ridx], functools.partial(self._on_root_forward, ridx)
            wrapper = self.table.compiled.get(ridx)
            if wrapper is not None:
                if wrapper is not target and wrapper._orig_mod is target:
                    target = wrapper  # torch.compile(model): the wrapper's hooks run outside the compiled code
                else:  # model.compile(): the module's own hooks are compiled with it: keep dynamo out
                    hook = InertOnCopy.eager(hook)
            # (InertOnCopy: a deepcopy or torch.save of the model carries an inert hook, not the doctor)
            if not isinstance(hook, InertOnCopy):
                hook = InertOnCopy(hook)
            self._hooks.append(target.register_forward_pre_hook(hook, with_kwargs=True))

    def _register_optimizer(self, opt) -> _Opt:
        rec = self._opts.get(id(opt))
        if rec is not None and rec.ref() is opt:
            return rec
        key = len(self._opts)
        rec = _Opt(key=key, name=f"optimizer{key} ({type(opt).__name__})", ref=weakref.ref(opt))
        self._opts[id(opt)] = rec
        self._refresh_params(rec, opt)
        if self._open and not self._window_open:
            self._open_window()  # a new training phase
        if self.repair is not None and key > 0:
            self._repair_call("on_new_optimizer", rec)
        return rec

    def _refresh_params(self, rec: _Opt, opt) -> None:
        rec.sentinel_cache = None
        params, positions = [], []
        for gi, g in enumerate(opt.param_groups):
            for pi, p in enumerate(g["params"]):
                idx = self.table.index.get(id(p))
                if idx is None:
                    idx = self.table.add_loose(p, f"{rec.name.split(' ')[0]}.param_groups[{gi}][{pi}]")
                params.append(p)
                positions.append(idx)
        # keep earlier positions stable (rows in the store are aligned to them)
        if rec.positions and positions[: len(rec.positions)] != rec.positions:
            old = rec.positions
            positions = old + [i for i in positions if i not in set(old)]
            by_idx = {self.table.index[id(p)]: p for p in params}
            params = [by_idx.get(i) if i in by_idx else self.table.params[i] for i in positions]
        rec.params, rec.positions = params, positions
        rec.signature = _signature(opt)
        if any(g.get("maximize") for g in opt.param_groups):   # (its "loss" is an objective to raise)
            keys = self.store.facts.setdefault("maximize", [])
            if rec.key not in keys:
                keys.append(rec.key)

    def _optimizer_record(self, opt) -> _Opt | None:
        rec = self._opts.get(id(opt))
        if rec is not None and rec.ref() is opt:
            return rec
        if opt in self._ignored_opts:
            return None
        if self.discover_models and not any(id(p) in self.table.index for g in opt.param_groups
                                            for p in g["params"]):
            self._discover()
        if any(id(p) in self.table.index and self.table.info[self.table.index[id(p)]].root >= 0
               for g in opt.param_groups for p in g["params"]):
            return self._register_optimizer(opt)
        if self.discover_models and any(p.requires_grad for g in opt.param_groups for p in g["params"]):
            # nndoctor run watches what the script trains, modules or not: an optimizer over plain
            # tensors (``w = torch.zeros(10, requires_grad=True)``; an input image in style transfer)
            # is the training too. Its tensors join the table as loose parameters.
            return self._register_optimizer(opt)
        self._ignored_opts.add(opt)
        return None

    def _discover(self) -> None:
        """nndoctor run: find the models and optimizers an unmodified script created."""
        seen, self._pre_discovery = self._pre_discovery, None
        self._remove_pre_discovery_hooks()
        roots, opts = discover()
        new = [r for r in roots if not any(unwrap_model(r) is w for w in self.table.roots)]
        if not new:
            # nothing (new) to watch: a script without nn.Module models. Not searched again at every
            # backward pass (a heap scan each); an optimizer stepping parameters we do not know yet
            # triggers a new search (``_optimizer_record``)
            self._discovered = True
            return
        before = len(self.table.roots)
        names = _variable_names(new + opts)   # one heap scan for every name needed below
        for r in new:
            self._add_root(r, names.get(id(r)) or type(unwrap_model(r)).__name__ if len(roots) > 1 else None)
        called = seen[0]() if seen is not None else None
        if called is not None:
            for ridx in range(before, len(self.table.roots)):
                if unwrap_model(called) is self.table.roots[ridx]:
                    self._last_inputs.setdefault(ridx, (seen[1], {}))
        self._hook_roots(before)
        if self._window_open and self._recorder is not None:
            self._recorder.install(self._eager_roots(before))
        else:
            self._open_window()
        for o in opts:
            if any(id(p) in self.table.index for g in o.param_groups for p in g["params"]):
                self._register_optimizer(o)
        if "model" not in self.var_names and self.table.roots:
            r0 = self.table.roots[0]
            name = names.get(id(r0)) if any(r0 is r for r in new) else _variable_name(r0)
            if name:
                self.var_names["model"] = name
        if "optimizer" not in self.var_names and self._opts:
            opt = next(iter(self._opts.values())).ref()
            name = None
            if opt is not None:
                name = names.get(id(opt)) if any(opt is o for o in opts) else _variable_name(opt)
            if name:
                self.var_names["optimizer"] = name
        self._discovered = True

    # ------------------------------------------------------------------ hooks (hot path)
    @_guard
    def _on_root_forward(self, ridx: int, module, args, kwargs) -> None:
        if self._in_replay or in_transform():
            return
        if self._val_candidates:  # losses of an eval-mode forward that no backward pass followed
            self._pending_val.extend(self._val_candidates)
            self._val_candidates.clear()
            if len(self._pending_val) >= 4096:   # (see _val_value)
                self._flush()
        if torch.is_grad_enabled():
            if ridx is not None:
                self._last_inputs[ridx] = (args, kwargs)
            self._forward_since_backward = True
            self._val_ready = False
            self._fwd_eval = not module.training
            first = args[0] if args and isinstance(args[0], torch.Tensor) else next(iter_tensors((args, kwargs)), None)
            if first is not None and first.ndim:
                n = self._last_batch = int(first.shape[0])
                if n in self._batch_sizes or len(self._batch_sizes) < 64:
                    self._batch_sizes[n] = self._batch_sizes.get(n, 0) + 1
            if self._act_due and not self._act.armed:
                # a few consecutive batches, at least 64 examples (to call a unit dead), at most 64 batches
                self._act_due = False
                b = int(first.shape[0]) if first is not None and first.ndim else 1
                self._act_left = min(64, max(3, -(-64 // max(b, 1))))
                self._act_step = self.step
                self._act.arm(self._eager_roots())
            if self._act.armed:
                self._act.note_inputs(args, kwargs)
        else:
            self._val_ready = True
        if not module.training:
            self._val_ready = self._val_ready or not torch.is_grad_enabled()

    def framework_batch(self, module: nn.Module, batch: Any) -> None:
        """A framework is about to run a training (grad on) or validation (grad off) step of
        ``module`` on ``batch``: the same as a forward pass of the watched model, for steps that
        call its submodules without calling the model itself (Lightning's ``training_step`` often
        does ``self.encoder(x)``)."""
        if self._open and not self._closed:
            self._on_root_forward(None, module, (batch,), {})

    @_guard
    def _on_loss(self, name: str, args: tuple, kwargs: dict, result: Any) -> None:
        """A torch.nn.functional loss was called (see probes.tap)."""
        pred = args[0] if args else kwargs.get("input")
        target = args[1] if len(args) > 1 else kwargs.get("target")
        if not isinstance(pred, torch.Tensor) or in_transform():
            return
        if pred.requires_grad and torch.is_grad_enabled():
            if not (self.discover_models or self._forward_since_backward):
                return
            if self._fwd_eval and isinstance(result, torch.Tensor) and result.is_floating_point():
                # eval mode with grad on: validation without no_grad, unless a backward pass follows
                self._val_value(name, result, candidate=True)
            self._loss_calls_seen += 1
            self._last_loss_ref = weakref.ref(result) if isinstance(result, torch.Tensor) else None
            fn = result.grad_fn if isinstance(result, torch.Tensor) else None
            self._last_loss_fn_type = type(fn) if fn is not None else None
            self._scale_probe = None
            n = self._loss_calls_seen
            if n <= 8 or (n & (n - 1)) == 0:
                desc = describe_call(name, pred, target)
                if desc is not None:
                    desc.update(call_options(name, args, kwargs))
                    site = tap.caller_site()
                    desc["site"] = _site_text(site)
                    desc["step"] = self.step
                    calls = self.store.facts.setdefault("loss_calls", {})
                    key = f"{name}@{desc['site']}"
                    prev = calls.get(key)
                    desc["count"] = prev.get("count", 0) + 1 if prev else 1
                    # the targets' frequencies, pooled over the described calls: the constant predictor's loss
                    new = prior_stats(name, pred, target, args, kwargs)
                    desc["prior"] = new if prev is None else merge_prior(prev.get("prior"), new)
                    calls[key] = desc
                    per = mean_count(name, pred, target, kwargs) if new is not None else None
                    if per and fn is not None and result.numel() == 1:
                        self._scale_probe = (fn, result.detach(), per)
        elif self._val_ready and isinstance(result, torch.Tensor) and result.is_floating_point():
            self._val_value(name, result)

    def _val_value(self, name: str, result: torch.Tensor, candidate: bool = False) -> None:
        site = tap.caller_site()
        key = (name,) + (tuple(site[:2]) if site else ())
        idx = self._val_sites.setdefault(key, len(self._val_sites))
        if idx >= 16:
            return
        v = result.detach()
        row = (self.step, idx, v if v.numel() == 1 else v.float().mean())
        if candidate:
            self._val_candidates.append(row)
            self._val_site_text[idx] = f"{name} at {_site_text(site)}"
        else:
            self.store.facts.setdefault("val_sites", {})[str(idx)] = f"{name} at {_site_text(site)}"
            self._pending_val.append(row)
            if len(self._pending_val) >= 4096:
                # an evaluation-only stretch (no step, no backward: nothing else flushes) must not
                # hold every value it computes: one transfer per 4096 values
                self._flush()

    def log(self, **metrics: float) -> None:
        """Report numbers the doctor cannot see by itself, e.g. ``doctor.log(val_loss=0.42)``."""
        for k, v in metrics.items():
            if k != "val_loss":
                self.store.append(f"metric/{k}", self.step, float(v))
                continue
            key = ("doctor.log(val_loss)",)
            idx = self._val_sites.setdefault(key, len(self._val_sites))
            self.store.facts.setdefault("val_sites", {})[str(idx)] = "doctor.log(val_loss=...)"
            self._pending_val.append((self.step, idx, torch.as_tensor(float(v))))

    def _on_backward_start(self, tensors) -> None:
        # one entry per backward pass started (None: not one to record, or an internal error), popped by
        # its end or, when the pass raises, by _on_backward_abort: the stack stays paired with the passes
        self._backward_stack.append(self._backward_entry(tensors))
        if len(self._backward_stack) > 8:  # (a bound, should a pass end unseen)
            del self._backward_stack[0]

    def _on_backward_abort(self) -> None:
        """The backward pass raised (an out-of-memory error, a user's hook): drop its entry now. It holds
        the loss, and through it the whole graph with its saved activations: kept, it would hold the very
        memory a user's OOM handler frees to retry with a smaller batch."""
        if self._backward_stack:
            self._backward_stack.pop()

    @_guard
    def _backward_entry(self, tensors) -> dict | None:
        if self.repair is not None and self.repair.backward_actions:   # (the remedies that watch backward passes)
            self._repair_call("on_backward_start", tensors)
        roots = graph_probe.roots_of(tensors)
        root = tensors if isinstance(tensors, torch.Tensor) else \
            tensors[0] if isinstance(tensors, (tuple, list)) and len(tensors) == 1 else None
        sp, self._scale_probe = self._scale_probe, None   # (held until this pass: its graph's node)
        if root is not None and not (self._amp_scaled is not None and self._amp_scaled[0] == id(root)):
            # (GradScaler's loss x scale is left out: the series holds the loss given to scale(), not this root)
            facts = self.store.facts
            if self._last_loss_ref is not None and self._last_loss_ref() is root:
                # backward straight on a loss function's result: the loss series is that function's value
                facts["backward_on_loss_call"] = facts.get("backward_on_loss_call", 0) + 1
                end = root.grad_fn
            else:
                # or on that result times constants (``loss / accum_steps``): the series is the function's value
                # scaled, by a factor measured at the described calls (root / value, read at the flush)
                end = scale_chain_end(root) if root.numel() == 1 and self._last_loss_fn_type is not None else None
                if end is not None and type(end) is self._last_loss_fn_type:
                    facts["backward_on_scaled_loss_call"] = facts.get("backward_on_scaled_loss_call", 0) + 1
                else:
                    end = None
            if end is not None and sp is not None and sp[0] is end and len(self._pending_scale) < 64:
                self._pending_scale.append((root.detach(), sp[1], sp[2]))
        if self.discover_models and not self._discovered:
            self._discover()
        if self.discover_models and not self.table.params and self._leaf_tries < 4:
            self._adopt_leaves(tensors)
        if roots and not any(t.requires_grad for t in roots):
            # torch is about to raise "does not require grad": say why, if it is our model's loss
            if self._forward_since_backward or self.discover_models:
                self._graph["no_history"] += 1
            return None
        pend = {"roots": roots, "stepping": self._stepping,
                "walk": graph_probe.walk(tensors) if self._window_open else None}
        if "activation_bytes" not in self.store.facts and self._window_open and self._forward_since_backward:
            # what the graph saved for backward scales with the batch: the basis of an OOM remedy
            self.store.facts["activation_bytes"] = {"bytes": memory_probe.saved_activation_bytes(roots),
                                                    "batch": self._last_batch}
        # states before gradients accumulate: was .grad reset since the previous backward/step?
        if self._probe is not None:
            pend["probe"] = (id(self._probe.param.grad), self._probe.version_now())
            if not self.discover_models:
                # the optimizers' own probes too: a pass that reaches the model while the doctor's probe
                # parameter is frozen (a GAN's discriminator, requires_grad off while the generator steps)
                pend["rec_probes"] = [(r.probe, id(r.probe.param.grad), r.probe.version_now())
                                      for r in self._opts.values() if r.probe is not None and r.probe is not self._probe]
                # an optimizer with no probe yet (its parameters had no gradient at any pass so far: a student
                # whose teacher trains first): the first and last of its trainable parameters stand in, or its
                # model's passes would never be attributed, and its probe never chosen
                pend["unprobed"] = [(p, id(p.grad), p.grad._version if p.grad is not None else None)
                                    for r in self._opts.values() if r.probe is None for p in r.sentinels()]
            if self._steps_since_backward == 0 and self.n_backward > 0:
                pend["bw_reset"] = self._probe.was_reset()
                pend["bw_updated"] = self._probe.param_changed()   # a manual in-place update, no step()
        pend["opt_resets"] = [rec for rec in self._opts.values()
                              if rec.probe is not None and not rec.reset_seen and rec.probe.was_reset()]
        return pend

    def _attributed(self, pend: dict) -> bool:
        """Did this backward pass go through a watched model? (``nndoctor run`` watches every
        backward; ``watch(model)`` only those that reach the model, so training another model in
        the same process is not mistaken for this one's.)"""
        if self.discover_models:
            return True
        if "probe" in pend and pend["probe"] != (id(self._probe.param.grad), self._probe.version_now()):
            return True
        if any((id(pr.param.grad), pr.version_now()) != (gid, ver) for pr, gid, ver in pend.get("rec_probes", ())):
            return True
        if any(p.grad is not None and (id(p.grad), p.grad._version) != (gid, ver) for p, gid, ver in pend.get("unprobed", ())):
            return True
        w = pend["walk"]
        if w is None:
            return False
        if any(id(leaf) in self.table.index for leaf in w.leaves):
            return True
        # a loss cut off from every parameter, right after this model's forward pass
        return self._forward_since_backward and not any(isinstance(leaf, nn.Parameter) for leaf in w.leaves)

    @_guard
    def _on_backward_end(self) -> None:
        if not self._backward_stack:
            return
        pend = self._backward_stack.pop()
        if pend is None:
            return
        if not self._attributed(pend):
            return
        self.n_backward += 1
        self._forward_since_backward = False
        if pend["stepping"] is not None:
            pend["stepping"].backward_in_step = True
        # the loss series is real: a complex root (backward with an explicit gradient) is not a loss
        scalars = [t for t in pend["roots"] if t.numel() == 1 and not t.is_complex()]
        if scalars and self._amp_scaled is not None and len(scalars) == 1 \
                and id(scalars[0]) == self._amp_scaled[0]:
            # GradScaler.scale(loss).backward(): the series gets the loss, not loss x scale
            scalars = [self._amp_scaled[1]]
        self._amp_scaled = None
        if scalars and any(t.is_meta for t in scalars):
            self._note_meta()
            scalars = []
        if scalars:  # kept as is on the device; shaped and converted in one batch at the flush
            v = scalars[0].detach() if len(scalars) == 1 else sum(t.detach().reshape(()).float() for t in scalars)
            self._untagged_loss.append(len(self._pending_loss))
            self._pending_loss.append((self.n_backward, v))
        if pend["walk"] is not None and self._window_open:
            self._analyse_graph(pend["walk"])
            if self._graph["walks"] <= 3:
                self._loss_graph(pend["roots"])
        if self._window_open and self._recorder is not None:
            self._recorder.new_pass()   # (the pass's outputs it held, released)
        self._pending_mode.append((self.n_backward, self._fwd_eval))
        self._val_candidates.clear()  # they were training losses after all
        if self._last_batch is not None and len(self._ok_batches) < 64:
            self._ok_batches.add(self._last_batch)
        if self._act.armed:
            self._act_left -= 1
            if self._act_left <= 0:
                self._collect_activations()
        if "bw_reset" in pend:
            self._bw_intervals.append(pend["bw_reset"])
            self._bw_reset_count += bool(pend["bw_reset"])
            if len(self._bw_intervals) > 128:   # the rules read the latest 64 and the count
                del self._bw_intervals[:-64]
            if pend.get("bw_updated"):
                self._manual_intervals.append(pend["bw_reset"])
                del self._manual_intervals[:-64]
        for rec in pend["opt_resets"]:
            rec.reset_seen = True
        if self._probe is None:
            self._probe = self._choose_probe(range(len(self.table.params)))
        if self._probe is not None:
            self._probe.mark()
        for rec in self._opts.values():
            if rec.probe is None:
                rec.probe = self._choose_probe(rec.positions)
                if rec.probe is not None and self._probe is not None and rec.probe.param is self._probe.param:
                    rec.probe = self._probe  # the same parameter: one probe, marked once
            if rec.probe is not None and rec.probe is not self._probe:
                rec.probe.mark()
        if self.step == 0 and self.table.params and (self.n_backward <= 8 or self.n_backward % self.every == 0):
            # no optimizer step seen yet: keep a fingerprint of the parameters to see if anything
            # (a manual update, an unwatched optimizer) changes them
            ps = [p for p in self.table.params if p.requires_grad and not p.is_meta]
            if ps:
                self._pending_bw_param.append((self.n_backward, norms([p.detach() for p in ps])))
        self._steps_since_backward = 0
        if self._window_open and self._window_should_close():
            self._close_window()
        if self.step == 0 and (self.n_backward % self.every == 0 or self.n_backward in (3, 5)):
            self._flush()
            self._evaluate()
        if self.repair is not None and self.step == 0 and self._manual_intervals and not self._n_step_pre:
            # weights updated by hand, no optimizer step: repair mode is driven from here (its iteration)
            self._repair_call("on_manual_update")

    @_guard
    def _on_step_pre(self, opt) -> None:
        rec = self._opts.get(id(opt))
        if rec is None or rec.ref() is not opt:
            rec = self._optimizer_record(opt)
            if rec is None:
                return
        if _signature(opt) != rec.signature:
            self._refresh_params(rec, opt)
            self._open_window()  # parameters added to an optimizer: a new training phase
        rec.n_steps += 1
        self._n_step_pre += 1
        # a training iteration begins when an optimizer steps that has already stepped in the current one: a
        # GAN's two optimizers step once each per iteration, a WGAN's critic five times per generator step
        # (the count is then the critic's), one optimizer once. The count is the largest optimizer step count
        # of the run, except across training phases: a student's optimizer after its teacher's (or a new
        # optimizer a repair swapped in) continues the count where the teacher's left it. The largest count
        # would stay at the teacher's until the student caught up: its steps all stamped alike, and the
        # cadence that flushes and judges (keyed on the iteration) silent for that long.
        rec.leads = rec.key in self._iter_keys or not self._iter_keys
        if rec.leads:
            self.step += 1
            self._iter_keys = {rec.key}
        else:
            self._iter_keys.add(rec.key)
        rec.last_step = self.step
        self._steps_since_backward += 1
        self._stepping = rec
        # losses since the last step belong to this optimizer
        for pos in self._untagged_loss:
            self._loss_tags.append((self._pending_loss[pos][0], rec.key))
        self._untagged_loss.clear()
        if rec.n_steps > 1 and rec.interval_probed:
            rec.intervals.append(rec.reset_seen)
            if len(rec.intervals) > 128:   # the rules read the latest 64 (bounded memory on long runs)
                del rec.intervals[:-64]
        # an interval is judged only if the probe watched it from its start: an optimizer whose parameters got
        # no gradient until now (a resumed trainer's, whose model was rebuilt, once repair adds the new one's
        # parameters) has no probe, and its intervals without one are unknown, not intervals without a reset
        rec.interval_probed = rec.probe is not None
        rec.reset_seen = False
        rec.backward_in_step = False
        if not rec.closure:
            self._gradient_stats(rec)
        if self._is_sample_step(rec.n_steps):
            lrs = _lrs(opt)
            if lrs:
                rec.lrs = lrs
                self.store.append(f"lr/{rec.key}", rec.n_steps, max(lrs))
            # backward passes so far: maps the loss series (per backward pass) onto optimizer steps
            self.store.append("backward_at_step", rec.n_steps, self.n_backward)
            rec.snapshot_local = [j for j, p in enumerate(rec.params)
                                  if (p.grad is not None or rec.closure) and not p.is_meta]
            rec.snapshot = [rec.params[j].detach().clone() for j in rec.snapshot_local]
        if self.repair is not None and self.repair.best is None:   # (its one use: the state before the first update)
            self._repair_call("on_step_pre", rec)

    # ------------------------------------------------------------------ AMP (GradScaler)
    @_guard
    def _on_amp_scale(self, scaler, outputs, result) -> None:
        if isinstance(outputs, torch.Tensor) and isinstance(result, torch.Tensor):
            self._amp_scaled = (id(result), outputs.detach())

    @_guard
    def _on_amp_step_begin(self, scaler, optimizer) -> None:
        self._amp_pre[id(scaler)] = self._n_step_pre

    @_guard
    def _on_amp_step_end(self, scaler, optimizer) -> None:
        """After ``GradScaler.step(optimizer)``: if the optimizer's step hooks did not fire, the
        scaler found Inf/NaN in the scaled gradients and skipped the step (it lowers the scale next).
        A few such steps are how dynamic loss scaling finds its scale; the non-finite rule reads
        the streak and the scale (``facts["amp"]``)."""
        before = self._amp_pre.pop(id(scaler), None)
        if before is None:
            return
        skipped = self._n_step_pre == before
        if self._optimizer_record(unwrap_optimizer(optimizer)) is None:
            return  # not an optimizer of the watched model
        amp = self.store.facts.setdefault("amp", {"steps": 0, "skipped": 0, "streak": 0, "max_streak": 0,
                                                  "scale_at_skip": None, "first_skip_step": None,
                                                  "last_skip_backward": None})
        amp["steps"] += 1
        if not skipped:
            amp["streak"] = 0
            return
        amp["skipped"] += 1
        amp["streak"] += 1
        amp["max_streak"] = max(amp["max_streak"], amp["streak"])
        amp["last_skip_backward"] = self.n_backward
        if amp["first_skip_step"] is None:
            amp["first_skip_step"] = self.step
        scale = getattr(scaler, "_scale", None)
        if isinstance(scale, torch.Tensor):
            # the scale this step overflowed with; the scaler has already synchronised to decide
            # to skip, so this read costs nothing extra (and happens only on skipped steps)
            amp["scale_at_skip"] = float(scale.detach().float().reshape(-1)[0])

    def _gradient_stats(self, rec: _Opt) -> None:
        """Per-parameter gradient norms (one fused op), and the non-finite flag."""
        grads = [p.grad for p in rec.params]
        if any(map(_IS_NONE, grads)):  # (not ``None in grads``: that calls Tensor.__eq__, ~0.5 ms)
            local = [j for j, g in enumerate(grads) if g is not None]
            grads = [grads[j] for j in local]
        else:  # the usual case: every parameter has a gradient (one shared list of all positions)
            if len(rec.all_local) != len(grads):
                rec.all_local = list(range(len(grads)))
            local = rec.all_local
        if not grads:  # step() sees no gradient at all: a row of "missing"
            self._pending_grad.append((rec.key, self.step, None, []))
            if self.discover_models and self._steps_since_backward == 1:
                self._gradients_elsewhere(rec)
            return
        rec.no_grad_run = 0
        if grads[0].is_meta:
            self._note_meta()
            return
        if not rec.closure and (rec.noise is not None or rec.n_steps >= rec.noise_next):
            self._noise_window(rec, grads, local)
        if len(grads) <= 32 and grads[0].is_cpu:
            # few parameters on the CPU: read the fused op's 0-d results as plain floats at once (on
            # the CPU .item() is a memory read, not a device sync; CUDA tensors take the asynchronous
            # path below): the flag is their sum, and the flush builds its matrix from floats, with no
            # tensor kept per step
            try:
                vals = [t.item() for t in torch._foreach_norm(grads)]
            except (RuntimeError, NotImplementedError, TypeError):
                vals = norms(grads).tolist()
            self._pending_grad.append((rec.key, self.step, vals, local))
            if "nonfinite" not in self.store.facts:
                total = math.fsum(vals)
                if not math.isfinite(total):
                    self._investigate_nonfinite(rec, torch.tensor(vals, dtype=torch.float32), local, self.step)
                elif total > 0:
                    self._watch_spike(rec, math.log10(total))
            return
        vec = norms(grads)
        self._pending_grad.append((rec.key, self.step, vec, local))
        if "nonfinite" not in self.store.facts:
            hits = self._flags.push(self.step, vec)  # NaN/Inf anywhere makes the sum non-finite
            if hits:
                self._investigate_nonfinite(rec, vec, local, hits[0])

    def _adopt_leaves(self, tensors) -> None:
        """``nndoctor run`` on a script with no ``nn.Module`` and no optimizer (weights made with
        ``torch.randn(..., requires_grad=True)``, updated by hand under ``no_grad``): the tensors that require
        grad which the loss reaches, and those the script's globals hold (one cut off from the graph is a
        parameter too), are watched as the parameters, so the checks that need no optimizer work on them (a
        ``.grad`` never reset between hand-written updates, gradients cut off). Tried at the first few backward
        passes (one whose graph reaches no leaf, a loss of constants, finds nothing)."""
        self._leaf_tries += 1
        leaves = list(graph_probe.walk(tensors).leaves)
        main = sys.modules.get("__main__")
        for v in (vars(main).values() if main is not None else ()):
            if isinstance(v, torch.Tensor) and v.is_leaf and v.requires_grad:
                leaves.append(v)
        seen, keep = set(), []
        for t in leaves:
            if id(t) not in seen and t.requires_grad and t.is_floating_point() and not t.is_meta:
                seen.add(id(t))
                keep.append(t)
        if not keep:
            return
        names = _variable_names(keep)
        for i, t in enumerate(keep):
            self.table.add_loose(t, names.get(id(t)) or f"tensor{i}")
        self._adopted = True
        shown = ", ".join(f"`{self.table.info[self.table.index[id(t)]].name}`" for t in keep[:6])
        self.notes.append(f"no nn.Module and no optimizer were found: the {len(keep)} tensor(s) that require grad "
                          f"({shown}{', ...' if len(keep) > 6 else ''}) are watched as the parameters")

    def _gradients_elsewhere(self, rec: _Opt) -> None:
        """``nndoctor run``: a backward pass ran, and the optimizer stepping now has a gradient on none of
        its parameters. The pass went to parameters nndoctor does not know: most often a model the script
        built anew after the optimizer (a k-fold loop's ``model = make_model()`` with the optimizer of the
        first fold kept), whose forward passes no hook sees. The heap is searched again for models, at the
        1st, 2nd, 4th, 8th... such step in a row (a search scans every live object: a few of them per
        episode, not one per step); a model found joins the watch, and its gradients, which no optimizer
        holds, are parameter-not-optimized's evidence at the analysis window it opens."""
        rec.no_grad_run += 1
        n = rec.no_grad_run
        if n & (n - 1) == 0:
            before = len(self.table.roots)
            self._discover()
            if len(self.table.roots) > before:
                # the losses from here on are the new model's: for the rules, the optimizer's loss series starts
                # again (a converged model's 0.01 followed by a fresh one's 0.7 is not a divergence)
                self.store.facts.setdefault("loss_restarts", {})[str(rec.key)] = self.n_backward - 1
                self.notes.append(f"at step {self.step}, {rec.name} stepped with no gradient on any of its parameters "
                                  f"after a backward pass: a model created since was found and is watched too")

    def _note_meta(self) -> None:
        """Tensors on the meta device have shapes but no values (a dry run, or a model built with
        ``torch.device("meta")`` and not yet materialized): there is nothing to measure."""
        if not self.store.facts.get("meta_device"):
            self.store.facts["meta_device"] = True
            self.notes.append("the model's tensors are on the meta device (shapes, no values): nndoctor "
                              "counts its backward passes and steps but reads no statistics until it is "
                              "materialized (e.g. `model.to_empty(device=...)` and an initialization)")

    def _watch_spike(self, rec: _Opt, level: float) -> None:
        """A gradient norm 100x (2 decades) above its running level asks for the rules at the end of
        this step rather than at the next flush: 2 decades is exploding-gradient's own burst threshold,
        and an explosion compounds within a few steps (a recurrent net's goes from 1e2 to inf in ~15),
        so waiting up to ``every`` steps can cost most of a short run. Read from the norms the step
        computes anyway (CPU tensors only: no extra device sync); none once the rule has spoken.

        Spikes that settle (a rare heavy batch) are not an explosion, and one look each would cost a
        rules evaluation every few steps on a noisy run: after each look that finds no explosion the
        gap to the next doubles (5, 10, 20... steps) up to ``every``, the flush cadence (so a noisy
        run is judged at most once per flush: its other findings, e.g. a batch too small, are not
        delayed by the flushes' time budget), unless the norm has risen a decade above the one that
        asked for the last look -- an explosion compounds, so its next look comes 5 steps later."""
        prev = rec.log_norm
        rec.log_norm = level if prev is None else prev + 0.1 * (level - prev)   # ~10-step memory
        if prev is not None and rec.n_steps > 5 and level - prev >= 2 \
                and self.step - self._spike_eval_step >= 5 \
                and (self.step - self._spike_eval_step >= self._spike_gap or level >= self._spike_level + 1) \
                and not (self.repair is not None and self.repair.current is not None) \
                and not self._exploding_spoken():
            # (not while repair mode tests a remedy: its verdict flushes and judges at the window's end)
            self._spike_eval_due = True
            self._spike_level = level

    def _exploding_spoken(self) -> bool:
        return any(k[0] == "exploding-gradient" and f.severity != "info" for k, f in self._findings.items())

    def _noise_window(self, rec: _Opt, grads: list[torch.Tensor], local: list[int]) -> None:
        """Gradient noise scale (McCandlish et al. 2018, appendix A): over K consecutive steps keep
        the mean of the per-step squared gradient norms |G_B|^2 and the squared norm of the summed
        gradient |G_KB|^2 (an estimate at batch K*B); both go to the host at the flush."""
        t0 = time.perf_counter()
        ns = rec.noise
        if ns is None:
            if not self.fixed_cadence and t0 - rec.noise_last < 100 * rec.noise_cost:  # ~1% of the wall time
                rec.noise_next = rec.n_steps + self.every
                return
            sel, total = [], 0
            for i, g in enumerate(grads):  # very large models: a subset of the tensors (20M values)
                if g.layout != torch.strided or g.is_meta:
                    # a sparse gradient (nn.Embedding(sparse=True)) has no fused norm or in-place sum,
                    # and a meta one no values: the estimate uses the dense gradients
                    continue
                if total + g.numel() <= 20_000_000 or not sel:
                    sel.append(i)
                    total += g.numel()
            if not sel:
                rec.noise_next = rec.n_steps + 5 * self.every
                return
            ns = rec.noise = {"local": list(local), "sel": sel, "sq": [], "k": 0, "cost": 0.0,
                              "acc": [_real(grads[i]).float().clone() for i in sel]}
        elif ns["local"] != local:  # the set of parameters with gradients changed: start again later
            rec.noise = None
            rec.noise_next = rec.n_steps + self.every
            return
        else:
            torch._foreach_add_(ns["acc"], [_real(grads[i]).float() for i in ns["sel"]])
        ns["sq"].append(torch.stack(torch._foreach_norm([grads[i].detach() for i in ns["sel"]])).float()
                        .pow(2).sum())
        ns["k"] += 1
        if ns["k"] >= NOISE_WINDOW:
            k = ns["k"]
            big = torch.stack(torch._foreach_norm(ns["acc"])).pow(2).sum() / (k * k)
            small = torch.stack(ns["sq"]).mean()
            self._pending_noise.append((rec.key, self.step, k, small, big))
            rec.noise = None
            rec.noise_next = rec.n_steps + 5 * self.every
            rec.noise_cost = ns["cost"] + time.perf_counter() - t0
            rec.noise_last = time.perf_counter()
            return
        ns["cost"] += time.perf_counter() - t0

    @_guard
    def _on_step_post(self, opt) -> None:
        rec = self._opts.get(id(opt))
        if rec is None or rec.ref() is not opt:
            return
        self._stepping = None
        if rec.backward_in_step and not rec.closure:
            # optimizer.step(closure): backward runs inside step(), so gradients are read after it
            rec.closure = True
        if rec.closure:
            self._gradient_stats(rec)
        if rec.snapshot is not None:
            after = [rec.params[j].detach() for j in rec.snapshot_local]
            if after:
                diff = torch._foreach_sub(after, rec.snapshot)
                # uphill or downhill: the update against the gradient it was taken on (not for a closure's
                # several evaluations; grads are still in place after step())
                un = norms(diff)
                cos = None if rec.closure else descent_cosine(diff, [rec.params[j].grad for j in rec.snapshot_local], un)
                self._pending_update.append((rec.key, self.step, norms(rec.snapshot), un, rec.snapshot_local, cos))
            rec.snapshot = None
        if rec.probe is not None:
            rec.probe.mark()
        if self._window_open and self._window_should_close():
            self._close_window()
        if self._spike_eval_due and rec.leads:
            self._spike_eval_due = False
            self._spike_eval_step = self.step
            self._flush()
            self._evaluate(force=True)
            if not self._exploding_spoken():
                # a look that found no explosion (a noisy run whose gradients jump by 100x and settle)
                # doubles the gap to the next one, up to the flush cadence the user chose (``every``): on
                # such a run the looks are then no more frequent than the flushes, not one every 5 steps
                self._spike_gap = min(2 * self._spike_gap, max(5, self.every))
            if self._flush_callbacks:
                self._notify_flush()
        if rec.leads and (self.step % self.every == 0 or self.step in (3, 5)):
            # (every `every` steps whatever the flush's time budget: counts only, a few us)
            self._check_trainable_set()
            # the flush, like the rules, is held to a time budget (~2% of the wall time since the
            # last one), with a hard bound on what may stay pending
            now = time.perf_counter()
            if self.step <= 5 or self.fixed_cadence or now - self._last_flush_time >= 50 * self._last_flush_cost \
                    or len(self._pending_grad) >= 20 * self.every:
                self._flush()
                self._last_flush_cost = time.perf_counter() - now
                self._last_flush_time = time.perf_counter()
                self._evaluate()
                if self._flush_callbacks:
                    self._notify_flush()
        if rec.leads and not self._act.armed and not self._act_due and \
                self.step % self.every == 0:
            # the next activation sample: as soon as the probe's cost is under ~1% of the wall time since
            # the last one, and in any case at every x 2^k steps (a few, whatever the machine's load)
            k = self.step // self.every
            if self.fixed_cadence:   # by steps only: every 2^k-th and every 4th flush
                due = k & (k - 1) == 0 or k % 4 == 0
            else:
                due = time.perf_counter() - self._act_last_time >= 100 * self._act_cost or k & (k - 1) == 0
            if due:
                self._act_due = True
        if self.repair is not None:
            self._repair_call("on_step_post", rec)
        for cb in self._step_callbacks:
            cb(self.step)

    def _is_sample_step(self, n: int) -> bool:
        return n <= 5 or n % self.every == 0

    def _choose_probe(self, positions) -> _Probe | None:
        """A small parameter that receives gradients, as late in the forward order as possible."""
        best, best_key = None, None
        order = self._module_order()
        for i in positions:
            p = self.table.params[i] if i < len(self.table.params) else None
            if p is None or p.grad is None or not p.requires_grad:
                continue
            info = self.table.info[i]
            key = (-order.get(info.module, -1), p.numel())
            if best_key is None or key < best_key:
                best, best_key = p, key
        return _Probe(best) if best is not None else None

    def _module_order(self) -> dict[str, int]:
        if self._recorder is not None:
            return {n: c.order for n, c in self._recorder.calls.items()}
        return self.store.facts.get("module_order", {})

    # ------------------------------------------------------------------ analysis window
    def _analyse_graph(self, w: graph_probe.GraphWalk) -> None:
        g = self._graph
        g["walks"] += 1
        if self._adopted and w.leaves and not any(id(leaf) in self.table.index for leaf in w.leaves) \
                and "weights_rebound" not in self.store.facts:
            # the bare tensors adopted at the first pass are no longer what the loss reaches: the script makes
            # new ones at each update (``W = (W - lr * W.grad).detach().requires_grad_()``), which nndoctor cannot
            # follow; the adopted ones are stale, and the checks that read them stand down
            self.store.facts["weights_rebound"] = True
            self.notes.append("the script makes new weight tensors at each update (e.g. `W = (W - lr * W.grad)"
                              ".detach().requires_grad_()`): the tensors watched are its first ones, so the checks "
                              "of hand-written updates (a .grad never reset, no update at all) are not made")
        for leaf in w.leaves:
            idx = self.table.index.get(id(leaf))
            if idx is not None:
                g["reached"].add(idx)
            elif not isinstance(leaf, nn.Parameter):  # a plain tensor made a leaf (e.g. torch.tensor(...))
                g["plain_leaves"] += 1
            elif len(g.setdefault("stray", {})) < 64:
                # an nn.Parameter of no watched module (``raw_sigma = nn.Parameter(...)`` beside the model): with
                # its version now, to tell one updated by hand from one nothing updates (see _close_window)
                g["stray"].setdefault(id(leaf), (leaf, leaf._version))
        if w.functions:
            # custom torch.autograd.Function classes in the loss's graph: their backward is hand-written (a NaN
            # the backward pass makes may be theirs; repair can swap in autograd's derivative of their forward)
            funcs = g.setdefault("functions", {})
            for cls in w.functions:
                if len(funcs) < 16:
                    funcs.setdefault(f"{cls.__module__}.{cls.__qualname__}", cls)
            self.store.facts["custom_functions"] = sorted(c.__qualname__ for c in funcs.values())
        if self._recorder is not None:
            for name, calls in self._recorder.calls.items():
                if name not in g["reached_modules"] and any(id(n) in w.nodes for n in calls.output_nodes):
                    g["reached_modules"].add(name)
        if len(g["sites"]) < 4:
            site = tap.caller_site()
            if site is not None and site not in g["sites"]:
                g["sites"].append(site)

    def _loss_graph(self, roots: list[torch.Tensor]) -> None:
        """Broadcasting between the model's output and a target inside a hand-written loss."""
        rec = self._recorder
        if rec is None:
            return
        stop = set()
        for r in self.table.roots:
            c = rec.calls.get(self.table.module_names.get(id(r), ""))
            if c is not None:
                stop |= {id(n) for n in c.output_nodes}
        batch = None
        for args, kwargs in self._last_inputs.values():
            first = next(iter_tensors((args, kwargs)), None)
            if first is not None and first.ndim:
                batch = int(first.shape[0])
        found = broadcasts_in_loss([t.grad_fn for t in roots], stop, batch)
        if found:
            site = tap.caller_site()
            for f in found:
                f["site"] = _site_text(site)
            self.store.facts.setdefault("loss_broadcasts", []).extend(found[:4])

    def _collect_activations(self) -> None:
        sample = self._act.collect()
        sample["step"] = self._act_step
        samples = self.store.facts.setdefault("act_samples", [])
        samples.append(sample)
        if len(samples) > 12:  # keep the first (initialization) and the latest ones
            del samples[1]
        self._act_cost = self._act.cost  # the probe's own time, not the training steps in between
        self._act_last_time = time.perf_counter()

    def _close_window(self) -> None:
        if not self._window_open:
            return
        self._window_open = False
        rec = self._recorder
        g = self._graph
        calls = {}
        if rec is not None:
            for name, c in rec.calls.items():
                calls[name] = {"order": c.order, "grad_calls": c.grad_calls, "nograd_calls": c.nograd_calls,
                               "input_detached_calls": c.input_detached_calls,
                               "reached": name in g["reached_modules"]}
            self.store.facts["module_order"] = {n: c["order"] for n, c in calls.items()}
            rec.remove()
            self._recorder = None
        stray = self._stray_parameters(g.pop("stray", {}))
        phase = self.store.facts["graph"] = {
            "start_step": self._window_base[1], "end_step": self.step, "stray": stray,
            "walks": g["walks"], "reached": sorted(g["reached"]), "module_calls": calls,
            "plain_leaves": g["plain_leaves"], "sites": list(g["sites"]), "no_history": g["no_history"],
            "optimized": sorted({i for r in self._phase_optimizers() for i in r.positions}),
            "requires_grad": [i for i, p in enumerate(self.table.params) if p.requires_grad],
            "explicit": not self.discover_models,
            "forward_sources": _forward_sources(self.table),
            "roots": [self.table.module_names.get(id(r), "") for r in self.table.roots],
            "root_training": [bool(r.training) for r in self.table.roots],
            "mode_sensitive": _mode_sensitive(self.table.roots, self.table.module_names),
        }
        self.store.facts.setdefault("graphs", []).append(phase)
        if not self._closed:  # judge what the window established right away
            self._flush()
            self._evaluate(force=True)

    def _stray_parameters(self, seen: dict) -> list[int]:
        """The nn.Parameters of no watched module that the window's losses reached, that require grad, that no
        optimizer holds and that nothing changed in place since (not trained by hand): they join the table as
        loose parameters (named by the script's variables), and their positions go to parameter-not-optimized."""
        if not seen or not self.discover_models:
            # (``watch(model)`` is told what to watch: a parameter outside it may be another model's, e.g. a GAN's
            # discriminator or a teacher trained by an optimizer the doctor was not given. ``nndoctor run`` finds
            # every model with trainable parameters, so one of no model is truly loose)
            return []
        from .probes.model import discover
        opts = [r.ref() for r in self._opts.values() if r.ref() is not None] + discover()[1]
        in_opt = {id(p) for o in opts for grp in o.param_groups for p in grp["params"]}
        keep = [p for p, v in seen.values() if p.requires_grad and id(p) not in in_opt and p._version == v
                and id(p) not in self.table.index]
        if not keep:
            return []
        names = _variable_names(keep)
        return [self.table.add_loose(p, names.get(id(p)) or f"parameter{k}") for k, p in enumerate(keep)]

    def _phase_optimizers(self) -> list[_Opt]:
        """Optimizers that stepped during the current analysis window (an optimizer of an earlier
        training phase, e.g. a teacher's, no longer counts); all of them if none stepped."""
        steps0 = self._window_base[2]
        active = [r for r in self._opts.values() if r.n_steps > steps0.get(r.key, 0)]
        return active or list(self._opts.values())

    # ------------------------------------------------------------------ non-finite forensics
    def _investigate_nonfinite(self, rec: _Opt, vec: torch.Tensor, local: list[int], step: int) -> None:
        info = self.table.info
        gn = vec.detach().cpu().tolist()
        bad_grads = [rec.positions[local[k]] for k, v in enumerate(gn) if not math.isfinite(v)]
        pvec = norms([p.detach() for p in rec.params]).cpu().tolist()
        bad_params = [rec.positions[j] for j, v in enumerate(pvec) if not math.isfinite(v)]
        last_loss = float(self._pending_loss[-1][1].float().sum()) if self._pending_loss else None
        order = self._module_order()
        facts: dict[str, Any] = {"step": step, "optimizer": rec.name, "loss": last_loss,
                                 "nonfinite_grads": [info[i].name for i in bad_grads][:20],
                                 "n_nonfinite_grads": len(bad_grads),
                                 "nonfinite_params": [info[i].name for i in bad_params][:20]}
        if bad_params:
            facts.update(stage="update", where=[info[i].name for i in bad_params][:8],
                         detail="parameters hold NaN/Inf before this step: the previous optimizer "
                                "update produced them from finite gradients")
        else:
            origin = None
            self._in_replay = True
            try:
                for ridx, (args, kwargs) in list(self._last_inputs.items()):
                    origin = locate_nonfinite_forward(self.table.roots[ridx], args, kwargs,
                                                      self.table.module_names)
                    if origin.stage != "none":
                        break
            except Exception as e:
                facts["replay_error"] = f"{type(e).__name__}: {e}"[:200]
            finally:
                self._in_replay = False
            if origin is not None and origin.stage in ("input", "forward", "parameter"):
                facts.update(stage=origin.stage, where=[origin.module] if origin.module else [],
                             module_type=origin.module_type, detail=origin.detail)
                if origin.enters:
                    facts["enters_module"] = origin.enters
            elif last_loss is not None and not math.isfinite(last_loss):
                facts.update(stage="loss", where=[], detail="the model's outputs are finite but the loss "
                                                            "computed from them is not")
                if origin is not None and origin.out_max is not None and math.isfinite(origin.out_max):
                    facts["output_max_abs"] = float(f"{origin.out_max:.4g}")
            else:
                # backward: the NaN enters at the parameter closest to the loss whose grad is bad
                ranked = sorted(bad_grads, key=lambda i: order.get(info[i].module, -1), reverse=True)
                facts.update(stage="backward", where=[info[i].name for i in ranked[:3]],
                             detail="forward pass and loss are finite; the gradient becomes non-finite "
                                    "in the backward pass")
        self.store.facts["nonfinite"] = facts
        self._flush()
        self._evaluate(force=True)

    # ------------------------------------------------------------------ flush & evaluate
    def _check_trainable_set(self) -> None:
        """Every ``every`` steps: have the watched models gained parameters (a head put into a ModuleDict), or have
        parameters been unfrozen or frozen, since the last look? Then the table is brought up to date and a
        new analysis window opens, as for a new training phase: which parameters the loss now reaches and
        which the optimizers update is measured again (a backbone unfrozen with ``requires_grad_(True)``
        but never given to the optimizer is parameter-not-optimized). Cheap: counts, no tensor read."""
        if not self.table.roots or self._closed:
            return
        sig = self.table.trainable_signature()
        if sig == self._trainable_sig:
            return
        prev, self._trainable_sig = self._trainable_sig, sig
        counts = tuple((n, g) for n, g, _ in sig)
        if prev is None or len(prev) != len(sig):   # the first look, or models added (discovery opens a window)
            self._trainable_most = counts
            return
        # a window only for a set larger than any seen before: a GAN that freezes its discriminator while the
        # generator steps (and thaws it after) toggles the counts at every step, and is analysed once
        grew = any(n > pn or g > pg for (n, g), (pn, pg) in zip(counts, self._trainable_most))
        self._trainable_most = tuple((max(n, pn), max(g, pg)) for (n, g), (pn, pg) in zip(counts, self._trainable_most))
        # parameters replaced by new ones at the same count (a head swapped in after the optimizer was built): they
        # join the table and a window opens, a few times per run at most (code that made new Parameter objects at
        # every step would otherwise grow the table without bound)
        replaced = self._replacements < 4 and any(i != pi and n == pn for (n, _, i), (pn, _, pi) in zip(sig, prev))
        added = 0
        if replaced or any(n != pn for (n, _, _), (pn, _, _) in zip(sig, prev)):
            added = self.table.rescan()   # parameters added, removed or replaced: the table scans the models again
            self._replacements += bool(replaced and added)
        else:
            self.table.refresh_requires_grad()   # only frozen or unfrozen: a loop over the table
        if replaced and added:
            # the model computes another function from here (a new head for a new task): the losses before are
            # another model's, and the optimizers' loss views start again (as for a model rebuilt, _gradients_elsewhere)
            for rec in self._opts.values():
                self.store.facts.setdefault("loss_restarts", {})[str(rec.key)] = self.n_backward
        if grew or (replaced and added):
            self._open_window()

    def _flush(self) -> None:
        """Move pending device statistics to the host (one transfer per kind) into the store."""
        st = self.store
        if self._pending_loss:
            if all(v.is_cpu for _, v in self._pending_loss):
                # CPU values are read in place (.item() is a memory read there, no sync), then rounded to
                # float32 as the device path's .to(float32) does: the same numbers, without a tensor op each.
                # A finite float64 loss beyond float32's range (1e60 in a diverging float64 run) is kept
                # finite, at float32's largest value: rounded to inf it would report a NaN/Inf the run lacks
                raw = np.array([v.item() for _, v in self._pending_loss], dtype=np.float64)
                big = np.isfinite(raw) & (np.abs(raw) > _F32_MAX)
                if big.any():
                    raw[big] = np.sign(raw[big]) * _F32_MAX
                vals = raw.astype(np.float32).astype(np.float64)
            else:
                dev = self._pending_loss[0][1].device
                vals = torch.stack([_to_f32(v.to(dev)).reshape(()) for _, v in self._pending_loss]) \
                    .cpu().numpy().astype(np.float64)
            bws = np.array([bw for bw, _ in self._pending_loss], dtype=np.int64)
            st["loss"].extend(bws, vals)
            tags = dict(self._loss_tags)
            for key in set(tags.values()):
                sel = np.array([tags.get(int(b)) == key for b in bws])
                st[f"loss/{key}"].extend(bws[sel], vals[sel])
            self._pending_loss.clear()
            self._untagged_loss.clear()
            self._loss_tags.clear()
        if self._pending_grad:
            parts = [x for _, _, v, _ in self._pending_grad if isinstance(v, list) for x in v]
            vecs = [v for _, _, v, _ in self._pending_grad if isinstance(v, torch.Tensor)]
            if parts and not vecs:  # the CPU fast path: the norms were read as floats at each step
                flat = np.array(parts, dtype=np.float64)
            else:
                chunks = [torch.tensor(v, dtype=torch.float32) if isinstance(v, list) else v.float().cpu()
                          for _, _, v, _ in self._pending_grad if v is not None]
                flat = torch.cat([c.cpu() for c in chunks]).numpy() if chunks else np.zeros(0)
            off = 0
            widths = {r.key: len(r.positions) for r in self._opts.values()}
            rows: dict[int, tuple[list[int], list[np.ndarray]]] = {}
            pend = self._pending_grad
            key0, local0 = pend[0][0], pend[0][3]
            if local0 and all(k == key0 and lo == local0 for k, _, _, lo in pend) \
                    and len(flat) == len(pend) * len(local0):
                # the usual case: one optimizer, the same parameters with gradients at every pending
                # step: one matrix, no per-step rows
                M = np.full((len(pend), widths.get(key0, max(local0) + 1)), -1.0)  # -1: no gradient
                M[:, local0] = flat.reshape(len(pend), len(local0))
                st[f"grad_norm/{key0}"].extend(np.array([s_ for _, s_, _, _ in pend], dtype=np.int64), M)
                pend = []
            for key, step, vec, local in pend:
                row = np.full(widths.get(key, max(local, default=-1) + 1), -1.0)  # -1: no gradient
                row[local] = flat[off: off + len(local)]
                off += len(local)
                steps_, rows_ = rows.setdefault(key, ([], []))
                steps_.append(step)
                rows_.append(row)
            for key, (steps_, rows_) in rows.items():
                if len({len(r) for r in rows_}) == 1:
                    st[f"grad_norm/{key}"].extend(np.array(steps_), np.stack(rows_))
                else:
                    st[f"grad_norm/{key}"].extend(steps_, rows_)
            self._pending_grad.clear()
        if self._pending_update:
            widths = {r.key: len(r.positions) for r in self._opts.values()}
            for key, step, pn, un, local, cos in self._pending_update:
                k = len(pn)
                flat = torch.cat([pn, un] + ([cos.reshape(1).to(pn.device)] if cos is not None else [])).cpu().numpy()
                both = flat[:2 * k].reshape(2, k)   # (one transfer for the three)
                if cos is not None and np.isfinite(flat[-1]):
                    st.append(f"descent_cos/{key}", step, float(flat[-1]))
                prow = np.full(widths.get(key, max(local) + 1), -1.0)  # -1: no gradient
                urow = prow.copy()
                prow[local], urow[local] = both[0], both[1]
                st.append(f"param_norm/{key}", step, prow)
                st.append(f"update_norm/{key}", step, urow)
            self._pending_update.clear()
        if self._pending_bw_param:
            for bw, vec in self._pending_bw_param:
                st.append("param_norm_bw", bw, vec.cpu().numpy())
            self._pending_bw_param.clear()
        if self._pending_val:
            for _, idx, _ in self._pending_val:
                if idx in self._val_site_text:
                    st.facts.setdefault("val_sites", {})[str(idx)] = self._val_site_text[idx]
            vals = torch.stack([v.detach().float().reshape(()).cpu() for _, _, v in self._pending_val]).numpy()
            groups: dict[tuple[int, int], list[float]] = {}
            for (step, idx, _), v in zip(self._pending_val, vals):
                groups.setdefault((idx, step), []).append(float(v))
            for (idx, step), vs in groups.items():
                st.append(f"val_loss/{idx}", step, float(np.mean(vs)))
            self._pending_val.clear()
        if self._pending_mode:
            st["eval_forward"].extend(np.array([b for b, _ in self._pending_mode], dtype=np.int64),
                                      np.array([float(e) for _, e in self._pending_mode]))
            self._pending_mode.clear()
        if self._batch_sizes:
            st.facts["batch_sizes"] = dict(self._batch_sizes)
        if self._pending_scale:
            # the loss series against its loss call's mean, at the described calls: root * terms / call value
            vals = torch.stack([torch.stack([r.detach().float().reshape(()).cpu(), c.detach().float().reshape(()).cpu()])
                                for r, c, _ in self._pending_scale]).tolist()
            scale = st.facts.setdefault("loss_scale", [])
            for (root, call), (_, _, per) in zip(vals, self._pending_scale):
                if math.isfinite(root) and math.isfinite(call) and call != 0:
                    scale.append(root * per / call)
            del scale[:-32]
            self._pending_scale.clear()
        if self._pending_noise:
            vals = torch.stack([torch.stack([a.float().cpu(), b.float().cpu()])
                                for _, _, _, a, b in self._pending_noise]).numpy()
            noise = st.facts.setdefault("noise_scale", [])
            for (key, step, k, _, _), (small, big) in zip(self._pending_noise, vals):
                noise.append({"key": key, "step": step, "k": k, "g2_small": float(small), "g2_big": float(big)})
            del noise[:-32]
            self._pending_noise.clear()
        for step in self._flags.poll(force=False):
            st.facts.setdefault("nonfinite", {"step": step, "stage": "unknown", "where": [],
                                              "detail": "detected at the flush cadence"})
        st.facts["optimizers"] = [
            {"key": r.key, "name": r.name, "steps": r.n_steps, "positions": list(r.positions),
             "lrs": _lrs(r.ref()) or r.lrs, "intervals": list(r.intervals[-64:]),
             "has_probe": r.probe is not None}
            for r in self._opts.values()]
        st.facts["bw_intervals"] = list(self._bw_intervals[-64:])
        st.facts["bw_resets"] = self._bw_reset_count
        st.facts["manual_update_intervals"] = list(self._manual_intervals)
        st.facts["counts"] = {"step": self.step, "backward": self.n_backward}

    def _evaluate(self, closing: bool = False, force: bool = False) -> None:
        # geometric schedule: rules cost O(history), so run them at steps spaced ~10% apart
        # Callers ask at steps 3 and 5 and at every flush. Scheduled evaluations are also held to a
        # time budget: rules may take at most ~2% of the wall time since the last evaluation, so a
        # model with very fast steps is judged less often in steps but never slowed by judging.
        if not (closing or force):
            if self.repair is not None and self.repair.current is not None:
                # a remedy is under test: the controller acts on nothing until its verdict, which flushes
                # and evaluates by itself at the window's end (a scheduled look in between would be
                # redone there); the schedule resumes after it
                return
            now = time.perf_counter()
            if self.fixed_cadence:
                # by steps only: at every flush while the run is young (up to 10x the flush cadence), then
                # spaced 10% of the steps apart: the rules' cost grows with the history, and a problem that
                # appears at step t is looked for within ~0.1 t steps (the geometric schedule plain watching
                # aims at with its time budget). A run that updates its weights by hand (no optimizer step)
                # counts its backward passes instead
                it, last = (self.step, self._last_eval_step) if self.step > 0 else (self.n_backward, self._last_eval_bw)
                if last >= 0 and it > 5 and it - last < max(1, it // 10):
                    return
            elif self._last_eval_step >= 0 and self.step > 5 and \
                    now - self._last_eval_time < 50 * self._last_eval_cost:
                return
            self._last_eval_step = self.step  # forced evaluations do not move the schedule
            self._last_eval_bw = self.n_backward
            self._last_eval_time = now
        t0 = time.perf_counter()
        from .diagnoses import Context, note_severities, run_rules
        from .diagnoses.registry import SNIPPET_NAMES

        ctx = Context(store=self.store, params=list(self.table.info), step=self.step,
                      n_backward=self.n_backward, closing=closing, window_done=not self._window_open,
                      module_types=dict(self.table.module_types),
                      found=note_severities({}, self._findings.values()),
                      undone=list(self.repair.undone) if self.repair is not None else [])
        token = SNIPPET_NAMES.set(self._snippet_names())
        try:
            # numpy's notes on nndoctor's own statistics (an empty or all-NaN slice, an overflow in a
            # diverged run's numbers) are not the user's business: none reaches their process (under
            # ``-W error`` one would even turn a rule into an internal error)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                results = list(run_rules(ctx))
        finally:
            SNIPPET_NAMES.reset(token)
        for code, found, err in results:
            if err is not None:
                self._internal_error(f"rule {code}", err)
                continue
            if found is None:  # the rule cannot judge yet (e.g. an analysis window is open)
                continue
            produced = set()
            for f in found:
                key = (f.code, f.key if f.key is not None else tuple(f.where))
                produced.add(key)
                old = self._findings.get(key)
                if old is None:
                    self._findings[key] = f
                    if self.on_finding is not None:
                        try:
                            self.on_finding(f)
                        except Exception as e:
                            self._internal_error("on_finding callback", e)
                else:  # keep the step it was first established; the latest evidence wins
                    f.step = old.step if old.step is not None else f.step
                    self._findings[key] = f
            # a problem the rule no longer sees (e.g. an lr held at 0 for a few steps, then raised)
            # stays in the report as info, marked resolved
            for key, f in self._findings.items():
                if key[0] == code and key not in produced and f.severity != "info" \
                        and not f.evidence.get("resolved"):
                    f.evidence = {**f.evidence, "resolved": True, "resolved_by_step": self.step,
                                  "severity_while_active": f.severity}
                    f.severity = "info"
                    f.summary = f"(resolved by step {self.step}) {f.summary}"
                    if f.message:  # the same words as a message, so the report translates them
                        f.message, f.params = "resolved", {"step": self.step,
                                                           "summary": {"message": f.message, "params": f.params}}
        if not (closing or force):
            self._last_eval_cost = time.perf_counter() - t0
        if self.repair is not None:
            self.repair.after_evaluate()

    def _snippet_names(self) -> dict[str, str]:
        names = {}
        if self.var_names.get("model"):
            names["model"] = self.var_names["model"]
        if self.var_names.get("optimizer"):
            names["optimizer"] = self.var_names["optimizer"]
        roots = tuple(p for p in self.table.prefixes if p)
        if roots:   # several models found by `nndoctor run`, their module names prefixed by their variables'
            names["roots"] = roots
        return names

    def _internal_error(self, where: str, exc: BaseException) -> None:
        self._n_internal += 1
        if len(self.internal_errors) < 20:
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            self.internal_errors.append(f"{where}: {type(exc).__name__}: {exc} | {tb[-1].strip() if tb else ''}")
        if self._n_internal >= MAX_INTERNAL_ERRORS and not self._disabled:
            self._disabled = True
            self.notes.append(f"nndoctor stopped watching after {self._n_internal} internal errors")
            try:
                tap.detach(self)
                self._remove_hooks()
            except Exception:
                pass


def _real(g: torch.Tensor) -> torch.Tensor:
    """A complex gradient as its real view (same norm; ``.float()`` would drop the imaginary part
    and warn in the user's process)."""
    g = g.detach()
    return torch.view_as_real(g) if g.is_complex() else g


def _fresh_graph() -> dict[str, Any]:
    """What one analysis window accumulates from the losses' autograd graphs."""
    return {"walks": 0, "reached": set(), "reached_modules": set(), "plain_leaves": 0, "sites": [],
            "no_history": 0}


def _variable_name(obj) -> str | None:
    """The name the user's code gives ``obj`` (a global, or an attribute of a trainer object)."""
    return _variable_names([obj]).get(id(obj))


def _variable_names(objs: list) -> dict[int, str]:
    """The names of several objects from one scan of the heap (``gc.get_referrers`` walks every
    object each call: ~40 ms with torch imported): ``{id(obj): name}`` for those that have one."""
    import gc

    want = {id(o): o for o in objs}
    best: dict[int, str] = {}
    globals_: dict[int, str] = {}
    for ref in gc.get_referrers(*objs):
        if isinstance(ref, dict):
            for k, v in ref.items():
                i = id(v)
                if i in want and want[i] is v and isinstance(k, str) and k.isidentifier():
                    if "__name__" in ref:  # module globals: the most telling name
                        globals_.setdefault(i, k)
                    best.setdefault(i, k)
    return {**best, **globals_}


_MODE_SENSITIVE = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm, nn.RReLU,
                   nn.modules.instancenorm._InstanceNorm)


def _mode_sensitive(roots: list[nn.Module], names: dict[int, str]) -> list[str]:
    """Modules whose forward differs between train() and eval() (dropout, batch statistics)."""
    out = []
    for r in roots:
        for m in r.modules():
            if isinstance(m, _MODE_SENSITIVE):
                if isinstance(m, nn.modules.instancenorm._InstanceNorm) and not m.track_running_stats:
                    continue
                if isinstance(m, nn.modules.dropout._DropoutNd) and m.p == 0:
                    continue
                out.append(names.get(id(m), type(m).__name__))
    return out[:50]


def _site_text(site) -> str:
    if not site:
        return "?"
    import os
    return f"{os.path.basename(site[0])}:{site[1]}: {site[2]}"


def _positive_int(v, name: str, meaning: str) -> int:
    """``v`` as an int >= 1 (numpy integers too), or a clear error naming the argument."""
    import operator

    try:
        n = operator.index(v) if not isinstance(v, bool) else None
    except TypeError:
        n = None
    if n is None:
        raise TypeError(f"nndoctor.watch: {name} must be a whole number ({meaning}), got {v!r}")
    if n < 1:
        raise ValueError(f"nndoctor.watch: {name} must be >= 1 ({meaning}), got {n}")
    return n


def _named_list(x) -> tuple[list, list[str] | None]:
    """One object, a list/tuple of them, or a dict of them (its keys name them in the report)."""
    if isinstance(x, dict):
        return list(x.values()), [str(k) for k in x]
    return _as_list(x), None


def _not_a_module(m) -> str:
    """What was passed where a model goes, and what to pass instead."""
    what = type(m).__name__
    if isinstance(m, type) and issubclass(m, nn.Module):
        hint = f"the class {m.__name__} itself, not a model: build it first, e.g. watch({m.__name__}(...), optimizer)"
    elif isinstance(m, torch.optim.Optimizer) or isinstance(unwrap_optimizer(m), torch.optim.Optimizer):
        hint = f"an optimizer ({what}) where the model goes: the order is watch(model, optimizer)"
    elif isinstance(m, torch.Tensor):
        hint = ("a tensor: watch() takes the model (an nn.Module); to watch plain tensors trained by an "
                "optimizer, run the script with `nndoctor run`, which watches those too")
    elif hasattr(m, "__next__") or what in ("generator", "dict_values", "map", "filter"):
        hint = (f"a {what} (model.parameters()?): pass the model itself, watch(model, optimizer), so nndoctor "
                "knows the layers and their names")
    elif m is None:
        hint = "None in the list of models"
    else:
        hint = what
    return f"nndoctor.watch: expected a torch.nn.Module (the model), got {hint}"


def _not_an_optimizer(o) -> str:
    what = type(o).__name__
    if isinstance(o, nn.Module):
        hint = f"a module ({what}) where the optimizer goes: the order is watch(model, optimizer)"
    elif isinstance(o, str):
        hint = (f"the string {o!r}: pass the optimizer object you step (torch.optim.Adam(model.parameters())), "
                "or leave it out and nndoctor finds the optimizers that step the model")
    elif isinstance(o, type) and issubclass(o, torch.optim.Optimizer):
        hint = f"the class {o.__name__} itself: pass the optimizer you built from it"
    elif isinstance(o, dict):
        hint = "a dict (a param group?): pass the optimizer itself"
    elif o is None:
        hint = "None in the list of optimizers"
    else:
        hint = what
    return f"nndoctor.watch: expected a torch.optim.Optimizer, got {hint}"


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


_F32_MAX = float(np.finfo(np.float32).max)


def _to_f32(v: torch.Tensor) -> torch.Tensor:
    """``v.to(float32)``, with a finite float64 value beyond float32's range kept finite (saturated)."""
    if v.dtype == torch.float64:
        v = torch.where(torch.isfinite(v), v.clamp(-_F32_MAX, _F32_MAX), v)
    return v.to(torch.float32)


def _signature(opt) -> tuple:
    return tuple([len(g["params"]) for g in opt.param_groups])


def _lrs(opt) -> list[float]:
    if opt is None:
        return []
    out = []
    for g in opt.param_groups:
        lr = g.get("lr", float("nan"))
        try:
            out.append(float(lr))
        except (TypeError, ValueError):
            out.append(float("nan"))
    return out


def _forward_sources(table: ModelTable) -> dict[str, tuple[str, int, list[str]]]:
    """file, first line and source lines of each watched module class's forward (for pointing
    at the line that cuts the graph)."""
    import inspect

    out: dict[str, tuple[str, int, list[str]]] = {}
    seen: set[type] = set()
    for root in table.roots:
        for name, m in root.named_modules():
            cls = type(m)
            if cls in seen or cls.__module__.startswith("torch."):
                continue
            seen.add(cls)
            try:
                fn = cls.forward
                lines, start = inspect.getsourcelines(fn)
                out[cls.__name__] = (inspect.getsourcefile(fn) or "", start, [l.rstrip("\n") for l in lines])
            except (OSError, TypeError):
                continue
    return out

