"""The repair controller: snapshots, attempts, verdicts.

Hooked into the doctor's optimizer step hooks (``on_step_pre``/``on_step_post``) and told after
every evaluation of the rules (``after_evaluate``). Nothing happens while no finding is active: a
healthy run with repair mode on trains exactly as without it (snapshots only copy tensors).

* **Snapshots.** The state before the first step, then every ``every`` steps at most (held to ~2%
  of the wall time) while no repair is under test and the loss is finite: the parameters of the
  watched models (registered or not), their buffers and every optimizer's state, copied to CPU
  memory (to a temporary file above ``DISK_THRESHOLD`` bytes). Two are kept: the *best* (the lowest
  loss level, the median loss since the previous snapshot) and the one taken just before the
  attempt in progress. Rollback copies into the same tensors (``copy_``/``load_state_dict``), so the
  user's references stay valid.
* **Attempts.** For an active error/warning finding whose code has a live plan (``plan``), the
  next untried remedy is applied between two steps (causes before symptoms: ``PRIORITY``). When
  the run is worse than its best snapshot (diverged, NaN, blown-up weights: ``_blown_up``; or, while
  the best is the state before the first step, blown up by its first updates: ``early_blowup``) the
  remedy (a finding's first, or a later one after a "no effect" that was not rolled back) starts from
  the best state, rolled back to.
* **Verdicts.** After ``window`` steps the rules are run and the losses since the attempt are
  compared with a reference window (the losses before the attempt; the snapshot's when rolled
  back; the run's first losses when the remedy restarts part of the model). Non-finite loss, or a
  median of the window's second half above the reference window's 90th percentile plus the loss
  noise (its robust spread; the first ten losses' for a one-loss reference), is *worse*:
  the state is rolled back, the remedy taken back, the next one tried. A finding the rule no longer
  reports is *cleared* (for a raise of the LR only with a median below the reference median: a raise
  that ends the slow descent without lowering the loss has stalled it, not sped it up); a median below
  the reference median is *improved*; both keep the remedy.
  Otherwise *no effect*: the remedy is taken back and the next tried. At most
  ``MAX_PER_FINDING`` attempts per finding and ``MAX_ATTEMPTS`` per run.
* **A stopgap replaced.** A recurrent net whose gradient exploded from its first steps (or turned NaN
  there) has no healthy level to clip to, so its LR is cut by a default factor first. Once that cut is
  kept (cleared or improved), the level the run shows under it is the one to clip at: a clip at it, with
  the script's LR, replaces the cut (clipping is the recurrent net's cure, the LR not the cause). It
  stays only if the loss falls below the cut's window; otherwise it is taken back and the cut restored.
"""
from __future__ import annotations

import copy
import math
import os
import re
import tempfile
import time
import weakref
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import remedies as _remedies
from ..findings import Finding
from ..diagnoses.stats import median as _median, quantile as _quantile
from ..probes.model import unwrap_optimizer
from ..probes.tensors import norms
from . import actions as A

MAX_PER_FINDING = 3
MAX_ATTEMPTS = 8
DISK_THRESHOLD = 1 << 30     # snapshots larger than this (bytes) go to a temporary file
WORSE_QUANTILE = 0.9
# a remedy that restarts part of the model (re-initialization, an activation swap) is not applied to a run
# whose loss has already fallen this far below its start: the failures those remedies cure (dead, saturated
# or vanishing units, a bad init) keep the loss near its start -- chance level -- so a run a decade below it
# is learning, and a restart would throw that progress away (the finding's code fix is still reported). The same
# decade is saturated-activation's bar for a run that learns through its saturated units (one constant, the rules')
from ..diagnoses.activations import LEARNING_FALL  # noqa: E402

# a kept remedy whose change to the model's function is made by hooks (inserted norms, a functional activation swap):
# the hooks come off at close, so the model as the script holds it afterwards is the unrepaired function
UNTIL_CLOSE = ("Its hooks came off when the doctor closed: from then on the model computes without it (on weights "
               "trained with it) until the code change below is made")


# a measured LR change that helped while the finding stayed may be applied again, measured anew (the
# rule's suggestion is relative to the LR in effect, so the factors stack correctly)
REPEATABLE = {"lower-lr", "raise-lr"}

# a kept repair whose finding comes back meets a new occurrence, not the same one: parameter-not-optimized names
# only parameters that are in no optimizer, and the repair put the ones it named into one, so those named again
# are others (a model the script built anew, as a k-fold loop does at every fold, with the optimizer of the
# first kept): the same remedy applies to them, without counting toward the attempts per finding
RECURRING = {"optimizer-all-params"}

# why a code has no live repair (the report says so instead of faking one)
REPORT_ONLY = {
    "optimizer-step-missing": "the script must call optimizer.step() (or update in place, or set a non-zero "
                              "lr it alone knows): a code change",
    "broken-gradient-flow": "the graph is cut inside forward() (detach/numpy/no_grad): only the code can keep "
                            "it connected",
    "loss-mismatch": "the fix is in the loss call or the model's output layer: a code change",
    "target-shape-mismatch": "the fix is a reshape at the loss call: a code change",
    "out-of-memory": "the batch size is the data loader's: a code change (the run has already failed)",
    "batch-size-too-small": "the batch size is the data loader's: a code change",
    "overfitting": "needs more data, regularization or early stopping in the script: a code change",
    "loss-not-decreasing": "a generic symptom with no single cause to fix live: check data and labels",
}


# ln of float32's largest value: exp(z) overflows to inf for z above it. Outputs below it cannot overflow a loss's
# exp, so a loss made non-finite from them comes from its own singularities (log(0) once a sigmoid or softmax
# saturates, which float32 does at |z| ~ 17), not from outputs an oversized update blew up.
EXP_OVERFLOW = math.log(torch.finfo(torch.float32).max)   # 88.72


# the standard inits lie within 2x of Glorot's std sqrt(2 / (fan_in + fan_out)): torch's default for a square layer
# 1/sqrt(3 n) is 0.58x, He's sqrt(2 / fan_in) 1.41x. Weights further off are a non-standard init, and for a
# vanishing gradient re-initializing them comes before inserting normalization (2x per layer compounds to 2^depth).
INIT_BAND = 2.0


# causes before symptoms: a too-high LR kills ReLUs and explodes gradients, raw inputs saturate
# activations; when several findings are active the cause is repaired first
PRIORITY = ("non-finite", "learning-rate-too-high", "gradient-not-zeroed", "unnormalized-input",
            "poor-initialization", "parameter-not-optimized", "train-mode-off", "exploding-gradient",
            "learning-rate-too-low", "vanishing-gradient", "saturated-activation", "dead-relu")


def _lr_cut_to_healthy(what: str, net: float, n: int, m: float, over: str = "") -> tuple[float, str]:
    """The LR factor for updates judged oversized (their network ratio ``net`` >= HIGH_RATIO over ``n``
    sampled steps): the one that brings the median layer's update/weight ratio ``m`` to CUT_TARGET and the network
    under HIGH_RATIO (``hyperparams.cut_factor``),
    between 1/100 and 1/2; and why, in words."""
    from ..diagnoses.hyperparams import CUT_TARGET, HIGH_RATIO, cut_factor
    fac = cut_factor(m, net, 1 / 100, 1 / 2)
    return fac, (f"{what} moved the network by {net:.3g} of its weights per step (the layers' update/weight "
                 f"ratios in quadrature, median over {n} steps{over}), >= {HIGH_RATIO:g}: the LR brought to the "
                 f"healthy ratio {CUT_TARGET:g} per layer (now {m:.3g}), the network under {HIGH_RATIO:g}")


def _dead_layer_zeroes(init: Finding, dead: Finding) -> bool:
    """Is poor-initialization's collapse a dead ReLU layer's? The signal entering a layer is exactly zero (no weight
    scale takes an RMS of 0.08 to 0 in one layer: the rule's 'decades' then read ~30) while a ReLU layer is dead on
    every unit for every example, whose output is that zero: a bias that silences it (``bias = -1`` "for sparse
    activations"), not the weights' scale. Dead-relu's repair (the layers feeding the dead units re-initialized, bias
    0) then goes first: re-initializing every layer for the collapse would also re-scale layers that were fine (a
    linear code layer, the output layer) and left the autoencoder 65% off its twin."""
    rms = init.evidence.get("input_rms")
    shares = dead.evidence.get("dead_fraction")
    return isinstance(rms, dict) and isinstance(shares, dict) and \
        any(isinstance(v, (int, float)) and v == 0 for v in rms.values()) and \
        any(isinstance(v, (int, float)) and v >= 1.0 for v in shares.values())


def plan(f: Finding) -> list[str]:
    """The remedies, in order, that repair mode may apply live for this finding ([] if none)."""
    code, ev = f.code, f.evidence
    if code == "learning-rate-too-high":
        if "dead_since_step" in ev:
            # established from ReLU units the step killed (a dead-relu alarm is active): dead-relu's repair
            # re-initializes them and lowers the LR by the same measured update ratio; the LR cut alone
            # would leave them dead, so this finding waits for that repair instead of competing with it
            return []
        return ["lower-lr", "warmup-scheduler", "clip-grad-norm"]
    if code == "learning-rate-too-low":
        if "lr_decayed_since_step" in ev:
            # a schedule decayed the LR away (a per-epoch scheduler stepped per batch): it would decay a raised
            # LR again at its next step, so the live form holds the LR in effect at the schedule's peak (the
            # permanent fix is where scheduler.step() is called, in the user's code)
            return ["schedule-per-epoch"]
        return ["raise-lr", "adaptive-optimizer"]
    if code == "exploding-gradient":
        return ["clip-grad-norm", "lower-lr"]
    if code == "non-finite":
        if ev.get("stage") == "input":
            return ["check-data-finite", "clip-grad-norm"]
        if ev.get("stage") == "forward" and ev.get("enters_module"):
            # made by a module's own forward code between its layers, from finite inputs and parameters: at
            # the first step (no update yet) the step size cannot have made it, so that code comes first
            if (ev.get("step") or 0) <= 1:
                return ["safe-forward", "lower-lr", "clip-grad-norm"]
            return ["lower-lr", "clip-grad-norm", "safe-forward"]
        if ev.get("stage") == "loss":
            # the loss is non-finite from finite model outputs: a log of 0 in a hand-written loss first when
            # no update has been made yet (the step size cannot have made it), or when the outputs are below
            # EXP_OVERFLOW (no exp of them overflows: the loss's own singularity at a saturated sigmoid/softmax
            # made it -- log(1 - p) once p rounds to 1 at |z| ~ 17 -- not updates that blew the outputs up);
            # else after the step size
            out_max = ev.get("output_max_abs")
            if (ev.get("step") or 0) <= 1 or (isinstance(out_max, (int, float)) and out_max < EXP_OVERFLOW):
                return ["safe-log", "lower-lr", "clip-grad-norm"]
            return ["lower-lr", "clip-grad-norm", "safe-log"]
        if ev.get("stage") == "backward":
            # the loss was finite and the backward pass made the NaN: an op's infinite derivative (sqrt at
            # 0) first; an LR blow-up overflows the forward pass first, not the backward. A custom
            # autograd.Function's hand-written backward before both (see AutogradBackward)
            first = ["autograd-backward"] if ev.get("custom_functions") else []
            return first + ["safe-sqrt", "lower-lr", "clip-grad-norm"]
        return ["lower-lr", "clip-grad-norm"]
    if code == "gradient-not-zeroed":
        return ["zero-grad"]
    if code == "parameter-not-optimized":
        return ["optimizer-all-params"]
    if code == "dead-relu":
        return ["init-for-activation", "leaky-relu", "lower-lr"]
    if code == "saturated-activation":
        return ["init-for-activation"]
    if code == "poor-initialization":
        return ["init-for-activation"]
    if code == "vanishing-gradient":
        # the cures of the guide: a non-saturating activation (a module replaced, or a function called in forward()
        # answered with ReLU where it is applied to a hidden layer's output), Batch Normalization, or an init that
        # keeps the signal's variance through the depth (Glorot & Bengio 2010) -- the last two also where the swap
        # cannot be made (a compiled forward); the init before the normalization when the weights' scale is off
        # the standard inits (RepairController.plan_for)
        return ["relu-family", "add-normalization", "init-for-activation"]
    if code == "unnormalized-input":
        return ["standardize-inputs"]
    if code == "train-mode-off":
        return ["model-train"]
    return []


def make_action(ctl: "RepairController", f: Finding, remedy: str) -> A.Action:
    if remedy == "lower-lr":
        return A.ScaleLr(ctl, f, remedy, 1 / 100, 1 / 2, 1 / 10)
    if remedy == "raise-lr":
        return A.ScaleLr(ctl, f, remedy, 2, 100, 10)
    if remedy == "adaptive-optimizer":
        return A.SwapOptimizer(ctl, f)
    if remedy == "warmup-scheduler":
        return A.Warmup(ctl, f)
    if remedy == "schedule-per-epoch":
        return A.HoldLr(ctl, f)
    if remedy == "clip-grad-norm":
        return A.ClipGrad(ctl, f)
    if remedy == "zero-grad":
        return A.ZeroGradAfterStep(ctl, f)
    if remedy == "optimizer-all-params":
        return A.AddParams(ctl, f)
    if remedy == "init-for-activation":
        # poor initialization and vanishing gradients are properties of the whole stack: every layer
        if f.code in ("poor-initialization", "vanishing-gradient"):
            return A.Reinit(ctl, f, "all")
        # units that died during training under oversized updates die again after a re-initialization at
        # the same LR: the LR is brought down with it (measured, see dead_relu_lr_factor)
        if f.code != "dead-relu":
            return A.Reinit(ctl, f, "feeding")
        cut = ctl.dead_relu_lr_factor(f)
        act = A.Reinit(ctl, f, "feeding", lr_factor=cut)
        whole = ctl.dead_relu_lr_factor(f, count_since=False)
        if whole is not None and (cut is None or whole[0] < cut[0]):
            # the cut made smaller (or none) for an LR change repair made since the deaths: should the
            # re-initialized layers fare worse at that LR, the re-initialization is retried from the state
            # before it with the measured cut taken whole (a fresh layer under a stale output layer can take
            # larger steps than the updates measured before; see the verdict)
            act.fallback_cut = whole
        return act
    if remedy in ("leaky-relu", "relu-family"):
        return A.SwapActivation(ctl, f, remedy)
    if remedy == "add-normalization":
        return A.AddNormalization(ctl, f)
    if remedy == "standardize-inputs":
        return A.StandardizeInput(ctl, f)
    if remedy == "check-data-finite":
        return A.FiniteInputs(ctl, f)
    if remedy == "safe-forward":
        return A.FiniteForward(ctl, f)
    if remedy == "safe-sqrt":
        return A.FiniteBackward(ctl, f)
    if remedy == "autograd-backward":
        return A.AutogradBackward(ctl, f)
    if remedy == "safe-log":
        return A.SafeLog(ctl, f)
    if remedy == "model-train":
        return A.TrainMode(ctl, f)
    raise KeyError(remedy)


# ----------------------------------------------------------------------------- snapshots
class Snapshot:
    def __init__(self, ctl: "RepairController", step: int, ref: np.ndarray, reuse: "Snapshot | None" = None) -> None:
        """``reuse``: a snapshot in memory that is replaced by this one (discarded right after): its copies
        are written over in place, in one fused copy per kind, where this state has the same tensors' shapes
        and dtypes (the usual case: a snapshot at every flush of the same model and optimizer). A tensor
        copy each costs ~2 us of dispatch, a fused one ~0.3 us a tensor: an Adam's state is three tensors
        per parameter."""
        d = ctl.doctor
        self.step = step               # the run's iteration (``RepairController.now``)
        self.opt_step = d.step         # its optimizer step (0 in a run that updates by hand)
        self.bw = d.n_backward
        self.ref = ref
        self.level = float(_median(ref)) if len(ref) else float("inf")
        self.path: str | None = None
        params, buffers, opts = _state_of(d)
        # kept in host memory: from an accelerator that is a copy over the bus, far slower than the device's
        self.from_device = any(not t.is_cpu for t in params + buffers)
        self.params = params
        self.buffers = buffers
        old = reuse.state if reuse is not None and reuse.path is None and not self.from_device else None
        with torch.no_grad():
            opt_states = [(o, o.state_dict()) for o, _ in opts]
            old_leaves = reuse.opt_leaves if old is not None else {}
            self.opt_leaves: dict[int, list[torch.Tensor]] = {}   # each optimizer's copied tensors, in order
            reused = old is not None
            p_copy, ok = _copies([p.detach() for p in params], old["params"] if old is not None else None)
            reused &= ok
            b_copy, ok = _copies([b.detach() for b in buffers], old["buffers"] if old is not None else None)
            reused &= ok
            copied_opts = []
            for o, sd in opt_states:
                leaves: list[torch.Tensor] = []
                prev = old_leaves.get(id(o))
                copied_opts.append((id(o), _sig(o), _cpu(sd, prev, leaves)))
                reused &= prev is not None and len(prev) == len(leaves) and all(x is y for x, y in zip(prev, leaves))
                self.opt_leaves[id(o)] = leaves
            state = {"params": p_copy, "buffers": b_copy, "opts": copied_opts}
        # the size: a snapshot written wholly into the one it replaces has that one's
        self.nbytes = reuse.nbytes if reused and len(old_leaves) == len(self.opt_leaves) else \
            sum(t.numel() * t.element_size() for t in p_copy + b_copy + [t for v in self.opt_leaves.values() for t in v])
        # the total norm of the parameters, for the blown-up-weights test (``_blown_up``): read when asked
        # (most snapshots are replaced by a better one before any test needs theirs), from memory
        self._norm: float | None = None
        if self.nbytes > ctl.disk_threshold:
            self._norm = _total_norm(state["params"])   # (a snapshot on disk: now, while it is in memory)
            fd, self.path = tempfile.mkstemp(prefix="nndoctor-snapshot-", suffix=".pt")
            os.close(fd)
            torch.save(state, self.path)
            self.state = None
            self.opt_leaves = {}
        else:
            self.state = state
        self.opt_refs = {id(o): o for o, _ in opts}
        self.opt_keys = {r.key for _, r in opts}    # the training phase it belongs to
        self.n_params = len(params)

    @property
    def norm(self) -> float:
        if self._norm is None:
            self._norm = _total_norm(self.state["params"]) if self.state is not None else float("nan")
        return self._norm

    def restore(self, ctl: "RepairController") -> list[str]:
        state = self.state if self.state is not None else torch.load(self.path, weights_only=False)
        notes = []
        with torch.no_grad():
            for p, v in zip(self.params, state["params"]):
                if p.shape == v.shape:
                    p.copy_(v)
                if ctl.manual and p.grad is not None:
                    # restored between a backward pass and the script's own update (``p -= lr * p.grad``):
                    # a None gradient would make that line raise; a zero one makes the update a no-op
                    p.grad.zero_()
                else:
                    p.grad = None
            for b, v in zip(self.buffers, state["buffers"]):
                if b.shape == v.shape:
                    b.copy_(v)
        for key, sig, sd in state["opts"]:
            o = self.opt_refs.get(key)
            if o is None:
                continue
            if _sig(o) == sig:
                o.load_state_dict(copy.deepcopy(sd))
            else:  # its param groups or class changed since (a repair added a group, swapped it): drop the state rather than mix
                o.state.clear()
                notes.append(f"{ctl.opt_name(o)}: state reset (its param groups changed since the snapshot)")
        return notes

    def discard(self) -> None:
        if self.path:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.path = None
        self.state = None
        self.opt_leaves = {}


def _state_of(d) -> tuple[list, list, list]:
    """What a snapshot keeps of the doctor's run: parameters, buffers, (optimizer, record) pairs."""
    params = list(d.table.params)
    buffers = [b for r in d.table.roots for b in r.buffers()]
    opts = [(r.ref(), r) for r in d._opts.values() if r.ref() is not None]
    return params, buffers, opts


def _same_layouts(src: list[torch.Tensor], old: list[torch.Tensor]) -> bool:
    """Do ``old`` (a replaced snapshot's CPU copies) have the shapes and dtypes of ``src``, one for one?"""
    return len(src) == len(old) and [t.shape for t in src] == [t.shape for t in old] \
        and [t.dtype for t in src] == [t.dtype for t in old]


def _copy_into(dst: list[torch.Tensor], src: list[torch.Tensor]) -> bool:
    """dst[i] <- src[i] for CPU destinations of the same shapes and dtypes, in one fused op (False when it
    cannot be done so: sparse tensors, a torch without the op)."""
    if not dst:
        return True
    try:
        torch._foreach_copy_(dst, src)
        return True
    except (AttributeError, RuntimeError, TypeError, NotImplementedError):
        return False


def _copies(src: list[torch.Tensor], old: list[torch.Tensor] | None) -> tuple[list[torch.Tensor], bool]:
    """CPU copies of ``src``, and whether they are ``old`` (a replaced snapshot's copies, written over in one
    fused copy: done when every shape and dtype matches)."""
    if old is not None and _same_layouts(src, old) and _copy_into(old, src):
        return old, True
    return [t.to("cpu", copy=True) for t in src], False


def _sig(o) -> tuple:
    # the class too: an optimizer swapped in place (SGD -> Adam) cannot take the other's state
    return (type(o).__name__,) + tuple(len(g["params"]) for g in o.param_groups)


_ATOMS = (int, float, bool, str, bytes, complex, type(None))


def _cpu(sd: dict, old: list[torch.Tensor] | None = None, leaves: list | None = None) -> dict:
    """A deep copy of an optimizer's state dict with its tensors copied once, to CPU memory. The dicts,
    lists and tuples a state dict is made of are rebuilt directly and its numbers and strings shared
    (``copy.deepcopy`` pays a memo lookup and a dispatch per object: ~150 us for an Adam over ten
    tensors, at every snapshot); anything else in it (a user's object in a param group) goes through
    ``copy.deepcopy``, with the same memo (a tensor met before is not copied again).

    ``leaves``: the copies, in the order met, are appended to it. ``old``: such a list from an earlier copy
    of this optimizer's state dict that is being replaced: when this one has tensors of the same shapes and
    dtypes in the same order (a snapshot at every flush of the same optimizer), they are written over in one
    fused copy instead of a copy each (~2 us of dispatch a tensor; an Adam keeps three per parameter)."""
    memo: dict[int, Any] = {}
    src: list[torch.Tensor] = []
    out_leaves: list[torch.Tensor] = []
    reuse = old is not None

    def cp(v):
        t = type(v)
        if t in _ATOMS:
            return v
        if t is dict:
            return {k: cp(x) for k, x in v.items()}
        if t is list:
            return [cp(x) for x in v]
        if t is tuple:
            return tuple(cp(x) for x in v)
        if isinstance(v, torch.Tensor):
            got = memo.get(id(v))
            if got is None:
                x = v.detach()
                i = len(src)
                src.append(x)
                # (optimistic: old's tensor at this place; checked, in one pass, at the end)
                got = old[i] if reuse and i < len(old) else x.to("cpu", copy=True)
                memo[id(v)] = got
                out_leaves.append(got)
            return got
        return copy.deepcopy(v, memo)

    out = cp(sd)
    if reuse and not (_same_layouts(src, old) and _copy_into(old, src)):
        return _cpu(sd, None, leaves)   # the layout changed: fresh copies
    if leaves is not None:
        leaves.extend(out_leaves)
    return out


# ----------------------------------------------------------------------------- the controller
class RepairController:
    def __init__(self, doctor, *, window: int | None = None, max_attempts: int = MAX_ATTEMPTS,
                 max_per_finding: int = MAX_PER_FINDING, disk_threshold: int = DISK_THRESHOLD) -> None:
        self.doctor = doctor
        self.window = window if window is not None else min(60, max(10, 2 * doctor.every))
        self.max_attempts = max_attempts
        self.max_per_finding = max_per_finding
        self.disk_threshold = disk_threshold
        self.attempts: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.kept: dict[tuple, dict[str, Any]] = {}       # finding key -> the attempt that repaired it
        self.tried: dict[tuple, list[str]] = {}          # finding key -> remedies tried
        self.done: set[tuple] = set()                    # finding keys settled (repaired or gave up)
        self.best: Snapshot | None = None
        self.pre: Snapshot | None = None
        self._lr: dict[int, A.LrControl] = {}
        self.backward_actions: list[A.Action] = []   # actions told of every backward pass (on_backward_start)
        self.guard: A.Action | None = None           # NaN steps skipped after a non-finite finding was given up
        self.guard_info: dict[str, Any] = {}
        self._dirty = False
        self._snap_time = 0.0
        self._snap_cost = 0.0
        self._snap_bw = 0
        self._watch_bw = 0
        self._closed = False
        self._last_bw = -1
        self._restored: tuple[np.ndarray, int] | None = None   # (reference, backward index) of the last rollback
        self._lr_bw = 0    # the backward index at which repair last changed an LR
        # (first, last) optimizer steps and backward passes undone by rollbacks: the rules judge the
        # model the run has, not the one a rollback threw away (``Context.undone``)
        self.undone: list[tuple[int, int, int, int]] = []
        # finding key -> (remedy, (LR factor, why)): a remedy rolled back for a side effect of the run's LR,
        # to be applied again with the LR lowered (see _swap_killed_units)
        self._retry: dict[tuple, tuple[str, tuple[float, str]]] = {}
        # (finding, the kept LR cut) whose cut had no measurement behind it: replaced by clipping at the next step
        # (``_replace_unmeasured_cut``)
        self._cut_to_replace: tuple[Finding, A.ScaleLr] | None = None

    @property
    def manual(self) -> bool:
        """A run that updates its weights by hand (``p -= lr * p.grad`` under no_grad): an in-place update was seen
        and no optimizer has stepped. Its iterations are its backward passes, and the controller is driven from
        their ends (``on_manual_update``)."""
        d = self.doctor
        return not d._n_step_pre and bool(d._manual_intervals)

    @property
    def now(self) -> int:
        """The run's iteration: its optimizer step, or its backward pass in a run that updates by hand."""
        return self.doctor.n_backward if self.manual else self.doctor.step

    # -- doctor wiring ------------------------------------------------------------------------
    def after_evaluate(self) -> None:
        self._dirty = True

    # (the doctor calls on_backward_start only while backward_actions is not empty, and on_step_pre only
    # while best is None: they run at every step, and otherwise do nothing)
    def on_backward_start(self, tensors) -> None:
        for a in tuple(self.backward_actions):
            a.on_backward_start(tensors)

    def on_step_pre(self, rec) -> None:
        if self.best is None and rec.n_steps == 1 and not self._closed:
            # the state before the first update (the reference for remedies that restart learning)
            self.best = self._snapshot()

    def on_new_optimizer(self, rec) -> None:
        """An optimizer registered after a kept optimizer-all-params repair (a script that builds a new one every
        epoch from a parameter list made once, before the parameters it left out got gradients): the parameters
        that repair added, still trainable and again in no live optimizer, join the new one too -- when it trains
        the same model (it holds a parameter of the same root)."""
        d = self.doctor
        opt = rec.ref()
        if self._closed or opt is None or isinstance(opt, torch.optim.LBFGS):
            return
        live = [r.ref() for r in d._opts.values() if r.ref() is not None]
        roots = {d.table.info[d.table.index[id(p)]].root for g in opt.param_groups for p in g["params"]
                 if id(p) in d.table.index}
        changed = False
        for krec in self.kept.values():
            a = krec.get("_action")
            if not isinstance(a, A.AddParams) or getattr(a, "opt", None) is opt:
                continue
            # (the optimizers the repair put them into are left out: its records may keep them alive after the
            # script has moved on to the new one)
            ours = [a.opt, *getattr(a, "reapplied_to", ())]
            in_opt = {id(p) for o in live if not any(o is x for x in ours) for g in o.param_groups for p in g["params"]}
            missing = [p for p in a.added if p.requires_grad and id(p) not in in_opt and id(p) in d.table.index
                       and d.table.info[d.table.index[id(p)]].root in roots]
            if not missing:
                continue
            opt.param_groups[0]["params"].extend(missing)
            if not hasattr(a, "reapplied_to"):
                a.reapplied_to = weakref.WeakSet()   # (not kept alive by it: a new optimizer every epoch)
            a.reapplied_to.add(opt)
            changed = True
            krec.setdefault("reapplied", []).append(
                {"step": d.step, "optimizer": self.opt_name(opt), "parameters": len(missing)})
        if changed:
            d._refresh_params(rec, opt)

    def on_manual_update(self) -> None:
        """The end of a backward pass in a run whose weights change with no optimizer step (the doctor calls
        it once it has seen such an update, while no optimizer has stepped): the script's own update comes
        next. Such a run gets the remedies that need no optimizer (zeroing the gradients it never resets, a
        guarded log or sqrt, re-initialization, input standardization...); those that act through an
        optimizer say they cannot apply. Its state before the first update is the first snapshot."""
        if self._closed:
            return
        if self.best is None:
            self.best = self._snapshot()
        self.on_step_post(None)

    def on_step_post(self, rec) -> None:
        d = self.doctor
        if self._closed or d.n_backward == self._last_bw:
            return  # one training iteration counts once (several optimizers may step in it)
        # a step(closure) (L-BFGS) runs many backward passes, each an evaluation at a new point: the window counts
        # those (one such step can hold 20 iterations; counted as one, a window of 20 steps outlasts most such runs)
        passes = d.n_backward - self._last_bw if rec is not None and rec.closure and self._last_bw >= 0 else 1
        self._last_bw = d.n_backward
        if self.current is not None:
            cur = self.current
            act = cur["_action"]
            cur["steps"] += max(1, passes)
            # the early checks are made once, at the first step at or past a quarter of the window (a closure's
            # step may jump past it). An action's own "nothing to act on" check waits as well for the steps a
            # rollback before it undid (``Action.replay``): a log of 0 first met at step 446 is not met again
            # within 5 steps of a state restored from step 430. The actions' ``steps == early`` holds once.
            early = self._early_steps()
            at_early = cur["steps"] >= early and not cur.get("_early_seen")
            if at_early:
                cur["_early_seen"] = True
            probe = min(self.window - 1, early + act.replay)
            if cur["steps"] >= probe and not cur.get("_probe_seen"):
                cur["_probe_seen"] = True
                probe = cur["steps"]
            na = act.inapplicable(cur["steps"], probe)
            if na:
                self._not_applicable(na)
                return
            if cur["steps"] >= self.window or (not cur["_action"].tolerates_nonfinite_loss
                                               and self._loss_nonfinite_now()) or \
                    (at_early and self._clearly_worse(cur)):
                self._verdict()
            return
        if self._cut_to_replace is not None:
            f, cut = self._cut_to_replace
            self._cut_to_replace = None
            if len(self.attempts) < self.max_attempts:
                self._attempt(f, replaces=cut)
                return
        if self._dirty:
            self._dirty = False
            f = self._next_finding()
            if f is not None:
                self._attempt(f)
                return
        if self.now % d.every == 0:
            self._maybe_snapshot()

    def _live_actions(self) -> list[A.Action]:
        acts = [a["_action"] for a in self.attempts if a.get("_action") is not None]   # current and kept
        return acts + ([self.guard] if self.guard is not None else [])

    def suspend(self) -> None:
        """While ``torch.jit.script`` compiles: the applied remedies' module hooks off and patched torch
        functions back (TorchScript compiles every module hook and resolves every torch function it calls)."""
        for a in self._live_actions():
            a.suspend()

    def resume(self) -> None:
        if self._closed:
            return
        for a in self._live_actions():
            a.resume()

    def close(self) -> None:
        if self.current is not None:  # the run ended during a verdict window: judge what there is
            try:
                self._verdict(final=True)
            except Exception as e:  # pragma: no cover - defensive
                self.doctor._internal_error("repair verdict at close", e)
        self._closed = True
        for a in self.attempts:
            act = a.pop("_action", None)
            if act is not None:  # a kept remedy: its hooks go, what it changed in the model stays
                note = act.note()
                if act.hooks_carry_the_fix:
                    note = (f"{note}. " if note else "") + UNTIL_CLOSE
                if note:
                    a["note"] = note
                _remove_hooks_only(act)
        if self.guard is not None:
            note = self.guard.note()
            if note:
                self.guard_info["note"] = note
            _remove_hooks_only(self.guard)
        for c in self._lr.values():
            c.remove()
        self._lr.clear()
        for s in (self.best, self.pre):
            if s is not None:
                s.discard()
        self.best = self.pre = None

    # -- choosing -------------------------------------------------------------------------------
    def _key(self, f: Finding) -> tuple:
        return (f.code, f.key if f.key is not None else tuple(f.where))

    def _next_finding(self) -> Finding | None:
        if len(self.attempts) >= self.max_attempts:
            return None
        cands = []
        for key, f in self.doctor._findings.items():
            if f.severity not in ("error", "warning") or f.evidence.get("resolved"):
                continue
            if key in self.done and not (key in self.kept and self.kept[key]["remedy"] in RECURRING
                                         and self.kept[key].get("outcome") == "cleared" and A.AddParams.missing(self, f)[0]) \
                    and not self._back_at_raised_lr(key, f):
                continue
            if not plan(f) or self._outdated_by(f) is not None:
                continue
            prio = self._priority(f.code)
            cands.append((prio, f.rank, f.step if f.step is not None else 1 << 30, key, f))
        if not cands:
            return self._watchdog()
        cands.sort(key=lambda c: c[:3])
        first = cands[0][4]
        if first.code == "poor-initialization":
            dead = next((c[4] for c in cands if c[4].code == "dead-relu" and _dead_layer_zeroes(first, c[4])), None)
            if dead is not None:
                return dead
        return first

    def _back_at_raised_lr(self, key: tuple, f: Finding) -> bool:
        """A too-low LR found again after a raise that cleared it: the rule judges only the losses since the LR
        last jumped (``learning-rate-too-low``), so the finding is a verdict on the raised LR, which crawls too
        (a mean loss run at an LR tuned for a summed one, 64x too small, raised 3x at a time): it is raised
        again, within the attempts per finding."""
        k = self.kept.get(key)   # (cleared: the finding was gone at the verdict; the caller sees it active now)
        return (k is not None and k["remedy"] == "raise-lr" and k.get("outcome") == "cleared"
                and f.code == "learning-rate-too-low")

    def _priority(self, code: str) -> int:
        """PRIORITY, except in a recurrent network, where an exploding gradient is the cause rather than a
        symptom of the LR: backpropagation through time multiplies by the recurrent matrix at every time
        step (Bengio et al. 1994), and clipping is the standard cure (Pascanu et al. 2013), so it comes
        before the LR and before the NaN it leads to."""
        order = list(PRIORITY)
        if self._recurrent():
            order.remove("exploding-gradient")
            order.insert(0, "exploding-gradient")
        return order.index(code) if code in order else len(order)

    def _recurrent(self) -> bool:
        return any(isinstance(m, nn.RNNBase) for r in self.doctor.table.roots for m in r.modules())

    def plan_for(self, f: Finding) -> list[str]:
        """``plan(f)`` in the order this run calls for: clipping needs a healthy gradient level to clip
        to; where the run has none (the gradient grew from the first steps on, with the loss), the LR is
        lowered first and clipping comes after."""
        p = plan(f)
        if "add-normalization" in p and "init-for-activation" in p:
            off = self._init_scale_off()
            if off is not None and not (1 / INIT_BAND <= off <= INIT_BAND):
                # the weights' scale is off the standard inits: a too-small or too-large init is what vanishes
                # the signal, and re-initializing is the direct cure (normalization would only compensate)
                p = [r for r in p if r != "add-normalization"]
                p.insert(p.index("init-for-activation") + 1, "add-normalization")
            return p
        if "clip-grad-norm" not in p or "lower-lr" not in p:
            return p
        opts = self.target_optimizers(f)
        lvl = self.healthy_level(opts[0]) if opts else None
        if f.code == "exploding-gradient" and lvl is None:
            return ["lower-lr"] + [r for r in p if r != "lower-lr"]
        if f.code == "learning-rate-too-high" and lvl is not None and self._recurrent():
            # a recurrent net whose gradient norm is now a decade or more above its healthy level: the
            # recurrence explodes it (see _priority), clipping first
            now = self._grad_level(f, before=False, last=5)
            if now is not None and now >= 10 * lvl[0]:
                return ["clip-grad-norm"] + [r for r in p if r != "clip-grad-norm"]
        return p

    def _init_scale_off(self) -> float | None:
        """The median over the layers of (weight std / Glorot's sqrt(2 / (fan_in + fan_out))) in the latest
        activation sample; None when no layer has it."""
        samples = self.doctor.store.facts.get("act_samples") or []
        ratios = []
        for m in ((samples[-1].get("modules") or {}).values() if samples else ()):
            sd, fi, fo = m.get("weight_std"), m.get("fan_in"), m.get("fan_out")
            if m.get("kind") == "layer" and isinstance(sd, float) and sd > 0 and fi and fo:
                ratios.append(sd / math.sqrt(2.0 / (fi + fo)))
        return _median(ratios) if ratios else None

    def _outdated_by(self, f: Finding) -> dict[str, Any] | None:
        """The kept repair that postdates a finding's evidence, for a finding judged on a past window
        (``evidence_last_step``, e.g. an LR blow-up seen in the first updates): what that window saw was
        made under conditions a repair has changed since (a forgotten zero_grad fixed, the LR already
        lowered), and the rule cannot see it clear. Acting on it again would stack changes blindly; it
        is left to the rules to find the problem anew on the steps that follow."""
        last = f.evidence.get("evidence_last_step")
        if not isinstance(last, (int, float)):
            return None
        # a kept repair at or after those steps, or one that rolled the run back to before their end (what
        # the rule saw there was undone)
        return next((a for a in self.kept.values() if a.get("step", -1) >= last or
                     (a.get("rolled_back_to_step") is not None and a["rolled_back_to_step"] <= last)), None)

    def _watchdog(self) -> Finding | None:
        """After a repair was kept, a loss that turns non-finite again starts a new attempt (the doctor
        reports the first NaN of a run only). Not once a NaN was given up on as the code's (its steps are
        skipped): a recurring NaN is the same problem, not a new one."""
        if not self.kept or self.guard is not None:
            return None
        s = self._losses(after_bw=self._watch_bw)
        self._watch_bw = self.doctor.n_backward
        if len(s) and not np.isfinite(s).all():
            f = Finding(code="non-finite", severity="error", step=self.now, where=[],
                        summary="The loss became non-finite again after a repair.",
                        evidence={"stage": "update"}, key=f"repair-watchdog-{self.now}")
            self.doctor._findings[(f.code, f.key)] = f
            return f
        return None

    # -- attempts -------------------------------------------------------------------------------
    def _attempt(self, f: Finding, replaces: "A.ScaleLr | None" = None) -> None:
        """The next remedy for ``f`` applied, under test from the next step. ``replaces``: clipping in place of a
        kept LR cut that had no measurement behind it (``_replace_unmeasured_cut``)."""
        d = self.doctor
        key = self._key(f)
        tried = self.tried.setdefault(key, [])
        prev = self.kept.get(key)
        retry = self._retry.pop(key, None) if replaces is None else None
        if replaces is not None:
            remedy = A.ClipGrad.remedy
        elif retry is not None:
            remedy = retry[0]   # taken back for what the run's LR did with it: again, with the LR lowered
        elif prev is not None and prev["remedy"] in REPEATABLE | RECURRING:
            remedy = prev["remedy"]   # it helped and the finding is still there (or is back): once more, on the new evidence
        else:
            remedy = next((r for r in self.plan_for(f) if r not in tried), None)
        if remedy is None or (len(tried) >= self.max_per_finding and remedy not in RECURRING and replaces is None):
            self._give_up(key, f)
            return
        tried.append(remedy)
        rec: dict[str, Any] = {"code": f.code, "finding": f.summary[:200], "finding_key": list(map(str, key)),
                               "remedy": remedy, "step": self.now, "attempt": len(tried), "steps": 0}
        if replaces is not None:
            action: A.Action = A.ClipGrad(self, f, replaces=replaces)
            cut = next((a for a in self.attempts if a.get("_action") is replaces), None)
            rec["replaces"] = f"the lower-lr of step {cut['step'] if cut else '?'} (a default factor: nothing to measure then)"
        else:
            action = make_action(self, f, remedy) if retry is None else \
                A.Reinit(self, f, "feeding", lr_factor=retry[1]) if remedy == A.Reinit.remedy else \
                A.SwapActivation(self, f, remedy, lr_factor=retry[1])
        if action.restarts:
            why = self._progress_a_restart_would_lose()
            if why:
                rec.update(outcome="not applicable", why=why)
                self.attempts.append(rec)
                self._dirty = True  # the next remedy (one that keeps what was learned) at the next step
                return
        before_bw = d.n_backward
        rolled = None
        if self.best is not None and self._degraded(f):
            # the run is worse than its best state (diverged, NaN, blown-up weights): a remedy applied to
            # the damaged weights would be judged on the damage, so it starts from the best state. Not only
            # for a finding's first remedy: one taken back as "no effect" (not restored) may leave the run
            # damaged, e.g. a clip that did not stop an explosion whose weights are now 1e9x their size
            notes = self.best.restore(self)
            self._undo_since(self.best)
            rolled = self.best
            self._restored = (self.best.ref, d.n_backward)
            rec["rolled_back_to_step"] = self.best.step
            if notes:
                rec["rollback_notes"] = notes
            # the steps from the restored state to where the finding was seen: an action that looks for what made
            # it (a log of 0, a 0 * inf) may meet it only when the run gets back there
            if isinstance(f.step, int):
                action.replay = max(0, f.step - self.best.step)
        if action.restarts:
            # it resets what part of the model learned (wherever the run was rolled back to): those layers are
            # at their start again, so the run's start is the reference
            ref = self._losses(first=5)
        elif rolled is not None:
            ref = rolled.ref
        elif self._restored is not None:
            # a rollback since: the losses of the undone attempt are not the reference; the restored
            # state's own reference window, then what came after the restore, are
            snap_ref, bw = self._restored
            ref = np.concatenate([snap_ref, self._losses(after_bw=bw)])[-self.window:]
        else:
            ref = self._losses(after_bw=max(0, before_bw - self.window))
        if self.pre is not None and self.pre is not self.best:
            self.pre.discard()
        self.pre = self._snapshot(ref=ref)
        try:
            details = action.apply()
        except A.CannotApply as e:
            action.undo()
            rec.update(outcome="not applicable", why=str(e))
            self.attempts.append(rec)
            self._dirty = True  # try the next remedy at the next step
            return
        except Exception as e:
            action.undo()
            d._internal_error(f"repair {remedy}", e)
            rec.update(outcome="failed", why=f"{type(e).__name__}: {e}"[:200])
            self.attempts.append(rec)
            self._dirty = True
            return
        rec["action"] = details
        if remedy in REPEATABLE:
            self._lr_bw = d.n_backward
        rec["_action"] = action
        rec["_ref"] = ref
        rec["_bw"] = d.n_backward
        rec["_finding"] = f
        rec["_grad_before"] = self._grad_level(f, before=True)
        self.current = rec
        self.attempts.append(rec)

    def _verdict(self, final: bool = False) -> None:
        d = self.doctor
        rec, self.current = self.current, None
        if rec is None:
            return
        action: A.Action = rec["_action"]
        f: Finding = rec.pop("_finding")
        key = self._key(f)
        d._flush()
        if not final:
            d._evaluate(force=True)
        after = self._losses(after_bw=rec.pop("_bw"))
        ref = rec.pop("_ref")
        fin = after[np.isfinite(after)] if len(after) else after
        now = d._findings.get(key)
        cleared = now is None or now.severity == "info" or bool(now.evidence.get("resolved"))
        nonfinite = len(after) > 0 and len(fin) < len(after)
        ev: dict[str, Any] = {"window_steps": rec["steps"],
                              "loss_before": _stats(ref), "loss_after": _stats(after)}
        g_after = self._grad_level(f, before=False, last=rec["steps"])
        if rec.get("_grad_before") is not None or g_after is not None:
            ev["grad_norm_before"], ev["grad_norm_after"] = rec.pop("_grad_before", None), g_after
        rec.pop("_grad_before", None)
        ev["finding_active_after"] = not cleared
        rec["evidence"] = ev
        # judged on the second half of the window (where the remedy has taken effect), against the
        # reference window's usual fluctuation: its 90th percentile plus the loss noise
        tail = fin[len(fin) // 2:] if len(fin) >= 4 else fin
        if action.tolerates_nonfinite_loss and len(after):
            # steps with a non-finite gradient are skipped: a NaN loss is not damage unless it is the rule
            nonfinite = len(fin) < len(after) / 2 or not self._params_finite()
        noise = self._noise(ref)
        worse = nonfinite or (len(tail) > 0 and len(ref) > 0 and
                              float(_median(tail)) > float(_quantile(ref, WORSE_QUANTILE)) + noise)
        improved = len(tail) > 0 and len(ref) > 0 and float(_median(tail)) < float(_median(ref))
        if f.code == "non-finite" and not len(ref) and len(after) >= 4 and len(fin) == len(after):
            # non-finite from the run's first step: no finite reference exists. Every loss under the remedy
            # finite, and falling over its window (second half below the first), is the improvement
            improved = float(_median(tail)) < float(_median(fin[: len(fin) // 2]))
        caught = action.intercepted()
        if f.code == "non-finite" and caught and not nonfinite and len(after) and len(fin) == len(after) \
                and not worse:
            # the remedy met the very thing that makes the NaN (a log of 0, a 0 * inf) and turned it finite, and
            # every loss of its window was finite: the NaN is repaired, whether or not the loss also fell (after
            # a rollback the window repeats steps the reference already had: a loss no lower is no failure)
            cleared = True
            rec["cleared_because"] = (f"it met and guarded {caught} of the values that make the NaN (see its note), "
                                      f"and all {len(after)} losses of its window were finite")
        if cleared and action.remedy == "raise-lr" and len(tail) > 0 and len(ref) > 0 and not improved:
            # a too-low LR is found by its slow, straight descent; a raise that ends that descent without
            # bringing the loss below where it was has not sped learning up, it has stalled it (the finding
            # clears because there is no descent left to judge): not a repair
            cleared = False
            rec["raise_stalled"] = (f"the finding cleared but the loss did not fall: median {_median(tail):.4g} over "
                                    f"the window's second half, not below the reference median {_median(ref):.4g}")
        if cleared and isinstance(action, A.ClipGrad) and action.replaces is not None and not improved:
            # a clip in place of a kept LR cut (the finding was already clear under the cut): it stays only if the run
            # does better at the script's LR than under the cut, i.e. the loss falls below the cut's own window
            cleared = False
            rec["replace_stalled"] = (f"the loss did not fall below the LR cut's window at the script's LR: median "
                                      f"{_median(tail):.4g} over the window's second half, reference median "
                                      f"{_median(ref):.4g}; the cut is back")
        killed = None
        if not (nonfinite or worse or final) and (cleared or improved) and isinstance(action, A.SwapActivation) \
                and action.lr_factor is None:
            killed = self._swap_killed_units(rec, action)
        if nonfinite or (worse and not (cleared and action.loss_may_rise)) or killed is not None:
            outcome = "rolled back"
            rec["why"] = ("the loss became non-finite" if nonfinite else killed[1] if killed is not None else
                          f"the loss got worse: median {_median(tail):.4g} over the window's second half, above "
                          f"the reference window's {int(WORSE_QUANTILE * 100)}th percentile "
                          f"{_quantile(ref, WORSE_QUANTILE):.4g} plus the loss noise {noise:.3g}")
            if killed is not None:
                self._retry[key] = (action.remedy, killed[0])
            elif getattr(action, "fallback_cut", None) is not None and not final:
                self._retry[key] = (action.remedy, action.fallback_cut)
                rec["why"] += (f"; the layers re-initialized at the LR an earlier cut set fared worse: applied again from "
                               f"the state before it, with the measured cut taken whole (LR x{A._sig(action.fallback_cut[0]):g})")
            action.undo()
            if self.pre is not None:
                # also when the run ended inside the window (final): a remedy judged worse is rolled back, so
                # the model the script keeps is the state from before it, not what its last steps did (an LR
                # raised 100x in the last 3 steps of a run had left the model at MSE 5e7)
                rec["restore_notes"] = self.pre.restore(self) or None
                self._undo_since(self.pre)
                rec["restored_state_of_step"] = self.pre.step
                if not final:
                    # the findings of the run as restored (the verdict's evaluation judged the undone steps)
                    d._evaluate(force=True)
                    self._restored = (self.pre.ref, d.n_backward)
        elif cleared:
            outcome = "cleared"
        elif improved:
            outcome = "improved"
        elif final:
            outcome = "undecided"
            rec["why"] = "the run ended before the verification window did"
        else:
            outcome = "no effect"
            stalled = rec.pop("raise_stalled", None) or rec.pop("replace_stalled", None)
            rec["why"] = (stalled + "; the remedy was taken back" if stalled else
                          "the finding stayed and the loss did not improve; the remedy was taken back")
            action.undo()
        rec["outcome"] = outcome
        replaced = isinstance(action, A.ClipGrad) and action.replaces is not None
        if replaced and outcome in ("cleared", "improved", "undecided"):
            # the clip stays, the LR cut it replaced is gone: its record says so, and its code change is not one to make
            cut = next((a for a in self.attempts if a.get("_action") is action.replaces), None)
            if cut is not None:
                cut["outcome"] = "replaced"
                cut["why"] = (f"kept until step {rec['step']}, then replaced by clip-grad-norm at the gradient level "
                              f"measured under it, with the script's LR (see that attempt)")
                cut.pop("permanent_fix", None)
                cut["_action"] = None
        if outcome in ("cleared", "improved", "undecided"):
            rec["permanent_fix"] = self._permanent_fix(f, action)
            if outcome != "undecided":
                self.kept[key] = rec
                # the watchdog looks for NaN *after* this repair: the window just judged was finite (or the
                # remedy would have been rolled back), and what came before it (the NaN that started it
                # all, before a rollback) is no news
                self._watch_bw = max(self._watch_bw, d.n_backward)
                if not (outcome == "improved" and action.remedy in REPEATABLE):
                    self.done.add(key)
        else:
            rec["_action"] = None
            if key not in self._retry and (len(self.tried.get(key, [])) >= self.max_per_finding or
                                           not any(r not in self.tried.get(key, []) for r in plan(f))):
                self._give_up(key, f, final=final)
        note = action.note()
        if note:
            rec["note"] = note
        if not final and outcome in ("cleared", "improved") and self._replace_unmeasured_cut(f, action):
            self._cut_to_replace = (f, action)
        if not final:
            self._dirty = True   # the next remedy, or the next finding, at the next step
            if outcome in ("cleared", "improved"):
                self._restored = None
                self._maybe_snapshot(force=True)

    def _replace_unmeasured_cut(self, f: Finding, action: A.Action) -> bool:
        """Should this LR cut, just kept (cleared or improved), be replaced by clipping? Only a cut for an exploding
        gradient, or the NaN it turns into, in a recurrent network (torch's RNN modules), made with a default factor
        because the run had no healthy gradient level to clip to (it exploded from its first steps: ``plan_for``
        puts the cut first then). Clipping is the cure there, not the LR
        (``_priority``), and the cut's window has just given the level to clip at; the clip is judged like any
        remedy, and rolled back, the cut restored, if the run does worse at the script's LR."""
        return (isinstance(action, A.ScaleLr) and action.remedy == "lower-lr" and getattr(action, "unmeasured", False)
                and f.code in ("exploding-gradient", "non-finite") and self._recurrent()
                and "clip-grad-norm" not in self.tried.get(self._key(f), []))

    def _total_grad_norms(self, rec) -> tuple[np.ndarray, np.ndarray]:
        """The optimizer's recorded steps and its total gradient norm at each (the per-parameter norms added in
        quadrature; a parameter with no gradient, stored as -1, adds nothing)."""
        g = self.doctor.store[f"grad_norm/{rec.key}"]
        if not len(g):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        G = g.array(-1.0)
        if G.ndim == 1:
            G = G.reshape(-1, 1)
        return g.steps, np.sqrt((np.where(G > 0, G, 0) ** 2).sum(axis=1))

    def grad_level_since(self, opt, step: int) -> tuple[float, int] | None:
        """The median total gradient norm over this optimizer's steps after ``step`` (5 finite, positive ones at
        least), and how many it rests on."""
        rec = self._rec(opt)
        if rec is None:
            return None
        steps, tot = self._total_grad_norms(rec)
        tot = tot[steps > step]
        tot = tot[np.isfinite(tot) & (tot > 0)]
        return (float(_median(tot)), int(len(tot))) if len(tot) >= 5 else None

    def _progress_a_restart_would_lose(self) -> str | None:
        """Why a restarting remedy would do harm here (the run is learning: LEARNING_FALL), else None."""
        start = self._losses(first=5)
        now = self._losses(after_bw=max(0, self.doctor.n_backward - self.window))
        start, now = start[np.isfinite(start)], now[np.isfinite(now)]
        if len(start) < 3 or len(now) < 5:
            return None
        s, n = float(_median(start)), float(_median(now))
        if s > 0 and n <= LEARNING_FALL * s:
            return (f"the run is learning: its loss fell from {s:.4g} to {n:.4g} (more than {1 / LEARNING_FALL:g}x); "
                    f"re-initializing or swapping layers would throw that progress away")
        return None

    def _not_applicable(self, why: str) -> None:
        """The remedy under test found nothing to act on (it changed nothing): taken back without a verdict,
        the next one is tried at the next step."""
        rec, self.current = self.current, None
        action = rec["_action"]
        action.undo()
        for k in ("_ref", "_bw", "_finding", "_grad_before"):
            rec.pop(k, None)
        rec["_action"] = None
        rec.update(outcome="not applicable", why=why)
        note = action.note()
        if note:
            rec["note"] = note
        self._dirty = True

    def _early_steps(self) -> int:
        """When a remedy's first losses are checked for an early rollback: a quarter of the window (>= 5)."""
        return max(5, self.window // 4)

    def _clearly_worse(self, rec: dict[str, Any]) -> bool:
        """A sequential check before the window ends: every loss since a remedy was applied lies above the
        *highest* loss of its reference window plus the loss noise. Were the remedy harmless, each of them
        would exceed the reference's maximum with probability about 1/(n+1) (n reference losses), so all
        k = ``_early_steps()`` of them together by chance ~(n+1)^-k: no wait for the rest of the window,
        whose steps would be rolled back anyway (e.g. inputs standardized under weights and an LR that
        were fitted to the raw ones). Not for remedies that restart layers or may raise the training loss
        by design (their first losses are expected to be high); at least 5 reference losses."""
        act = rec["_action"]
        if act.restarts or act.loss_may_rise:
            return False
        ref = rec["_ref"]
        ref = ref[np.isfinite(ref)] if len(ref) else ref
        if len(ref) < 5:
            return False
        after = self._losses(after_bw=rec["_bw"])
        if len(after) < self._early_steps() or not np.isfinite(after).all():
            return False
        return bool((after > float(np.max(ref)) + self._noise(ref)).all())

    def _give_up(self, key: tuple, f: Finding, final: bool = False) -> None:
        """No remedy repaired the finding. For a NaN (every live remedy tried and rolled back: the code makes
        it, e.g. log(0)), the model is kept finite: restored to the best snapshot if its parameters or loss
        are no longer finite, and from then on a step whose gradients are non-finite is skipped (as
        GradScaler does), so the run ends with finite weights instead of NaN, and the report says the fix is
        a code change. Nothing else is changed: the finite steps train as the script wrote them."""
        self.done.add(key)
        if f.code != "non-finite" or key in self.kept or self.guard is not None or final or self._closed:
            return
        d = self.doctor
        info: dict[str, Any] = {"from_step": self.now, "key": key}
        recent = self._losses(after_bw=max(0, d.n_backward - 3))
        if (not self._params_finite() or (len(recent) and not np.isfinite(recent).all())) and \
                self.best is not None and not self._stale(self.best):
            notes = self.best.restore(self)
            self._undo_since(self.best)
            self._restored = (self.best.ref, d.n_backward)
            info["restored_state_of_step"] = self.best.step
            if notes:
                info["rollback_notes"] = notes
            d._evaluate(force=True)
        g = A.SkipNonFinite(self, f)
        try:
            info.update(g.apply())
        except Exception as e:   # pragma: no cover - defensive
            g.undo()
            d._internal_error("repair safeguard", e)
            return
        self.guard, self.guard_info = g, info

    def _undo_since(self, snap: Snapshot) -> None:
        d = self.doctor
        if d.step > snap.opt_step or d.n_backward > snap.bw:
            self.undone.append((snap.opt_step + 1, d.step, snap.bw + 1, d.n_backward))

    def _permanent_fix(self, f: Finding, action: A.Action) -> str:
        if getattr(action, "snippet", None):   # an action whose fix the catalogue's template does not fit
            return action.snippet
        doc = _remedies.CATALOGUE.get(action.remedy)
        if doc is None:
            return ""
        names = self.doctor._snippet_names()
        # (a functional activation swapped: its code change is in forward(), not a module to replace)
        parts = [getattr(action, "functional_snippet", None) or doc.render(**{**names, **action.context}).snippet]
        # what the remedy did besides its catalogue snippet is part of the fix too: the He init that came
        # with a swap to ReLU, and an LR lowered with the remedy (a dead-ReLU re-initialization, a retried swap)
        if isinstance(action, A.SwapActivation) and action.reinit:
            parts.append(_remedies.CATALOGUE["he-init"].render(**names).snippet)
        if getattr(action, "lr_factor", None) is not None and action.context.get("suggested_lr") is not None:
            parts.append(_remedies.CATALOGUE["lower-lr"].render(
                **{**names, "suggested_lr": action.context["suggested_lr"]}).snippet)
        return "\n".join(parts)

    # -- measurements ---------------------------------------------------------------------------
    def _losses(self, after_bw: int | None = None, first: int | None = None) -> np.ndarray:
        """Losses of the current training phase (since the doctor's latest analysis window opened: a
        teacher's losses are no reference for its student) after backward pass ``after_bw``, or the
        phase's ``first`` losses."""
        d = self.doctor
        if d._pending_loss:
            d._flush()
        s = d.store["loss"]
        if not len(s):
            return np.zeros(0)
        steps, vals = s.steps, s.array()
        phase = d._window_base[0]
        if first is not None:
            return vals[steps > phase][:first].astype(float)
        return vals[steps > max(after_bw or 0, phase)].astype(float)

    def _stale(self, snap: Snapshot | None) -> bool:
        """A snapshot of an earlier training phase (a new optimizer has stepped since, or new models or
        parameters appeared, e.g. a student after its teacher) is no reference for this one."""
        d = self.doctor
        return snap is None or len(d.table.params) != snap.n_params or \
            any(r.key not in snap.opt_keys and r.n_steps > 0 for r in d._opts.values())

    def _degraded(self, f: Finding | None = None) -> bool:
        """Is the run now worse than its best snapshot (by the same test a verdict uses, or by its weights:
        ``_blown_up``)? The losses judged are the last ten, none from before the latest rollback (those
        belong to the undone steps, not to the state the run has).

        ``f``, the finding a remedy is about to treat: an exploding gradient (a burst of 100x its running
        level or more, or a 2-decade growth) that began after the best snapshot was taken, under plain SGD
        (with or without momentum), has already been applied to the weights: an SGD step on a gradient 100x
        the usual moves them 100x as far. That damage need not show in the last ten losses yet (a one-step
        burst is one loss among ten, or none: the update is taken after the loss it came from), and a remedy
        applied to those weights (a clip at the healthy level) has to climb back from it within its verdict
        window: the run is degraded. Not for the optimizers that normalize their step (Adam's moves ~3x its
        usual step on a single 100x gradient: the first moment takes a tenth of it, the second moment's root
        ~3x) or that choose it by curvature (L-BFGS): their damage, if any, shows in the losses."""
        if self._stale(self.best):
            return False
        if not self._params_finite():
            return True
        if any(a.get("step", -1) >= self.best.step for a in self.kept.values()):
            # the best state predates a repair that was kept (its snapshot is refreshed after a kept repair only
            # while no other error is active): restoring it would undo that repair, e.g. put back the weights a
            # re-initialization replaced. Weights larger than then (the re-initialization's own, 100x a tiny
            # init), or a loss above that state's, are no damage to undo; NaN weights still are.
            return False
        if self._blown_up(self.best):
            return True
        if f is not None and f.code == "exploding-gradient" and f.severity != "info" and isinstance(f.step, int) \
                and f.step > self.best.opt_step and self._steps_with_the_gradient(f):
            return True
        since = self._restored[1] if self._restored is not None else 0
        recent = self._losses(after_bw=max(0, self.doctor.n_backward - 10, since))
        if not len(recent):
            return False
        fin = recent[np.isfinite(recent)]
        if len(fin) < len(recent):
            return True
        ref = self.best.ref
        if not len(ref):
            return False
        now, top = float(_median(fin)), float(_quantile(ref, WORSE_QUANTILE))
        if len(ref) >= 5 and now > top + _mad(ref):
            return True
        # a reference too short to have a spread (the state before the first step): diverged, i.e. a
        # decade or more above it (the divergence test of learning-rate-too-high), or blown up by its first
        # updates (its early blow-up test), whatever the loss has come back down to since
        return (now > 0 and top > 0 and math.log10(now / top) >= 1.0) or \
            (len(ref) < 5 and self.best.step <= 1 and self.early_blowup())

    def _steps_with_the_gradient(self, f: Finding) -> bool:
        """Do the optimizers a finding is about take steps in proportion to the gradient (torch's SGD, with or
        without momentum or Nesterov), not normalized by its running size (Adam, RMSprop...) or chosen by
        curvature (L-BFGS)?"""
        opts = [unwrap_optimizer(o) for o in self.target_optimizers(f)]
        return bool(opts) and all(isinstance(o, torch.optim.SGD) for o in opts)

    def _blown_up(self, snap: Snapshot) -> bool:
        """Have the weights blown up since ``snap``: is the parameters' total norm now more than
        max(10, (1 + HIGH_RATIO) ** k) times the snapshot's, k optimizer steps later? An update moves the
        weights by a fraction r of their norm, so k updates grow it at most (1 + r) ** k times; r =
        HIGH_RATIO (1e-2) is already the LR rule's "a decade above the usual 1e-3", and growth beyond it
        (and beyond a decade) takes updates larger than that, compounding in one direction: an exploding
        gradient's step, not training. Such weights can carry a loss that still looks normal (a vanilla
        RNN after a 2e11 gradient: the norm 12 -> 1.2e10, the loss 1.6), and then they make every
        update/weight ratio tiny (a false "learning rate too low")."""
        from ..diagnoses.hyperparams import HIGH_RATIO
        if not (snap.norm > 0 and math.isfinite(snap.norm)):
            return False
        now = _total_norm([p.detach() for p in self.doctor.table.params])
        k = max(0, self.now - snap.step)
        return now > snap.norm * max(10.0, math.exp(min(k * math.log1p(HIGH_RATIO), 700.0)))

    def _noise(self, ref: np.ndarray) -> float:
        """The loss's batch-to-batch noise: the robust spread of the reference window, or, when it is too
        short to have one (a snapshot before the first step), of the run's first ten losses."""
        if len(ref) >= 5:
            return _mad(ref)
        first = self._losses(first=10)
        first = first[np.isfinite(first)]
        return _mad(first)

    def _params_finite(self) -> bool:
        ps = [p.detach() for p in self.doctor.table.params]
        if not ps:
            return True
        return bool(torch.isfinite(torch.stack(torch._foreach_norm(ps))).all())

    def _loss_nonfinite_now(self) -> bool:
        pend = self.doctor._pending_loss
        if not pend:
            return False
        return not math.isfinite(float(pend[-1][1].detach().float().sum()))

    def _grad_level(self, f: Finding, before: bool, last: int = 0) -> float | None:
        opts = self.target_optimizers(f)
        if not opts:
            return None
        _, tot = self._total_grad_norms(self._rec(opts[0]))
        if not len(tot):
            return None
        tot = tot[-self.window:] if before else tot[-max(1, last):]
        tot = tot[np.isfinite(tot)]
        return float(f"{_median(tot):.4g}") if len(tot) else None

    def healthy_level(self, opt) -> tuple[float, int] | None:
        """The gradient norm's level over the run's healthy history (Pascanu et al. 2013: clip at the
        average norm over many updates): the median total norm over the steps before the loss rose for
        good above where it started (its first three losses' median plus their spread), if there are at
        least five such steps (the loss's 3-step running mean above the highest of its first three
        losses is a rise); None when the run has no healthy history (the loss rose from the start).

        "For good": the rise the loss is still in now. A bump it came back down from (a ReLU RNN's first
        steps at initialization, whose gradients are a decade above its later ones, before it settles and
        trains for 50 steps) is part of the healthy history, not its end: cut there, the level would rest on
        the initialization's large norms alone and clip 10x above the level the run trained at. The median
        keeps such a bump's few steps from moving the level."""
        rec = self._rec(opt)
        if rec is None:
            return None
        _, tot = self._total_grad_norms(rec)
        L = self._losses(first=10 ** 9)
        if not len(tot) or len(L) < 5:
            return None
        lim = float(np.max(L[:3]))     # where it started, with the spread of its first losses
        run = np.convolve(np.where(np.isfinite(L), L, np.inf), np.ones(3) / 3, mode="valid")
        below = np.where(run <= lim)[0]
        if len(below) and below[-1] == len(run) - 1:
            k = len(L)                     # the loss is not above its start now: the whole run so far
        else:                              # losses before the rise the smoothed loss is still in
            k = int(below[-1]) + 2 if len(below) else 1
        if k < 5:
            return None
        # the optimizer's steps that those losses preceded (one step per backward pass, or per accumulation)
        per = max(1.0, self.doctor.n_backward / max(1, rec.n_steps))
        tot = tot[: max(1, int(k / per))]
        tot = tot[np.isfinite(tot) & (tot > 0)]
        return (float(_median(tot)), int(len(tot))) if len(tot) >= 5 else None

    def _view(self, rec, undone: bool = True):
        """The rules' context and this optimizer's view of its signals (as the rules see them now; with
        ``undone=False``, with the steps rollbacks undid as well)."""
        from ..diagnoses import Context
        d = self.doctor
        ctx = Context(store=d.store, params=list(d.table.info), step=d.step, n_backward=d.n_backward,
                      module_types=dict(d.table.module_types), undone=list(self.undone) if undone else [])
        return ctx, next((o for o in ctx.optimizers() if o.key == rec.key), None)

    def early_blowup(self) -> bool:
        """The learning-rate rule's early blow-up test on this run: its first updates (steps 1-5) moved the
        weight matrices by >= EARLY_RATIO of their norm and the loss at least tripled within them (EARLY_JUMP
        times its value at initialization). Weights after such updates carry the blow-up (e.g. a net collapsed
        to chance whose loss came back down to ln(classes), below its start): the state before the first step
        is the healthy one. A fact of the run's first steps, read with the steps a rollback undid (a rollback
        to the state before them does not unmake what they showed)."""
        from ..diagnoses.hyperparams import EARLY_JUMP, EARLY_RATIO
        opts = self.target_optimizers(None)
        rec = self._rec(opts[0]) if opts else None
        L = self._losses(first=6)
        if rec is None or len(L) < 2 or not np.isfinite(L[0]) or L[0] <= 0:
            return False
        fin = L[1:][np.isfinite(L[1:])]
        if len(fin) == len(L) - 1 and (not len(fin) or float(np.max(fin)) < EARLY_JUMP * float(L[0])):
            return False
        got = self.first_updates_ratio(rec)
        return got is not None and got[0] >= EARLY_RATIO

    def first_updates_ratio(self, rec) -> tuple[float, int] | None:
        """The median update/weight ratio of the weight matrices over the sampled steps 1-5 (the rules'
        ``_weight_ratio``), with the steps rollbacks undid; and how many steps it rests on (None: none)."""
        from ..diagnoses.hyperparams import _weight_ratio
        ctx, ov = self._view(rec, undone=False)
        if ov is None or not len(ov.upd_steps):
            return None
        ratio, n = _weight_ratio(ctx, ov, ov.upd_steps <= 5)
        return (ratio, n) if n >= 1 and math.isfinite(ratio) else None

    def update_ratio(self, opt, until: int | None = None, after: int = 0) -> tuple[float, int] | None:
        """The optimizer's update/weight ratio as the learning-rate rules measure it: the median over its
        sampled steps after the fifth (or, with ``until``, up to that step; with ``after``, after that one)
        of the per-step median ratio of the weight matrices (None when not measured)."""
        return self._ratios(opt, until, after)[0]

    def network_ratio(self, opt, until: int | None = None, after: int = 0) -> tuple[float, int] | None:
        """How far one update moves the network as a whole (``hyperparams._network_ratio``: the weight
        matrices' ratios added in quadrature), over the same steps as :meth:`update_ratio`."""
        return self._ratios(opt, until, after)[1]

    def _ratios(self, opt, until: int | None, after: int) -> tuple[tuple[float, int] | None, tuple[float, int] | None]:
        """(update_ratio, network_ratio) from one view of the optimizer's signals; each None where fewer than
        three sampled steps measure it."""
        from ..diagnoses.hyperparams import _network_ratio, _weight_ratio
        rec = self._rec(opt)
        if rec is None:
            return None, None
        ctx, ov = self._view(rec)
        if ov is None or not len(ov.upd_steps):
            return None, None
        rows = ov.upd_steps > 5 if until is None else ov.upd_steps <= until
        if after:
            rows = rows & (ov.upd_steps > after)
        out = [(r, n) if n >= 3 and math.isfinite(r) else None
               for r, n in (_weight_ratio(ctx, ov, rows), _network_ratio(ctx, ov, rows))]
        return out[0], out[1]

    def dead_relu_lr_factor(self, f: Finding, count_since: bool = True) -> tuple[float, str] | None:
        """For ReLUs that died during training (alive at the first sample, dead since): when the updates are
        oversized, the factor that brings the LR to the healthy update/weight ratio, else None.

        A unit dies when an update pushes its pre-activation below zero for every input (the guide: a too
        high LR kills ReLUs); a re-initialized unit dies again under the same updates. What moves a unit's
        pre-activation is every update below it, so the updates are judged by how far they move the network
        as a whole: the weight matrices' update/weight ratios added in quadrature (``network_ratio``; for one
        layer, its ratio). Oversized is the learning-rate rule's threshold for that, >= HIGH_RATIO (1e-2, a
        decade above the usual 1e-3): a 12-layer ReLU net at 0.7% per layer (2.4% in all) loses most of its
        units within 40 steps, and at 0.1% per layer (0.4% in all) trains. The factor brings each layer to
        the healthy floor, CUT_TARGET / (the layers' median ratio, as the rule's suggestion measures it), and the
        network under HIGH_RATIO (``hyperparams.cut_factor``),
        between 1/100 and 1/2. The ratios are those of the updates that killed the units, up to the deaths'
        onset (``since_step``, as the learning-rate rule measures them): after it, a schedule (OneCycle's
        anneal) or the dead units themselves change them."""
        from ..diagnoses.hyperparams import HIGH_RATIO
        at_init = f.evidence.get("dead_fraction_at_init")
        if isinstance(at_init, dict) and at_init and all(v >= 0.5 for v in at_init.values()):
            return None    # dead from the start: the init (or a bias), not the updates
        opts = self.target_optimizers(None)
        since = f.evidence.get("since_step")
        until = since if isinstance(since, int) else None
        # the updates of the network that had the deaths: those since repair's last change before them
        # (a swapped activation or a re-initialization is another network, with other ratios)
        # (too few sampled steps since: all of them)
        last = max((a["step"] for a in self.attempts if isinstance(a.get("step"), int)
                    and (until is None or a["step"] < until)), default=0)
        net = m = None
        for after in dict.fromkeys((last, 0)) if opts else ():
            m, net = self._ratios(opts[0], until, after)
            if net is not None and m is not None:
                break
        if net is None or m is None:
            return None
        # an LR change repair made after those updates (the learning-rate rule's cut, found first) already scales
        # them: an update is proportional to the LR, for SGD as for Adam, so the updates at the LR in effect now
        # are those measured times the factors set since. Cutting again by the whole measured factor would count
        # that cut twice (0.5 -> 0.02 by the LR rule, then x0.045 more for the same oversized updates: 0.0009)
        since_fac = self.lr_factor_since(opts[0], until) if until is not None and count_since else 1.0
        if net[0] * since_fac < HIGH_RATIO:
            return None
        fac, why = _lr_cut_to_healthy("the updates", net[0] * since_fac, net[1], m[0] * since_fac,
                                      f"{f' after step {after}' if after else ''}"
                                      f"{f' up to step {since}, when the units died' if until is not None else ''}")
        if since_fac != 1.0:
            why += f" (as measured, x{A._sig(since_fac):g} for the LR change repair made since)"
        return fac, why

    def lr_factor_since(self, opt, step: int) -> float:
        """The product of the LR factors repair set on ``opt`` after optimizer step ``step`` and still in force
        (1.0: none): how much the LR in effect now differs from the one the updates up to ``step`` were made at,
        by repair's doing (the script's own schedule is in the doctor's LR series)."""
        c = self._lr.get(id(opt))
        if c is None:
            return 1.0
        f = 1.0
        for key, fn in c.factors.items():
            at = c.factors.at.get(key)
            if at is not None and at[0] > step:
                f *= fn(c.n)
        return f

    def _swap_killed_units(self, rec: dict[str, Any], action: "A.SwapActivation") -> tuple[tuple[float, str], str] | None:
        """A swap to ReLUs that cleared its finding, checked for its known side effect: the run's LR, set for
        the saturating net, kills the ReLUs it put in (the guide: a too high LR kills ReLUs). The swap
        re-initialized their layers (He, bias 0), so its units all fire at first; the verdict reads the
        latest activation sample taken since, and the updates since.

        Killed: in that sample the median new ReLU layer has >= DEAD_WARN (half) of its units silent on every
        example (dead-relu's reporting threshold; the median layer, so half the network, not one odd layer),
        while the updates move the network by >= HIGH_RATIO of its weights per step (``network_ratio``, as
        dead_relu_lr_factor judges dying units). One sample suffices here where dead-relu itself asks for
        two: this decides whether to keep a change repair made, not whether to alarm about the user's code,
        and a wrong call costs a retry at a lower LR. Returns ((LR factor, why), the verdict's reason): the
        factor that brings the median layer to CUT_TARGET (the network under HIGH_RATIO), between 1/100 and 1/2 (``_lr_cut_to_healthy``, as dead_relu_lr_factor)."""
        from ..diagnoses.activations import DEAD_WARN, _dead_layers
        from ..diagnoses.hyperparams import HIGH_RATIO, _network_ratio, _weight_ratio
        names = action.new_relus()
        d = self.doctor
        samples = [s for s in d.store.facts.get("act_samples", []) if s.get("modules") and s.get("step", -1) > rec["step"]]
        if not names or not samples:
            return None
        dead = _dead_layers(samples[-1], d._last_batch or 1)
        shares = [dead[n][0] for n in names if n in dead]
        if len(shares) < max(1, len(names) // 2) or _median(shares) < DEAD_WARN:
            return None
        opts = self.target_optimizers(None)
        r = self._rec(opts[0]) if opts else None
        if r is None:
            return None
        ctx, ov = self._view(r)
        if ov is None or not len(ov.upd_steps):
            return None
        rows = ov.upd_steps > rec["step"]   # the updates of the swapped network
        net, n = _network_ratio(ctx, ov, rows)
        m, _ = _weight_ratio(ctx, ov, rows)
        if n < 2 or not (net >= HIGH_RATIO) or not (m > 0):
            return None
        fac, why_lr = _lr_cut_to_healthy("the swapped network's updates", net, n, m)
        share = _median(shares)
        why = (f"the ReLUs it put in are dying under the run's LR: at step {samples[-1]['step']} the median new ReLU "
               f"layer had {share:.0%} of its units silent on every example, while {why_lr.split(': ')[0]}; "
               f"applied again from the state before it, with the LR x{A._sig(fac):g}")
        return (fac, why_lr), why

    def loss_growth(self) -> float | None:
        """The loss's geometric growth per step while it diverges (the median ratio of consecutive losses
        over the longest run of at least three rises, if that median is >= 2), else None."""
        # since the last LR change repair made (the growth measured before it was at another LR)
        L = self._losses(after_bw=self._lr_bw) if self._lr_bw else self._losses(first=10 ** 9)
        best, cur = [], []
        for a, b in zip(L[:-1], L[1:]):
            if np.isfinite(a) and np.isfinite(b) and a > 0 and b > a:
                cur.append(b / a)
                if len(cur) > len(best):
                    best = list(cur)
            else:
                cur = []
        if len(best) < 3:
            return None
        r = float(_median(best))
        return r if r >= 2 else None

    def healthy_grad_norm(self, f: Finding, opt) -> tuple[float, str]:
        lvl = self.healthy_level(opt)
        if lvl is not None:
            return lvl[0], (f"the median gradient norm over the run's {lvl[1]} healthy steps (before the loss "
                            f"rose; Pascanu et al. 2013)")
        base = f.evidence.get("baseline_grad_norm")
        if isinstance(base, (int, float)) and base > 0 and math.isfinite(base):
            return 2.0 * float(base), "2x the gradient norm's early level (the rule's baseline)"
        rec = self._rec(opt)
        if rec is not None:
            _, tot = self._total_grad_norms(rec)
            tot = tot[np.isfinite(tot) & (tot > 0)]
            if len(tot):
                early = tot[: max(3, len(tot) // 3)]
                return 2.0 * float(_median(early)), "2x the median gradient norm of the first third of the run"
        return 1.0, "the conventional max_norm=1.0 (no gradient norms measured)"

    # -- what the actions need from the doctor ----------------------------------------------------
    def _rec(self, opt):
        r = self.doctor._opts.get(id(opt))
        return r if r is not None and r.ref() is opt else None

    def last_step(self, opt) -> int:
        """The training iteration of the optimizer's latest step (0: never stepped)."""
        r = self._rec(opt)
        return r.last_step if r is not None else 0

    def opt_name(self, opt) -> str:
        r = self._rec(opt)
        return r.name if r is not None else type(opt).__name__

    def target_optimizers(self, f: Finding | None) -> list:
        d = self.doctor
        live = [(r, r.ref()) for r in d._opts.values() if r.ref() is not None]
        if f is not None:
            named = {f.evidence.get("optimizer")} | set(f.where)
            hit = [o for r, o in live if r.name in named]
            if hit:
                return hit
        stepped = [o for r, o in live if r.n_steps > 0]
        return stepped or [o for _, o in live]

    def lr_control(self, opt) -> A.LrControl:
        c = self._lr.get(id(opt))
        if c is None:
            c = self._lr[id(opt)] = A.LrControl(self, opt)
        return c

    def drop_optimizer_state(self, params) -> None:
        for r in self.doctor._opts.values():
            o = r.ref()
            if o is not None:
                for p in params:
                    o.state.pop(p, None)

    def _modules(self) -> dict[str, nn.Module]:
        names = self.doctor.table.module_names
        out = {}
        for root in self.doctor.table.roots:
            for m in root.modules():
                n = names.get(id(m))
                if n is not None:
                    out.setdefault(n, m)
        return out

    def _parents(self) -> dict[int, tuple[nn.Module, str]]:
        out = {}
        for root in self.doctor.table.roots:
            for m in root.modules():
                for attr, child in m._modules.items():
                    if child is not None:
                        out[id(child)] = (m, attr)
        return out

    def _ordered(self) -> list[tuple[str, nn.Module]]:
        mods = self._modules()
        order = self.doctor.store.facts.get("module_order") or {}
        known = [n for n in sorted(order, key=order.get) if n in mods]
        rest = [n for n in mods if n not in order]
        return [(n, mods[n]) for n in known + rest]

    def _act_after(self, ordered, i: int, default: str) -> str:
        """The activation after layer ``ordered[i]``: the activation module that follows it in forward order;
        with none before the next layer, what the activation sample saw: ``linear`` (gain 1) for the model's
        output layer (nothing follows it inside the model: an output sigmoid or softmax is the loss's, and its
        init is gain 1 too) and for a layer whose output the next layer takes with values below -1 (no ReLU,
        sigmoid or tanh output goes there, nor GELU's, SiLU's or ELU's, whose floors are -0.17, -0.28 and -1: a
        linear bottleneck such as an autoencoder's code); else the model's main activation (``default``: a
        functional one the modules do not show)."""
        nxt = None
        for n, m in ordered[i + 1:]:
            if isinstance(m, _LAYERS):
                nxt = n
                break
            if isinstance(m, (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU)):
                return "relu"
            if isinstance(m, (nn.Tanh, nn.Hardtanh, nn.Softsign)):
                return "tanh"
            if isinstance(m, (nn.Sigmoid, nn.Hardsigmoid)):
                return "sigmoid"
        samples = self.doctor.store.facts.get("act_samples") or []
        mods = (samples[-1].get("modules") or {}) if samples else {}
        me = mods.get(ordered[i][0]) or {}
        if me.get("is_output"):
            return "linear"
        seen = mods.get(nxt) if nxt is not None else None
        lo = seen.get("min_in") if seen else None
        if seen and seen.get("kind") == "layer" and seen.get("is_model_input") == 0.0 and isinstance(lo, float) \
                and lo < -1.0:
            return "linear"
        return default

    def layers_for(self, f: Finding, scope: str) -> list[tuple[str, nn.Module, str]]:
        ordered = self._ordered()
        default = _main_act(f, self._observed_acts())
        if scope == "all":
            custom = self.custom_layers()
            return [(n, m, self._act_after(ordered, i, default)) for i, (n, m) in enumerate(ordered)
                    if isinstance(m, _LAYERS) or n in custom]
        out = []
        names = [n for n, _ in ordered]
        fed = f.evidence.get("fed_by")
        fed = fed if isinstance(fed, dict) else {}
        for w in f.where:
            if w not in names:
                # a functional activation (torch.sigmoid(self.gate(x))): the probe saw which layer's output
                # it was applied to
                srcs = fed.get(w)
                for src in srcs if isinstance(srcs, list) else []:
                    if src in names and isinstance(ordered[names.index(src)][1], _LAYERS) \
                            and all(src != o[0] for o in out):
                        out.append((src, ordered[names.index(src)][1], default))
                continue
            i = names.index(w)
            m = ordered[i][1]
            # the activation module itself, or the layer whose *input* carries a functional activation:
            # either way the layer that feeds it is the last layer before it in forward order
            prev = [(n, pm) for n, pm in ordered[:i] if isinstance(pm, _LAYERS)]
            if not prev:
                continue
            n, pm = prev[-1]
            act = default if not isinstance(m, _ACTS) else self._act_after(ordered, names.index(n), default)
            if all(n != o[0] for o in out):
                out.append((n, pm, act))
        return out

    def custom_layers(self) -> dict[str, int]:
        """The layers written by hand that the activation probe measured (a module of no known type with a
        weight of its own), with the fan-in it read from their input's width: name -> fan-in."""
        out: dict[str, int] = {}
        for s in self.doctor.store.facts.get("act_samples", []):
            for n, m in (s.get("modules") or {}).items():
                if m.get("hand_written") and m.get("fan_in"):
                    out[n] = int(m["fan_in"])
        return out

    def raw_params_for(self, f: Finding) -> list[tuple[str, nn.Parameter]]:
        """The raw weight matrices behind a functional activation that no layer feeds
        (``torch.tanh(x @ self.W_xh + h @ self.W_hh)``): the 2-D parameters, trainable, owned directly
        (not through a Linear/Conv submodule) by the module whose class's code holds the activation's call
        site (``tanh() at file.py:LINE``, as the activation probe names it), named from their root."""
        sites = []
        for w in f.where:
            m = _SITE.match(str(w))
            if m:
                sites.append((m.group(1), int(m.group(2))))
        if not sites:
            return []
        out: list[tuple[str, nn.Parameter]] = []
        seen: set[int] = set()
        for root in self.doctor.table.roots:
            owner = {id(p): n for n, p in root.named_parameters()}
            for mod in root.modules():
                if isinstance(mod, _LAYERS) or not mod._parameters:
                    continue
                if not any(_class_code_covers(type(mod), fname, line) for fname, line in sites):
                    continue
                for p in mod._parameters.values():
                    if p is None or p.ndim != 2 or not p.requires_grad or id(p) in seen or id(p) not in owner:
                        continue
                    seen.add(id(p))
                    out.append((owner[id(p)], p))
        return out

    def _observed_acts(self) -> list[str]:
        """The kinds of the activations the probe saw in the latest sample (modules and functional
        calls such as ``torch.tanh``), for a finding whose evidence names none."""
        samples = self.doctor.store.facts.get("act_samples") or []
        kinds = []
        for smp in samples[-1:]:
            for m in (smp.get("modules") or {}).values():
                k = str(m.get("kind") or m.get("type") or "").lower()
                if k:
                    kinds.append(k)
                inferred = _act_from_input_range(m)
                if inferred:
                    kinds.append(inferred)
        return kinds

    def layers_before(self, act_names: list[str]) -> list[tuple[str, nn.Module, str]]:
        ordered = self._ordered()
        names = [n for n, _ in ordered]
        out = []
        for a in act_names:
            if a not in names:
                continue
            prev = [(n, pm) for n, pm in ordered[: names.index(a)] if isinstance(pm, _LAYERS)]
            if prev and all(prev[-1][0] != o[0] for o in out):
                out.append((prev[-1][0], prev[-1][1], "relu"))
        return out

    def activations_for(self, f: Finding, remedy: str) -> list[tuple[str, nn.Module, str, nn.Module]]:
        parents = self._parents()
        ordered = self._ordered()
        out = []
        if remedy == "leaky-relu":
            for n, m in ordered:
                if n in f.where and isinstance(m, (nn.ReLU, nn.ReLU6)) and id(m) in parents:
                    out.append((n, *parents[id(m)], m))
            return out
        # relu-family: every hidden Sigmoid/Tanh module (not the model's output activation)
        outputs = self._output_modules()
        for n, m in ordered:
            if isinstance(m, (nn.Sigmoid, nn.Tanh)) and n not in outputs and id(m) in parents:
                out.append((n, *parents[id(m)], m))
        return out

    def _output_modules(self) -> set[str]:
        samples = self.doctor.store.facts.get("act_samples") or []
        outs = set()
        for s in samples[-1:]:
            for n, m in s.get("modules", {}).items():
                if m.get("is_output"):
                    outs.add(n)
        if not samples:  # the last module in forward order of each root
            ordered = self._ordered()
            if ordered:
                outs.add(ordered[-1][0])
        return outs

    def input_stats(self, f: Finding):
        samples = [s for s in self.doctor.store.facts.get("act_samples", []) if s.get("first_layer")]
        fl = next((s["first_layer"] for s in samples if "feature_mean" in s["first_layer"]), None)
        if fl is None:
            raise A.CannotApply("no per-feature statistics of the input were measured")
        layer = self._modules().get(fl["name"])
        if layer is None:
            raise A.CannotApply(f"the first layer {fl['name']} is no longer in the model")
        mean = torch.tensor(fl["feature_mean"], dtype=torch.float32)
        std = torch.tensor(fl["feature_std"], dtype=torch.float32)
        fin = std[torch.isfinite(std)]
        floor = 1e-8 * float(fin.max()) if fin.numel() else 0.0
        ok = torch.isfinite(mean) & torch.isfinite(std) & (std > floor)   # constant features: leave their scale
        mean = torch.where(ok, mean, torch.zeros_like(mean))
        std = torch.where(ok, std, torch.ones_like(std))
        dim = 1 if str(fl.get("type", "")).startswith("Conv") else -1
        return fl["name"], layer, mean, std, dim

    # -- snapshots ------------------------------------------------------------------------------
    def _snapshot(self, ref: np.ndarray | None = None, reuse: Snapshot | None = None) -> Snapshot:
        d = self.doctor
        if ref is None:
            ref = self._losses(after_bw=self._snap_bw)
            if not len(ref) and d._pending_loss:
                ref = np.array([float(d._pending_loss[-1][1].detach().float().sum())])
        self._snap_bw = d.n_backward
        return Snapshot(self, self.now, ref[np.isfinite(ref)] if len(ref) else ref, reuse=reuse)

    def _maybe_snapshot(self, force: bool = False) -> None:
        """Keep the best state seen: a snapshot at a healthy point whose loss level is the lowest."""
        now = time.perf_counter()
        d = self.doctor
        if not force and not d.fixed_cadence and now - self._snap_time < 50 * self._snap_cost:
            return   # held to ~2% of the wall time (a doctor on a fixed cadence checks at every flush)
        if not force and d.fixed_cadence and self.best is not None:
            # on a fixed cadence (repair mode), by steps: at every flush for a model on the CPU whose snapshot
            # fits in memory (a memory copy); one that goes to disk (a model and optimizer state above
            # disk_threshold: seconds to write), or that copies an accelerator's tensors to host memory over
            # the bus (slower than the device by ~100x), only at the 1st, 2nd, 4th, 8th... flush: a long run
            # makes O(log steps) of them, not one per flush (size and device read from the last snapshot)
            k = self.now // max(1, d.every)
            if k & (k - 1) and (self.best.nbytes > self.disk_threshold or self.best.from_device):
                return
        if any(f.severity == "error" and not f.evidence.get("resolved") and self._key(f) not in self.kept
               for f in d._findings.values()):
            return
        ref = self._losses(after_bw=self._snap_bw)
        if not len(ref) or not np.isfinite(ref).all():
            return
        level = float(_median(ref))
        if self.best is not None and level >= self.best.level and not force and not self._stale(self.best):
            self._snap_bw = d.n_backward
            self._snap_time = now
            return
        # the snapshot it replaces is discarded below (unless it is also the state from before a remedy):
        # its copies are written over
        reuse = self.best if self.best is not None and self.best is not self.pre else None
        try:
            snap = self._snapshot(ref=ref, reuse=reuse)
        except Exception:
            if reuse is not None:
                # its copies may be written over in part: no longer a state to roll back to (the next
                # flush takes a fresh snapshot)
                reuse.discard()
                self.best = None
            raise
        if force and self.best is not None and level >= self.best.level:
            # after a kept repair the earlier best belongs to the unrepaired run: start over from here
            pass
        if self.best is not None and self.best is not self.pre:
            self.best.discard()
        self.best = snap
        self._snap_cost = time.perf_counter() - now
        self._snap_time = time.perf_counter()

    # -- report ---------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        out = []
        for a in self.attempts:
            r = {k: v for k, v in a.items() if not k.startswith("_")}
            if r.get("outcome") is None:
                r["outcome"] = "under test"
            out.append(r)
        for key in self.done:
            if key in self.kept:
                continue
            f = self.doctor._findings.get(key)
            tried = self.tried.get(key, [])
            if f is None or not tried or f.evidence.get("resolved"):
                continue
            r = {"code": f.code, "finding_key": list(map(str, key)), "outcome": "gave up",
                 "why": f"tried {', '.join(tried)}: none cleared it or improved the loss (see the attempts "
                        f"above); the code change below is the fix to make", "permanent_fix": f.remedies[0].snippet if f.remedies else ""}
            if f.code == "non-finite":
                stage = f.evidence.get("stage")
                where = {"loss": "the loss computation (e.g. log(0), x/0 on values the model reached)",
                         "backward": "the backward pass (an op whose derivative is infinite where it is used)",
                         "forward": "the forward pass", "input": "the input data"}.get(stage, "the code")
                r["why"] = (f"the code makes this NaN: it came back under every live remedy ({', '.join(tried)}), from a "
                            f"restored finite state, so it does not depend on the step size; it arises in {where}. "
                            f"Only a code change fixes it (below)")
                if self.guard is not None and self.guard_info.get("key") == key:
                    gi = self.guard_info
                    r["safeguard"] = ("from step " + str(gi.get("from_step")) + ", steps with non-finite gradients are "
                                      "skipped, as GradScaler does (the model never takes a NaN update; the finite steps train as written)" +
                                      (f"; restored to the state of step {gi['restored_state_of_step']}"
                                       if "restored_state_of_step" in gi else "") +
                                      (f"; {gi['note']}" if gi.get("note") else ""))
            out.append(r)
        attempted = {tuple(a["finding_key"]) for a in self.attempts}
        for key, f in self.doctor._findings.items():
            if f.severity not in ("error", "warning") or f.evidence.get("resolved"):
                continue
            k = tuple(map(str, key))
            if k in attempted:
                continue
            if f.code in REPORT_ONLY:
                out.append({"code": f.code, "finding_key": list(k), "outcome": "report only",
                            "why": REPORT_ONLY[f.code],
                            "permanent_fix": f.remedies[0].snippet if f.remedies else ""})
            elif plan(f) and self._outdated_by(f) is not None:
                a = self._outdated_by(f)
                out.append({"code": f.code, "finding_key": list(k), "outcome": "not attempted",
                            "why": f"its evidence (steps up to {f.evidence['evidence_last_step']}) predates the "
                                   f"{a['remedy']} repair at step {a['step']}; nothing after it showed the problem",
                            "permanent_fix": f.remedies[0].snippet if f.remedies else ""})
            elif plan(f):
                why = ("the attempt budget was spent" if len(self.attempts) >= self.max_attempts else
                       "found when no training step was left to repair" if self._closed or self.doctor._closed
                       else "waiting for the current attempt")
                out.append({"code": f.code, "finding_key": list(k), "outcome": "not attempted", "why": why,
                            "permanent_fix": f.remedies[0].snippet if f.remedies else ""})
        return out

    def annotate(self, findings: list[Finding]) -> None:
        """Mark findings a kept repair applies to (their evidence is rebuilt at each evaluation)."""
        for f in findings:
            rec = self.kept.get(self._key(f))
            if rec is not None:
                f.evidence = {**f.evidence, "repaired": True, "repair": {"remedy": rec["remedy"],
                                                                         "step": rec["step"],
                                                                         "outcome": rec["outcome"]}}


_LAYERS = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)
_ACTS = (nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Softsign, nn.Hardsigmoid)
_SITE = re.compile(r"^\w+\(\) at (.+):(\d+)$")    # a functional activation's name (the activation probe's)


def _class_code_covers(cls: type, fname: str, line: int) -> bool:
    """Does a function defined in ``cls`` (or a base class short of nn.Module) hold ``fname:line``?"""
    for klass in cls.__mro__:
        if klass in (nn.Module, object) or klass.__module__.startswith("torch."):
            continue
        for v in vars(klass).values():
            fn = getattr(v, "__func__", v)
            code = getattr(fn, "__code__", None)
            if code is None or os.path.basename(code.co_filename) != fname:
                continue
            lines = [ln for _, _, ln in code.co_lines() if ln is not None]
            if lines and code.co_firstlineno <= line <= max(lines):
                return True
    return False


def _act_from_input_range(m: dict[str, Any]) -> str | None:
    """The activation a layer's input went through, read from that input's range in an activation sample when
    no module or call of it was seen (``act = torch.sigmoid`` bound before the probe, then ``act(conv(x))``):
    every value strictly inside (0, 1) is a sigmoid's range (a ReLU's output holds exact zeros; the model's own
    input is not counted); strictly inside (-1, 1) with both signs, a tanh's. None when unsure."""
    if m.get("kind") != "layer" or m.get("is_model_input") != 0.0:
        return None
    lo, hi = m.get("min_in"), m.get("max_in")
    if not isinstance(lo, float) or not isinstance(hi, float) or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if 0.0 < lo and hi < 1.0:
        return "sigmoid"
    if -1.0 < lo < 0.0 < hi < 1.0:
        return "tanh"
    return None


def _main_act(f: Finding, observed: list[str] | None = None) -> str:
    acts = f.evidence.get("activation")
    if isinstance(acts, dict) and acts:
        a = str(next(iter(acts.values()))).lower()
        return "tanh" if "tanh" in a else "sigmoid" if "sigmoid" in a else "relu"
    if f.code == "dead-relu":
        return "relu"
    # what the activation probe saw the model apply (the most frequent saturating or ReLU-family kind)
    counts = {k: sum(1 for o in observed or [] if k in o) for k in ("tanh", "sigmoid", "relu")}
    if max(counts.values()) > 0:
        return max(counts, key=counts.get)
    text = " ".join(r.snippet for r in f.remedies if r.id == "init-for-activation")
    if "kaiming" in text:
        return "relu"
    if "tanh" in text:
        return "tanh"
    if "xavier" in text:
        return "sigmoid"
    return "relu"


def _remove_hooks_only(action: A.Action) -> None:
    """At close: a kept remedy's hooks go (nothing of nndoctor stays on the user's objects), but
    modules it swapped stay swapped and values it changed stay changed (the repaired model). What only its hooks
    used goes with them (``Action.on_close``: the inserted norms' parameters leave the optimizer)."""
    for h in action.handles:
        h.remove()
    action.handles.clear()
    action.on_close()


def _total_norm(tensors: list) -> float:
    """The 2-norm of all the tensors together (nan when one is non-finite, inf when it overflows)."""
    ts = [t for t in tensors if t.numel()]
    if not ts:
        return 0.0
    with torch.no_grad():
        return float(norms(ts).double().norm())


def _mad(x: np.ndarray) -> float:
    """Robust spread (median absolute deviation scaled to a normal's std)."""
    return float(1.4826 * _median(np.abs(x - _median(x)))) if len(x) else 0.0


def _stats(x: np.ndarray) -> dict[str, Any]:
    if not len(x):
        return {"n": 0}
    fin = x[np.isfinite(x)]
    out: dict[str, Any] = {"n": int(len(x))}
    if len(fin):
        out.update(median=float(f"{_median(fin):.4g}"), first=float(f"{fin[0]:.4g}"), last=float(f"{fin[-1]:.4g}"))
    if len(fin) < len(x):
        out["non_finite"] = int(len(x) - len(fin))
    return out
