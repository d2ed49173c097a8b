"""The live operations of repair mode: each one changes the user's own objects in place.

The user's loop keeps calling ``optimizer.step()``, ``loss.backward()`` and ``zero_grad()`` on the
objects it holds, so a repair never replaces them: it mutates them or hooks into them.

* learning rate (lower, raise, warm up): one per-optimizer step pre-hook sets each group's ``lr`` to
  ``lr * factor`` for the duration of ``step()`` and a post-hook puts the group's value back. A
  scheduler the script drives keeps working (it reads and writes the unscaled value), whatever kind
  it is, and undoing is removing the hooks. The permanent fix names the value to write in the code.
* gradient clipping: a per-optimizer step pre-hook clips the norm of that optimizer's gradients
  before the update; with ``skip_nonfinite`` a step whose gradient holds NaN/Inf is skipped
  (gradients set to None, as AMP's GradScaler does), at the price of one host read per step.
* zero gradients the script forgot: a step post-hook calls ``optimizer.zero_grad()``.
* optimizer swap (SGD -> Adam): the optimizer object's ``__class__`` becomes ``Adam`` and its param
  groups get Adam's hyper-parameters in place (see ``SwapOptimizer`` for what is kept).
* missing parameters: appended to the optimizer's first param group (its hyper-parameters and schedule).
* re-initialization: the init matched to the activation that follows, in place on the same
  tensors (the optimizer state of those parameters is dropped: it described the old weights).
* activation swap: the activation module is replaced in its parent module (``nn.ReLU`` ->
  ``nn.LeakyReLU``); a functional one (``torch.sigmoid(self.fc1(x))``, ``F.relu``) is answered with the new one
  where it is called on a hidden layer's output, by a torch function mode entered for the model's forward
  (``_FunctionalSwap``); a compiled forward cannot be intercepted (report only).
* input standardization: a forward pre-hook on the first layer subtracts the per-feature mean and
  divides by the per-feature std measured by the activation probe on the training batches.
* non-finite inputs: a forward pre-hook on the model replaces NaN/Inf in floating inputs by 0.
* NaN made by the backward pass at an op with an infinite derivative (``sqrt`` at 0): hooks on that
  op's graph nodes, set before each backward pass, turn its 0 * inf products into 0.
* train mode: a forward pre-hook runs a pass with gradients on in ``train()`` mode, a forward hook
  gives the model back its own mode after the pass.

Every hook a repair installs is removed when the doctor closes; every hook body is guarded so an
error in it is recorded in the doctor's ``internal_errors`` and never raised into training.
"""
from __future__ import annotations

import math
import weakref
from collections import defaultdict
from typing import Any, Callable

import torch
from torch import nn

from ..probes.hooks import InertOnCopy
from ..remedies import SAFE_LOG_EPS


class CannotApply(Exception):
    """The remedy has no live form for this finding (e.g. a functional activation)."""


def _guarded(ctl, where: str, fn: Callable) -> Callable:
    """``fn`` as a hook that never raises into the user's loop, and that a deep copy or a pickle of the
    module or optimizer holding it turns into an inert hook (``InertOnCopy``): ``torch.save(model)`` and
    ``copy.deepcopy(model)`` keep working while a remedy is applied, and the copy carries no doctor."""
    def hook(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # never raise into the user's loop
            ctl.doctor._internal_error(f"repair {where}", exc)
            return None
    return InertOnCopy(hook)


class _ModuleHook:
    """A module hook a remedy put on the user's model, as a handle that can also be taken off and put back:
    ``torch.jit.script(model)`` compiles every module hook, and ours are Python it cannot compile, so
    while a script is compiled (``probes.tap`` wraps ``torch.jit.script``) the remedies' hooks step
    aside, as the doctor's own do (``suspend``/``resume``)."""

    def __init__(self, module: nn.Module, kind: str, fn: Callable, **kwargs: Any) -> None:
        self.module, self.kind, self.fn, self.kwargs = module, kind, fn, kwargs
        self.handle = getattr(module, kind)(fn, **kwargs)

    def remove(self) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None

    def suspend(self) -> None:
        self.remove()

    def resume(self) -> None:
        if self.handle is None:
            self.handle = getattr(self.module, self.kind)(self.fn, **self.kwargs)


def _sig(x: float) -> float:
    return float(f"{x:.2g}") if x and math.isfinite(x) else x


class Action:
    """One applied remedy. ``apply`` changes the live objects and returns what it did (details for
    the report); ``undo`` takes the change back (hooks removed, modules put back); state changes to
    tensors are taken back by the controller's rollback."""

    remedy = ""
    restarts = False   # the change resets part of what was learned: judged against the run's start
    loss_may_rise = False  # a correct fix may raise the training loss (dropout back on): the rule decides
    tolerates_nonfinite_loss = False  # NaN losses are expected while it works (skipped steps)
    # the function the model computes with it applied lasts only while its hooks do: kept to the end, the report says
    # that after close the model computes without it (on weights trained with it) until the code change is made
    hooks_carry_the_fix = False
    replay = 0   # steps a rollback before it undid back to where the finding was seen (set by the controller)

    def __init__(self, ctl, finding) -> None:
        self.ctl = ctl
        self.finding = finding
        self.handles: list[Any] = []
        self.context: dict[str, Any] = {}   # values for the permanent fix's snippet

    def apply(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def undo(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def note(self) -> str:
        return ""

    def suspend(self) -> None:
        """Step aside while ``torch.jit.script`` compiles (module hooks off, patched functions back)."""
        for h in self.handles:
            if hasattr(h, "suspend"):
                h.suspend()

    def resume(self) -> None:
        for h in self.handles:
            if hasattr(h, "resume"):
                h.resume()

    def inapplicable(self, steps: int, early: int) -> str | None:
        """After ``steps`` steps under test: why the remedy has found nothing to act on (it changed
        nothing, so its window would measure nothing), else None. Checked at every step: cheap."""
        return None

    def intercepted(self) -> int:
        """How many non-finite values the remedy met at their source and made finite (a log of 0, a 0 * inf):
        direct evidence that it acts on what makes a NaN. 0 for remedies that do not guard a source."""
        return 0

    def on_close(self) -> None:
        """The doctor closes with this remedy kept, its hooks already removed: take away what only they used."""

    def _lower_lr_with_it(self, lr_factor: tuple[float, str], out: dict[str, Any]) -> None:
        """The LR multiplied by ``lr_factor[0]`` for as long as this remedy is applied (a factor on every
        optimizer's LR control, taken back by ``_undo_lr``); what it did goes into ``out``."""
        f, why = lr_factor
        self.opts = self.ctl.target_optimizers(None)
        pre = _in_effect(self.ctl, self.opts)
        for o in self.opts:
            self.ctl.lr_control(o).factors[id(self)] = lambda n, f=f: f
        new = [_sig(_first_lr(o) * self.ctl.lr_control(o).factor()) for o in self.opts]
        self.context["suggested_lr"] = new[0] if new else None
        out.update(lr_before=[_first_lr(o) for o in self.opts], **pre, lr_after=new, lr_factor=_sig(f), lr_from=why)

    def _undo_lr(self) -> None:
        for o in getattr(self, "opts", ()):
            self.ctl.lr_control(o).factors.pop(id(self), None)
        self.opts = []


# ----------------------------------------------------------------------------- learning rate
class _Factors(dict):
    """An LR control's factors by action, with the (optimizer step, backward pass) each was set at."""

    def __init__(self, ctl, on_change: Callable[[], None]) -> None:
        super().__init__()
        self.ctl = ctl
        self.on_change = on_change     # a factor set or taken back
        self.at: dict[int, tuple[int, int]] = {}

    def __setitem__(self, key, fn) -> None:
        super().__setitem__(key, fn)
        d = self.ctl.doctor
        self.at[key] = (d.step, d.n_backward)
        self.on_change()

    def pop(self, key, *default):
        self.at.pop(key, None)
        had = key in self
        out = super().pop(key, *default)
        if had:
            self.on_change()
        return out


def _in_effect(ctl, opts) -> dict[str, Any]:
    """``lr_before`` is the script's LR; where factors repair set earlier act on it, the LR in effect before
    this action too (``lr_in_effect_before``), so that before, factor and after agree in the report."""
    facs = [ctl.lr_control(o).factor() for o in opts]
    if all(x == 1.0 for x in facs):
        return {}
    return {"lr_in_effect_before": [_sig(_first_lr(o) * x) for o, x in zip(opts, facs)]}


class LrControl:
    """One per optimizer: the product of the factors of every LR action applied to it, set for the
    duration of ``step()`` only (so several actions stack and each can be taken back alone)."""

    def __init__(self, ctl, opt) -> None:
        self.ctl = ctl
        self.factors: dict[int, Callable[[int], float]] = _Factors(ctl, self.publish)
        self.opt_ref = weakref.ref(opt)
        self.saved: list[float] | None = None
        self.n = 0
        self.handles = [opt.register_step_pre_hook(_guarded(ctl, "lr", self._pre)),
                        opt.register_step_post_hook(_guarded(ctl, "lr", self._post))]

    def publish(self) -> None:
        """The LR in effect changed (a factor set or taken back): the (optimizer step, backward pass) of the
        change goes to the store's facts, ``lr_changed_by_repair`` by optimizer key. The doctor's LR series
        holds the script's own LR (the factors act inside ``step()`` only), so a rule that judges the losses
        of one LR regime (learning-rate-too-low) learns there where the LR in effect last changed."""
        d = self.ctl.doctor
        opt = self.opt_ref()
        rec = self.ctl._rec(opt) if opt is not None else None
        if rec is not None:
            d.store.facts.setdefault("lr_changed_by_repair", {})[str(rec.key)] = [d.step, d.n_backward]

    def changed_at(self) -> tuple[int, int] | None:
        """(step, backward pass) when the latest factor in force was set: the LR in effect since (None: none)."""
        return max(self.factors.at.values(), default=None)

    def factor(self) -> float:
        f = 1.0
        for fn in self.factors.values():
            f *= fn(self.n)
        return f

    def _pre(self, opt, args, kwargs) -> None:
        self.n += 1
        f = self.factor()
        if f == 1.0:
            return
        self.saved = [g["lr"] for g in opt.param_groups]
        for g in opt.param_groups:
            lr = g["lr"]
            g["lr"] = lr * f if not isinstance(lr, torch.Tensor) else lr.mul(f)

    def _post(self, opt, args, kwargs) -> None:
        if self.saved is not None:
            for g, lr in zip(opt.param_groups, self.saved):
                g["lr"] = lr
            self.saved = None

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()


class ScaleLr(Action):
    """Lower or raise the learning rate by a measured factor (the rule's suggested LR / the LR)."""

    def __init__(self, ctl, finding, remedy: str, lo: float, hi: float, default: float) -> None:
        super().__init__(ctl, finding)
        self.remedy = remedy
        self.lo, self.hi, self.default = lo, hi, default

    def apply(self) -> dict[str, Any]:
        opts = self.ctl.target_optimizers(self.finding)
        if not opts:
            raise CannotApply("no optimizer to change")
        ev = self.finding.evidence
        lr = _first_lr(opts[0])
        sugg = ev.get("suggested_lr")
        measured = isinstance(sugg, (int, float)) and lr and lr > 0 and sugg > 0
        f = min(max(sugg / lr, self.lo), self.hi) if measured else self.default
        how = ("the rule's suggested LR (measured update/weight ratio)" if measured else
               f"a default factor of {self.default:g} (no measured suggestion)")
        since = self.ctl.lr_control(opts[0]).changed_at() if self.remedy == "raise-lr" else None
        if since is not None:
            # a raise on top of one kept: the rule's ratio is a median over the whole run, mostly the steps
            # before that raise (tiny updates), which would stack the first raise's factor again (Adam from
            # 1e-6 to its default 1e-3, then 100x more). The ratio is measured on the updates since instead
            f, how = self._fresh_factor(opts[0], since[0])
            lc = self.ctl.lr_control(opts[0])
            last = lc.factors[max(lc.factors.at, key=lc.factors.at.get)](lc.n) if lc.factors.at else 1.0
            if last > f and not isinstance(opts[0], _ADAPTIVE):
                # the finding is back on the raised LR's own losses (the rule judges the regime since the LR in
                # effect last changed): still the linear regime, so the last raise was not too large. The same
                # step once more is a geometric search for the LR the loss needs (a mean loss at an LR tuned for
                # a summed one is 64x short); a raise too far is taken back by the verdict. Not for an adaptive
                # optimizer, whose first raise may have been to its class's default LR (the step size it is
                # built around, not a measurement to repeat)
                f = min(last, self.hi)
                how += f"; at least the last raise's factor ({_sig(last)}), as the loss still crawls at the raised LR"
        if self.remedy == "raise-lr" and isinstance(opts[0], _ADAPTIVE) and lr and lr > 0:
            # an adaptive optimizer's step per element is ~lr whatever the gradient's scale, so the LR says
            # how far each step moves: its class's default (Adam 1e-3, RMSprop/Adagrad 1e-2, torch's values)
            # is the step size the method is built around, and an LR found too low and still below it is
            # raised at least to it (the verdict takes the raise back if the loss gets worse). The bound on a
            # raise (``hi``) limits how far a measurement is extrapolated; the default is no extrapolation
            # but the method's own reference step, so a raise to it is not bounded (Adadelta given Adam's
            # 1e-3 is 1000x below its 1.0: capped at 100x it stayed 10x short, and the next raise, from the
            # update/weight ratio alone, overshot to 3x the default)
            floor = _default_lr(type(opts[0]))
            eff = lr * self.ctl.lr_control(opts[0]).factor()   # the LR in effect, earlier raises included
            if floor is not None and eff > 0 and floor / eff > f:
                f = max(floor / eff, self.lo)
                how = (f"{type(opts[0]).__name__}'s default LR {floor:g}: an adaptive optimizer's step per "
                       f"element is ~lr, and the update/weight suggestion ({_sig(sugg) if measured else 'none'}) "
                       f"stays below the step size the method is built around")
        r = self.ctl.loss_growth() if self.remedy == "lower-lr" else None
        if r is not None:
            # a diverging loss measures the curvature along the direction that blows up: on a quadratic,
            # SGD at lr multiplies the error there by |1 - lr*lam| per step, the loss by r = that squared,
            # so lam = (1 + sqrt(r)) / lr; the LR 1/lam is the best step along it (half the stability limit)
            f = min(max(1 / (1 + math.sqrt(r)), self.lo), self.hi)
            how = (f"the loss's growth while it diverged ({r:.3g}x per step): 1/(1 + sqrt(growth)) of the LR, "
                   f"the step that suits the curvature that blew up")
        first = self._first_updates_cut(opts[0]) if self.remedy == "lower-lr" else None
        if first is not None and first[0] < f:
            f, how = first
        # no measurement behind the factor (the run gave nothing to measure it from: an explosion from the first
        # steps, no healthy gradient level yet): a stopgap, which the controller may replace by clipping at the
        # level the run shows under it (``RepairController._replace_unmeasured_cut``)
        self.unmeasured = how.startswith("a default factor")
        pre = _in_effect(self.ctl, opts)
        for o in opts:
            if self.remedy == "lower-lr" and f < 1:
                # the cut, and a ceiling: the LR in effect found too high is lr * (1/f) times what the verdict needs;
                # should the script raise its own LR later (a warmup still climbing, a cyclic upswing, a schedule
                # that runs away: a "x10 once" callback firing every epoch), the LR in effect stays at or under the
                # level this cut set, instead of climbing back with it; a script that lowers its LR is followed
                ceiling = _script_lr(o) * f
                self.ctl.lr_control(o).factors[id(self)] = lambda n, o=o, f=f, c=ceiling: _capped(o, f, c)
            else:
                self.ctl.lr_control(o).factors[id(self)] = lambda n, f=f: f
        self.opts = opts
        new = [_sig(_first_lr(o) * self.ctl.lr_control(o).factor()) for o in opts]   # with earlier factors
        self.context = {"suggested_lr": new[0]}
        return {"lr_before": [_first_lr(o) for o in opts], **pre, "lr_after": new, "factor": _sig(f), "from": how}

    def _first_updates_cut(self, opt) -> tuple[float, str] | None:
        """The run blew up from its first updates (``RepairController.early_blowup``: steps 1-5 moved the weight
        matrices by >= 10% of their norm and the loss at least tripled) in a feed-forward network: the factor that
        brings those updates' median ratio to CUT_TARGET (within this remedy's bounds). Those updates were
        taken from the initialization, before anything compounded, so their size is the LR's (and the gradient
        scale's: a summed loss multiplies it by the batch, 128x, where the loss's own growth, ~6x per step,
        asks for 1/3). Only in a layered network (two weight matrices or more), whose initialization sets the
        weights' scale for the signal to pass through the layers, the scale the 1e-3 rule of thumb is relative
        to: a single linear layer's weights start at an arbitrary scale, often ~0 (a linear regression on raw
        units moved its weights by 15x their norm: cut 100x, 7x past its stability limit). Not in a recurrent
        network, whose first updates already carry the explosion that backpropagation through time makes
        (clipping is its cure; cut to the healthy ratio, two IRNNs ended 8-11x worse than their twins). Only while
        repair mode has not changed the LR in effect: those updates measured the LR the run started with, and a
        cut already made on them would be made again. None otherwise."""
        from ..diagnoses.hyperparams import CUT_TARGET, EARLY_RATIO
        if self.ctl.lr_control(opt).changed_at() is not None:
            return None
        if self.finding.code not in ("learning-rate-too-high", "exploding-gradient") or self.ctl._recurrent() \
                or sum(1 for g in opt.param_groups for p in g["params"] if p.ndim >= 2) < 2 \
                or not self.ctl.early_blowup():
            return None
        rec = self.ctl._rec(opt)
        got = self.ctl.first_updates_ratio(rec) if rec is not None else None
        if got is None or not got[0] >= EARLY_RATIO:
            return None
        m, n = got
        return (min(max(CUT_TARGET / m, self.lo), self.hi),
                f"the first updates' size: they moved the weights by {_sig(m)} of their norm (median over {n} of "
                f"steps 1-5), the LR brought to the healthy ratio {CUT_TARGET:g}")

    def _fresh_factor(self, opt, step: int) -> tuple[float, str]:
        """The factor from the update/weight ratio of the sampled steps after ``step`` (two at least), by the
        rule's formula (SMALL_UPDATES / ratio, within this remedy's bounds: a raise aims where learning-rate-too-low
        no longer calls the updates small); the default factor without."""
        from ..diagnoses.hyperparams import SMALL_UPDATES, _weight_ratio
        rec = self.ctl._rec(opt)
        ctx, ov = self.ctl._view(rec) if rec is not None else (None, None)
        if ov is not None and len(ov.upd_steps):
            ratio, n = _weight_ratio(ctx, ov, ov.upd_steps > step)
            if n >= 2 and ratio > 0 and math.isfinite(ratio):
                return (min(max(SMALL_UPDATES / ratio, self.lo), self.hi),
                        f"the update/weight ratio since the LR was last set (step {step}): {_sig(ratio)} over {n} "
                        f"sampled steps, brought to {SMALL_UPDATES:g}")
        return self.default, f"a default factor of {self.default:g} (too few updates measured since step {step})"

    def undo(self) -> None:
        for o in getattr(self, "opts", []):
            self.ctl.lr_control(o).factors.pop(id(self), None)
        super().undo()


class Warmup(Action):
    """Warm the LR up linearly over ``steps`` steps from lr/100 (a warmup the script lacks)."""

    remedy = "warmup-scheduler"

    def apply(self) -> dict[str, Any]:
        opts = self.ctl.target_optimizers(self.finding)
        if not opts:
            raise CannotApply("no optimizer to change")
        steps = max(20, 5 * self.ctl.doctor.every)
        for o in opts:
            ctl = self.ctl.lr_control(o)
            start = ctl.n
            ctl.factors[id(self)] = lambda n, s=start: min(1.0, 0.01 + 0.99 * (n - s) / steps)
        self.opts = opts
        self.context = {"max_lr": _sig(_first_lr(opts[0]))}
        return {"warmup_steps": steps, "from_factor": 0.01}

    def undo(self) -> None:
        for o in getattr(self, "opts", []):
            self.ctl.lr_control(o).factors.pop(id(self), None)
        super().undo()


class HoldLr(Action):
    """The live form of "step the scheduler as often as it assumes": a schedule that has decayed the LR
    away (a per-epoch scheduler stepped per batch) keeps decaying whatever LR is set, so the decay is
    undone during each step instead: the LR in effect is held at the peak the schedule started from
    (``max_lr_seen``), and the scheduler keeps its own clock untouched (taking the remedy back leaves
    its schedule exactly as the script made it). How long an epoch is cannot be known from outside, so
    the live form holds the peak rather than guess a slower clock; the permanent fix is the code's."""

    remedy = "schedule-per-epoch"

    def apply(self) -> dict[str, Any]:
        opts = self.ctl.target_optimizers(self.finding)
        if not opts:
            raise CannotApply("no optimizer to change")
        peak = self.finding.evidence.get("max_lr_seen")
        if not isinstance(peak, (int, float)) or not peak > 0:
            raise CannotApply("no peak LR measured")
        for o in opts:
            self.ctl.lr_control(o).factors[id(self)] = lambda n, o=o: _to_peak(o, peak)
        self.opts = opts
        return {"lr_before": [_first_lr(o) for o in opts], "lr_held_at": _sig(peak),
                "how": "the LR in effect during step() raised back to the schedule's peak; the scheduler "
                       "is left stepping as the script steps it"}

    def undo(self) -> None:
        for o in getattr(self, "opts", []):
            self.ctl.lr_control(o).factors.pop(id(self), None)
        super().undo()


def _script_lr(opt) -> float:
    """The optimizer's largest group LR as the script has set it (the factors act inside ``step()`` only)."""
    return max((float(g["lr"]) for g in opt.param_groups), default=0.0)


def _to_peak(opt, peak: float) -> float:
    """The factor that brings the optimizer's largest group LR up to ``peak``: 1 when that LR is already at
    or above it, or is exactly 0 (a zero LR cannot be scaled up)."""
    cur = _script_lr(opt)
    return peak / cur if 0 < cur < peak else 1.0


def _capped(opt, f: float, ceiling: float) -> float:
    """``f``, or less: the factor that keeps the LR in effect (the script's LR times it) at or under ``ceiling``."""
    cur = _script_lr(opt)
    return min(f, ceiling / cur) if cur > 0 and ceiling > 0 else f


def _default_lr(cls) -> float | None:
    """The default ``lr`` of an optimizer class (read from a throw-away instance of this torch version)."""
    try:
        v = cls([torch.zeros(1, requires_grad=True)]).defaults.get("lr")
        return float(v) if isinstance(v, (int, float)) and v > 0 else None
    except Exception:
        return None


def _first_lr(opt) -> float:
    try:
        return float(opt.param_groups[0]["lr"])
    except (TypeError, ValueError, IndexError, KeyError):
        return float("nan")


# ----------------------------------------------------------------------------- optimizer swap
# optimizers that already scale each parameter's step by its gradient history: swapping to Adam
# would change nothing the remedy is about
_ADAPTIVE = tuple(getattr(torch.optim, n) for n in ("Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad",
                                                    "Adadelta", "RMSprop", "SparseAdam", "Adafactor")
                  if hasattr(torch.optim, n))
ADAM_LR = 1e-3   # torch's and the remedy snippet's default: Adam's step per element is ~lr, whatever the
# gradient's scale, so the LR that suited SGD says nothing about the one that suits Adam


class SwapOptimizer(Action):
    """Turn the user's plain SGD optimizer into Adam *in place* (remedy ``adaptive-optimizer``).

    The script holds a reference to its optimizer and keeps calling ``step()`` on it, so the object
    must stay the same: its ``__class__`` becomes ``torch.optim.Adam`` and each param group gets
    Adam's hyper-parameters (read from a throw-away ``Adam`` of this torch version, so every key
    ``Adam.step`` reads is there). Kept: the object and its hooks (nndoctor's and the user's), the
    param groups (same dicts, same order, so a scheduler's and the script's group indices stay
    valid), their parameters, ``weight_decay`` (coupled L2 in both), ``maximize``, any extra keys
    (``initial_lr`` of a scheduler, a user's ``name``) and the group's ``lr`` value as the script or
    its scheduler writes it. An LR scheduler's wrapper of ``step`` on the object (it holds the bound
    ``SGD.step``) is replaced by one that dispatches to the object's class; any other replacement of
    ``step`` on the object is not bypassed: the swap is then not applied. Not kept: SGD's momentum buffers. Adam's first moment with its bias
    correction assumes it starts at zero, and there is no second moment to pair with it, so Adam
    starts with empty state (as ``Adam(model.parameters())`` would). The LR Adam steps with is
    ``ADAM_LR`` times the script's LR schedule shape: it is set through the same per-step LR control
    as the other LR repairs (factor ``ADAM_LR / lr``), so a scheduler the script drives keeps
    shaping it. Undo puts the class, hyper-parameters and SGD state back."""

    remedy = "adaptive-optimizer"

    def apply(self) -> dict[str, Any]:
        opts = self.ctl.target_optimizers(self.finding)
        if not opts:
            raise CannotApply("no optimizer to change")
        opt = opts[0]
        if isinstance(opt, _ADAPTIVE):
            raise CannotApply(f"{type(opt).__name__} is already adaptive")
        if type(opt) is not torch.optim.SGD:
            raise CannotApply(f"only a plain torch.optim.SGD is swapped in place ({type(opt).__name__} may "
                              f"have its own logic)")
        lr = _first_lr(opt)
        if not (lr > 0):
            raise CannotApply("the optimizer's LR is not a positive number")
        inst_step = opt.__dict__.get("step")
        if inst_step is not None and not getattr(inst_step, "_wrapped_by_lr_sched", False):
            raise CannotApply("the optimizer's step() is replaced on the object by something else; a new "
                              "class would bypass it")
        probe = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=ADAM_LR)
        adam_defaults = {k: v for k, v in probe.defaults.items()}
        sgd_keys = set(opt.defaults)
        self.saved = (opt.__class__, dict(opt.defaults), [dict(g) for g in opt.param_groups], opt.state)
        self.opt = opt
        momentum = opt.param_groups[0].get("momentum", 0)
        for g in opt.param_groups:
            keep = {k: v for k, v in g.items() if k not in sgd_keys or k in ("params", "lr", "weight_decay",
                                                                              "maximize", "foreach")}
            g.clear()
            g.update({**adam_defaults, **keep})
        opt.defaults = {**adam_defaults, "lr": opt.defaults.get("lr", lr),
                        "weight_decay": opt.defaults.get("weight_decay", 0)}
        opt.state = defaultdict(dict)   # as Optimizer.__init__ makes it
        opt.__class__ = torch.optim.Adam
        opt._patch_step_function()   # Adam.step gets torch's hook wrapper if no Adam was built before
        self.inst_step = inst_step
        if inst_step is not None:
            # an LR scheduler wraps the *bound* SGD.step on the object (to notice that step() was
            # called): the same wrapper, dispatching to the object's class at each call
            import weakref
            ref = weakref.ref(opt)

            def step(*args, **kwargs):
                o = ref()
                o._opt_called = True
                return type(o).step(o, *args, **kwargs)
            step._wrapped_by_lr_sched = True
            opt.step = step
        f = ADAM_LR / lr
        self.ctl.lr_control(opt).factors[id(self)] = lambda n, f=f: f
        self.context = {"suggested_lr": ADAM_LR}
        return {"optimizer": self.ctl.opt_name(opt), "from": "SGD" + (f" (momentum {momentum:g})" if momentum else ""),
                "to": "Adam", "lr_after": ADAM_LR, "lr_factor": _sig(f),
                "kept": "the object, its hooks, param groups (params, weight_decay, maximize, extra keys)",
                "not_kept": "SGD momentum buffers (Adam starts with empty moments)"}

    def undo(self) -> None:
        opt = getattr(self, "opt", None)
        if opt is not None:
            cls, defaults, groups, state = self.saved
            opt.__class__ = cls
            opt.defaults = defaults
            for g, old in zip(opt.param_groups, groups):
                lr = g.get("lr", old.get("lr"))   # a scheduler may have moved it meanwhile
                g.clear()
                g.update(old)
                g["lr"] = lr
            opt.state = state
            if self.inst_step is not None:
                opt.step = self.inst_step
            self.ctl.lr_control(opt).factors.pop(id(self), None)
            self.opt = None
        super().undo()


# ----------------------------------------------------------------------------- gradients
class ClipGrad(Action):
    """Clip the gradient norm before each step at a measured level; skip non-finite steps.

    ``replaces``: a kept LR cut made with no measurement (``ScaleLr.unmeasured``: a recurrent net whose gradient
    exploded from its first steps, so there was no healthy level to clip to). Clipping is the cure for a recurrent
    net's explosion (Pascanu et al. 2013: backpropagation through time multiplies by the recurrent matrix at
    every time step; the LR is not its cause), and the cut's window has given the level to clip at: the median
    gradient norm over the steps under the cut, where the loss fell and the rule saw no explosion. The cut is
    taken back (the script's LR again) while the clip is applied, and put back, as it was, if the clip is."""

    remedy = "clip-grad-norm"
    tolerates_nonfinite_loss = True

    def __init__(self, ctl, finding, replaces: "ScaleLr | None" = None) -> None:
        super().__init__(ctl, finding)
        self.replaces = replaces
        self.taken_back: list[tuple[Any, Callable, tuple[int, int] | None]] = []

    def apply(self) -> dict[str, Any]:
        cut = self.replaces
        opts = list(getattr(cut, "opts", ())) if cut is not None else self.ctl.target_optimizers(self.finding)
        if not opts:
            raise CannotApply("no optimizer to change")
        if cut is None:
            max_norm, how = self.ctl.healthy_grad_norm(self.finding, opts[0])
        else:
            lc = self.ctl.lr_control(opts[0])
            since = lc.factors.at.get(id(cut))
            lvl = self.ctl.grad_level_since(opts[0], since[0]) if since is not None else None
            if lvl is None:
                raise CannotApply("too few finite gradient norms under the LR cut to clip at")
            max_norm, n = lvl
            how = (f"the median gradient norm over the {n} steps under the LR cut of step {since[0]}, which this "
                   f"clip replaces (the script's LR again)")
            for o in opts:
                lc = self.ctl.lr_control(o)
                fn = lc.factors.get(id(cut))
                if fn is not None:
                    at = lc.factors.at.get(id(cut))
                    lc.factors.pop(id(cut))
                    self.taken_back.append((lc, fn, at))
        self.max_norm = max_norm
        self.skipped = self.clipped = self.steps = 0
        for o in opts:
            self.handles.append(o.register_step_pre_hook(_guarded(self.ctl, "clip", self._pre)))
        self.context = {"max_norm": _sig(max_norm)}
        out = {"max_norm": _sig(max_norm), "max_norm_from": how, "skips_nonfinite_steps": True}
        if cut is not None:
            out["lr_cut_taken_back"] = [_sig(_first_lr(o) * self.ctl.lr_control(o).factor()) for o in opts]
        return out

    def undo(self) -> None:
        super().undo()
        for lc, fn, at in self.taken_back:   # the cut it replaced, back as it was (the step it was set at too)
            lc.factors[id(self.replaces)] = fn
            if at is not None:
                lc.factors.at[id(self.replaces)] = at
        self.taken_back = []

    def _pre(self, opt, args, kwargs) -> None:
        grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
        if not grads:
            return
        total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)).float())
        t = float(total)   # one host read per step, in repair mode only
        self.steps += 1
        if not math.isfinite(t):
            for g in opt.param_groups:
                for p in g["params"]:
                    p.grad = None          # the step leaves these parameters (and their state) alone
            self.skipped += 1
            return
        if t > self.max_norm:
            self.clipped += 1
            torch._foreach_mul_(grads, self.max_norm / (t + 1e-6))

    def note(self) -> str:
        n = getattr(self, "steps", 0)
        if not n:
            return ""
        return f"{self.clipped} of {n} steps clipped" + (f", {self.skipped} with non-finite gradients skipped"
                                                          if self.skipped else "")


# elementwise ops whose derivative is infinite (or 0/0) at a finite point of their domain: sqrt and
# fractional powers at 0, log at 0, 1/x and x/y at 0, acos/asin at +-1, atanh at +-1
SINGULAR_OPS = frozenset({"SqrtBackward0", "RsqrtBackward0", "PowBackward0", "PowBackward1", "LogBackward0",
                          "Log2Backward0", "Log10Backward0", "Log1pBackward0", "ReciprocalBackward0",
                          "DivBackward0", "AcosBackward0", "AsinBackward0", "AtanhBackward0"})
MAX_GRAPH_NODES = 100_000   # a graph walk stops here (one backward pass; the walk is per pass)


class FiniteBackward(Action):
    """The backward pass turns a finite, exactly-zero gradient into NaN at an op whose derivative is
    infinite where it is evaluated: ``sqrt(u)`` at ``u == 0`` (a distance of a point to itself),
    ``log(x)`` at 0, ``x / y`` at ``y == 0``. The chain rule multiplies the output's gradient, 0, by
    the local derivative, inf, and IEEE gives NaN, which then spreads to every parameter. The
    output there does not influence the loss (its gradient is 0), so its contribution to the input's
    gradient is 0: that is the limit of the usual code fix (``sqrt(u + eps)``: ``0 * 1/(2 sqrt(eps))
    = 0``) and the convention of a subgradient at a kink. This remedy applies exactly that, live:
    before each backward pass the loss's graph is walked and a hook on every node of such an op
    (``SINGULAR_OPS``, elementwise, so an input's gradient lines up with the output's) sets to 0 the
    input-gradient elements that are non-finite where the output's gradient is exactly 0. Nothing
    else is touched: a genuinely infinite gradient (a non-zero gradient through ``log(0)``) stays, and
    the verdict rolls the remedy back if the NaN does. No host read: the count of elements set to 0
    is a device tensor read once, for the report."""

    remedy = "safe-sqrt"

    def apply(self) -> dict[str, Any]:
        self.count = None
        self.ops: dict[str, int] = {}       # op name -> passes in which a node of it was hooked
        self.passes = 0
        self.ctl.backward_actions.append(self)
        self.handles.append(_Deregister(self.ctl.backward_actions, self))
        return {"how": "before each backward pass, a hook on every node of an op with an infinite derivative "
                       f"({', '.join(sorted({n.split('Backward')[0].lower() for n in SINGULAR_OPS}))}) "
                       "sets to 0 the non-finite input-gradient elements whose output gradient is exactly 0 "
                       "(0 * inf: the output does not reach the loss there)"}

    def on_backward_start(self, tensors) -> None:
        roots = [t for t in (tensors if isinstance(tensors, (list, tuple)) else [tensors])
                 if isinstance(t, torch.Tensor) and t.grad_fn is not None]
        if not roots:
            return
        self.passes += 1
        seen: set[int] = set()
        stack = [t.grad_fn for t in roots]
        hooked = set()
        while stack and len(seen) < MAX_GRAPH_NODES:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            name = type(node).__name__
            if name in SINGULAR_OPS:
                node.register_hook(_guarded(self.ctl, "finite backward", self._node_hook))
                hooked.add(name)
            for nxt, _ in node.next_functions:
                if nxt is not None and id(nxt) not in seen:
                    stack.append(nxt)
        for name in hooked:
            self.ops[name] = self.ops.get(name, 0) + 1

    def _node_hook(self, grad_inputs, grad_outputs):
        go = grad_outputs[0] if grad_outputs else None
        if go is None:
            return None
        out, changed = [], False
        zero = go == 0
        for gi in grad_inputs:
            if gi is None or gi.shape != go.shape:
                out.append(gi)
                continue
            bad = zero & ~torch.isfinite(gi)
            out.append(torch.where(bad, torch.zeros_like(gi), gi))
            n = bad.sum()
            self.count = n if self.count is None else self.count + n
            changed = True
        return tuple(out) if changed else None

    def inapplicable(self, steps: int, early: int) -> str | None:
        if self.passes and not self.ops:
            return ("no op with an infinite derivative (sqrt, log, div, pow...) is in the loss's graph: the NaN "
                    "has another cause")
        if steps == early and self.zeroed() == 0:   # one host read, at this step only
            return (f"no 0 * inf product in {self.passes} backward passes (ops hooked: {', '.join(sorted(self.ops))}): "
                    f"the NaN has another cause")
        return None

    def zeroed(self) -> int:
        return int(self.count) if getattr(self, "count", None) is not None else 0

    def intercepted(self) -> int:
        return self.zeroed()

    def note(self) -> str:
        if not getattr(self, "passes", 0):
            return ""
        ops = ", ".join(sorted(self.ops)) or "none in the graph"
        return (f"{self.zeroed()} gradient elements of 0 * inf set to 0 over {self.passes} backward passes "
                f"(ops hooked: {ops})")


class _FreeCtx:
    """The ``ctx`` a custom Function's ``forward`` gets when it runs with gradients recorded: what it saves for
    its own backward, and what it marks, is not needed (autograd records the forward's ops instead)."""

    def __init__(self, n_inputs: int) -> None:
        self.needs_input_grad = (True,) * n_inputs
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors

    def save_for_forward(self, *tensors) -> None:
        pass

    def mark_non_differentiable(self, *args) -> None:
        pass

    def mark_dirty(self, *args) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass


def _outputs(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for t in out if isinstance(t, torch.Tensor)]
    return []


class AutogradBackward(Action):
    """A NaN the backward pass makes from a finite loss, in a graph holding a custom ``torch.autograd.Function``:
    its backward is a formula written by hand, and a slip there (the forward's ``sqrt(|d|^2 + eps)`` recomputed
    in backward as ``d.norm()`` without the eps: 0/0 on the diagonal of a pairwise distance) makes NaN where
    the forward is finite. Built-in ops' derivatives match their forward; a hand-written one need not. The
    remedy makes the Function's ``apply`` run its own ``forward`` with gradients recorded (a free ``ctx``:
    what it saves or marks is not needed), so autograd derives the backward from the forward's ops -- the
    gradient the hand-written one was meant to compute. Only where that forward *is* differentiable: a call
    whose inputs require grad but whose output does not (numpy, ``no_grad``, ``detach`` inside: a straight-
    through estimator, whose hand-written backward is the only gradient there is) falls back to the original
    ``apply``, and the remedy says it cannot apply. The verdict judges it like any other: if the NaN stays, it
    is rolled back."""

    remedy = "autograd-backward"

    def apply(self) -> dict[str, Any]:
        funcs = dict(self.ctl.doctor._graph.get("functions") or {})
        if not funcs:
            raise CannotApply("no custom torch.autograd.Function in the loss's graph")
        self.calls = 0
        self.refused: list[str] = []
        for cls in funcs.values():
            self.handles.append(_Patched(cls, "apply", self._derived(cls)))
        self.names = sorted(c.__qualname__ for c in funcs.values())
        self.context["function"] = self.names[0]
        return {"functions": self.names,
                "how": "apply() runs the Function's own forward with gradients recorded: autograd's derivative "
                       "of the forward replaces the hand-written backward"}

    def _derived(self, cls) -> Callable:
        orig = cls.apply            # the bound classmethod (torch.autograd.Function.apply)
        own_setup = getattr(cls, "setup_context", None) is not getattr(
            torch.autograd.function._SingleLevelFunction, "setup_context", None)
        act = self

        def apply(*args, **kwargs):
            if not torch.is_grad_enabled() or cls.__qualname__ in act.refused:
                return orig(*args, **kwargs)
            try:
                out = cls.forward(*args, **kwargs) if own_setup else cls.forward(_FreeCtx(len(args)), *args, **kwargs)
            except Exception as exc:   # its forward needs the real ctx: the original, and the remedy says so
                act.refused.append(cls.__qualname__)
                act.ctl.doctor._internal_error(f"repair autograd-backward ({cls.__qualname__})", exc)
                return orig(*args, **kwargs)
            wants = any(isinstance(a, torch.Tensor) and a.requires_grad for a in args)
            if wants and not any(t.requires_grad for t in _outputs(out)):
                act.refused.append(cls.__qualname__)   # not differentiable by autograd: its backward is all there is
                return orig(*args, **kwargs)
            act.calls += 1
            return out
        return apply

    def inapplicable(self, steps: int, early: int) -> str | None:
        if getattr(self, "refused", None) and len(set(self.refused)) >= len(getattr(self, "names", ())):
            return (f"the forward of {', '.join(sorted(set(self.refused)))} is not differentiable by autograd (numpy, "
                    "no_grad or detach inside): its hand-written backward is the only gradient it has")
        if steps >= early and not self.calls:
            return "no call of the custom Function with gradients on since: the NaN has another cause"
        return None

    def note(self) -> str:
        n = getattr(self, "calls", 0)
        return f"{n} calls of {', '.join(self.names)} differentiated by autograd" if n else ""


LOG_FUNCTIONS = ("log", "log2", "log10")


class SafeLog(Action):
    """``log(0) = -inf`` in a hand-written loss (the log of a one-hot label, ``log(1 - sigmoid(z))``
    once the sigmoid rounds to 1) makes the loss infinite and its gradient NaN (``inf - inf``,
    ``0 * inf``) from finite model outputs. The live form of the code fix the report prints,
    ``torch.log(p.clamp_min(1e-7))`` (``remedies.SAFE_LOG_EPS``; the dtype's smallest normal number where
    that is larger, e.g. float16): while gradients are on, ``torch.log``/``log2``/``log10`` and the Tensor
    methods of those names take an input element in ``[0, eps)`` as ``eps``, so its log is finite (-16.1)
    and its gradient there 0 -- what the run will do once the printed fix is in the code. Every other
    element is untouched (the same result, bit for bit): a negative input still gives NaN, and under
    ``no_grad`` (the script's own evaluation and metrics) nothing changes. Undo puts the functions back
    (unless something else has replaced them since). For the first steps under test it counts the
    elements it changed (device tensors, read once): none changed means the NaN has another cause."""

    remedy = "safe-log"

    def apply(self) -> dict[str, Any]:
        self.count = None
        self.calls = 0
        self.counting = True
        for owner in (torch, torch.Tensor):
            for name in LOG_FUNCTIONS:
                orig = getattr(owner, name, None)
                if orig is not None:
                    self.handles.append(_Patched(owner, name, self._wrap(orig)))
        return {"how": f"while gradients are on, torch.log/log2/log10 (and the Tensor methods) take an input "
                       f"element in [0, {SAFE_LOG_EPS:g}) as {SAFE_LOG_EPS:g}, the printed fix's clamp (log(0) = -inf "
                       f"becomes {math.log(SAFE_LOG_EPS):.1f}, its gradient 0); every other element and every "
                       f"no_grad call is untouched"}

    def _wrap(self, orig: Callable) -> Callable:
        def safe_log(x, *args, **kwargs):
            if isinstance(x, torch.Tensor) and x.is_floating_point() and torch.is_grad_enabled():
                try:
                    eps = max(SAFE_LOG_EPS, torch.finfo(x.dtype).tiny)
                    low = (x >= 0) & (x < eps)
                    if self.counting:
                        self.calls += 1
                        n = low.sum()
                        self.count = n if self.count is None else self.count + n
                    x = torch.where(low, torch.full_like(x, eps), x)
                except Exception as exc:  # never raise into the user's loop: the plain log then
                    self.ctl.doctor._internal_error("repair safe log", exc)
            return orig(x, *args, **kwargs)
        safe_log.__wrapped__ = orig
        return safe_log

    def inapplicable(self, steps: int, early: int) -> str | None:
        if steps == early and self.counting:
            self.counting = False   # the count is for this check only: no cost after it
            self.n_changed = self.changed()   # one host read, at this step only
            self.n_steps_counted = steps
            if self.calls == 0:
                return "no log was taken with gradients on: the NaN has another cause"
            if self.n_changed == 0:
                return f"no log of 0 in {self.calls} log calls: the NaN has another cause"
        return None

    def changed(self) -> int:
        return int(self.count) if getattr(self, "count", None) is not None else 0

    def intercepted(self) -> int:
        # (counted over the first steps under test; the elements below eps include exact zeros, whose log is -inf)
        return getattr(self, "n_changed", None) or 0

    def note(self) -> str:
        n = getattr(self, "n_changed", None)
        if n is None:
            return ""
        return (f"{n} elements below {SAFE_LOG_EPS:g} (log(0) among them) clamped in {self.calls} log calls over "
                f"the first {self.n_steps_counted} steps")


class _Patched:
    """A handle (``remove()``) for an attribute replaced on a module or class: puts the original back
    (deleting it where it was inherited), unless something else has replaced ours since."""

    def __init__(self, owner: Any, name: str, new: Callable) -> None:
        self.owner, self.name, self.new = owner, name, new
        self.own = name in vars(owner)
        self.orig = vars(owner).get(name)
        setattr(owner, name, new)

    def remove(self) -> None:
        if vars(self.owner).get(self.name) is not self.new:
            return
        if self.own:
            setattr(self.owner, self.name, self.orig)
        else:
            delattr(self.owner, self.name)

    def suspend(self) -> None:
        self.remove()

    def resume(self) -> None:
        if vars(self.owner).get(self.name) is self.orig:   # (None, as orig, where it was inherited)
            setattr(self.owner, self.name, self.new)


class _Deregister:
    """A handle (``remove()``) that takes an action out of the controller's per-backward list."""

    def __init__(self, lst: list, item: Any) -> None:
        self.lst, self.item = lst, item

    def remove(self) -> None:
        if self.item in self.lst:
            self.lst.remove(self.item)


class SkipNonFinite(ClipGrad):
    """Skip every step whose gradients hold NaN/Inf (no clipping): what repair mode leaves in place after
    it gave up on a NaN the code makes, so the model stays at its last finite state."""

    remedy = "skip-nonfinite-steps"

    def apply(self) -> dict[str, Any]:
        opts = self.ctl.target_optimizers(None)
        if not opts:
            raise CannotApply("no optimizer to guard")
        self.max_norm = math.inf
        self.skipped = self.clipped = self.steps = 0
        for o in opts:
            self.handles.append(o.register_step_pre_hook(_guarded(self.ctl, "skip non-finite", self._pre)))
        return {"skips_nonfinite_steps": True, "optimizers": [self.ctl.opt_name(o) for o in opts]}

    def note(self) -> str:
        n = getattr(self, "steps", 0)
        return f"{self.skipped} of {n} steps skipped (non-finite gradients)" if n else ""


class ZeroGradAfterStep(Action):
    """The script never resets gradients: reset them after every step. The optimizer's state is dropped too:
    it was estimated from the running sums, not from gradients (Adam's second moment remembers their size for
    ~1/(1 - beta2) = 1000 steps and keeps every later step small; SGD's momentum buffer holds the sums;
    L-BFGS's curvature pairs were measured on them), so the optimizer starts afresh on the real gradients."""

    remedy = "zero-grad"

    def apply(self) -> dict[str, Any]:
        opts = self.ctl.target_optimizers(self.finding)
        if not opts and self.ctl.manual:
            return self._apply_manual()
        if not opts:
            raise CannotApply("no optimizer to change")
        closure = []
        self.dropped = []
        for o in opts:
            o.zero_grad(set_to_none=True)   # the sum accumulated so far is not a gradient
            if o.state:
                self.dropped.append(self.ctl.opt_name(o))
                o.state.clear()
            rec = self.ctl._rec(o)
            if rec is not None and rec.closure:
                # step(closure) (L-BFGS): the closure is evaluated many times inside one step, and each evaluation
                # adds its gradient to the last: the reset belongs at the top of the closure, not after the step
                self.handles.append(o.register_step_pre_hook(_guarded(self.ctl, "zero_grad", self._wrap_closure)))
                closure.append(self.ctl.opt_name(o))
            else:
                self.handles.append(o.register_step_post_hook(
                    _guarded(self.ctl, "zero_grad", lambda opt, a, k: opt.zero_grad(set_to_none=True))))
        if closure:
            self.snippet = ("def closure():\n    optimizer.zero_grad()      # first, at every evaluation\n"
                            "    loss = compute_loss()\n    loss.backward()\n    return loss")
        return {"optimizers": [self.ctl.opt_name(o) for o in opts],
                "how": ("optimizer.zero_grad() at the top of the closure, before each of its evaluations" if closure
                        else "optimizer.zero_grad() after every optimizer.step()"),
                "optimizer_state_dropped": self.dropped}

    @staticmethod
    def _wrap_closure(opt, args, kwargs):
        """A step pre-hook giving ``step`` a closure that zeroes the gradients before calling the script's."""
        # (torch passes the wrapped step's own arguments: the optimizer first, then the closure)
        if callable(kwargs.get("closure")):
            inner, at = kwargs["closure"], None
        else:
            at = next((i for i, a in enumerate(args) if a is not opt and callable(a)), None)
            if at is None:
                return None
            inner = args[at]

        def closure():
            opt.zero_grad(set_to_none=True)
            return inner()
        if at is None:
            return args, {**kwargs, "closure": closure}
        return (*args[:at], closure, *args[at + 1:]), kwargs


    def _apply_manual(self) -> dict[str, Any]:
        """Weights updated by hand (no optimizer): before each backward pass that follows an update (a weight's
        version counter moved since the previous pass began), the gradients are zeroed in place -- not set to
        None, which the script's ``p -= lr * p.grad`` would raise on. Backward passes with no update between
        them (accumulation by hand) keep adding up, as the script meant. Applied between a backward pass and
        the script's update, it zeroes the sum accumulated so far too: that update is skipped, not taken
        with the sum of all past gradients."""
        self.params = [p for p in self.ctl.doctor.table.params if p.requires_grad and not p.is_meta]
        if not self.params:
            raise CannotApply("no weights to reset the gradients of")
        self.zeroed = 0
        self._clear()
        self._versions = [p._version for p in self.params]
        self.ctl.backward_actions.append(self)
        self.handles.append(_Deregister(self.ctl.backward_actions, self))
        return {"weights": len(self.params),
                "how": "the weights' gradients zeroed before each backward pass that follows an update (no optimizer: "
                       "the script updates the weights by hand)"}

    def _clear(self) -> None:
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p.grad.zero_()

    def on_backward_start(self, tensors) -> None:
        now = [p._version for p in self.params]
        if now != self._versions:
            self._clear()
            self.zeroed += 1
        self._versions = now

    def note(self) -> str:
        n = getattr(self, "zeroed", None)
        return f"gradients zeroed before {n} backward passes" if n else ""


def _take_out(opt, params: list, groups: list[dict]) -> None:
    """Remove ``params`` a remedy put into ``opt`` (from ``groups``, in place), with their optimizer state."""
    ids = {id(p) for p in params}
    for g in groups:
        g["params"][:] = [p for p in g["params"] if id(p) not in ids]
    for p in params:
        opt.state.pop(p, None)


class AddParams(Action):
    """Put the parameters that get gradients but are in no optimizer into the optimizer."""

    remedy = "optimizer-all-params"

    @staticmethod
    def missing(ctl, finding) -> tuple[list[torch.Tensor], list[str]]:
        """The parameters the finding names (by module or name) that are trainable and in no live optimizer."""
        d = ctl.doctor
        where = set(finding.where)
        names = set(finding.evidence.get("parameters", []))
        in_opt = {id(p) for r in d._opts.values() if r.ref() is not None
                  for g in r.ref().param_groups for p in g["params"]}
        params, pnames = [], []
        for p, info in zip(d.table.params, d.table.info):
            if (info.module in where or info.name in names) and p.requires_grad and id(p) not in in_opt \
                    and p.is_leaf:
                params.append(p)
                pnames.append(info.name)
        return params, pnames

    def apply(self) -> dict[str, Any]:
        params, pnames = self.missing(self.ctl, self.finding)
        if not params:
            raise CannotApply("the parameters are no longer reachable")
        opts = self.ctl.target_optimizers(None)
        if not opts:
            raise CannotApply("no optimizer to add them to")
        # the optimizer stepping now: one of an earlier training job (a trainer's first run before a resume
        # that rebuilt the model) has stopped stepping, and parameters put there would never be updated
        opt = max(opts, key=self.ctl.last_step)
        if isinstance(opt, torch.optim.LBFGS):
            # (it keeps its own flat view of its one group's parameters, sized at its first step)
            raise CannotApply("L-BFGS takes one fixed set of parameters: the script must build it with all of them")
        # into the first param group, not a new one: an LR scheduler keeps one entry per group (base_lrs,
        # LambdaLR's lambdas...) and torch's own step() zips them with the groups strictly, so a group it was
        # not built with makes the script's next scheduler.step() raise. In the first group the parameters
        # take its hyper-parameters and follow its schedule, as they would had they been listed there.
        group = opt.param_groups[0]
        group["params"].extend(params)
        self.opt, self.group, self.added = opt, group, params
        return {"optimizer": self.ctl.opt_name(opt), "parameters": pnames[:20], "numel": sum(p.numel() for p in params),
                "lr": group.get("lr"), "param_group": 0}

    def undo(self) -> None:
        opt = getattr(self, "opt", None)
        if opt is not None:
            _take_out(opt, self.added, [self.group])
        super().undo()


# ----------------------------------------------------------------------------- model structure
# Glorot & Bengio (2010) derived Xavier's variance for tanh (gain 1): torch's calculate_gain("tanh") = 5/3 keeps the
# variance through deep tanh stacks but scales every layer up by 5/3. Measured on the clinic's pairs (poor init,
# saturation, vanishing): gain 1 ended 11 of 11 within 5% of their twins, gain 5/3 9 of 11 (a diabetes MLP at val
# MSE 0.69 against its twin's 0.57, a tanh MLP repaired to worse than unrepaired); the raw-matrix init (below) is
# gain 1 for the same reason
TANH_GAIN = 1.0
_INIT = {"relu": ("kaiming_normal_", 'torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")'),
         "tanh": ("xavier_tanh", 'torch.nn.init.xavier_uniform_(m.weight)'),
         "sigmoid": ("xavier", "torch.nn.init.xavier_uniform_(m.weight)"),
         "linear": ("xavier", "torch.nn.init.xavier_uniform_(m.weight)")}


def init_layer(m: nn.Module, act: str, fan_in: int | None = None) -> None:
    """Re-initialize a layer's weight for the activation after it (its bias to 0). ``fan_in``: for a layer
    written by hand, its weight is the 2-D parameter with a side of that width (stored (in, out) for
    ``x @ W`` or (out, in)); the fan-in is given because the layout cannot be read from the shape."""
    w = getattr(m, "weight", None)
    if fan_in and not (isinstance(w, torch.Tensor) and w.ndim >= 2):
        w = next((p for p in m.parameters(recurse=False) if p.ndim == 2 and fan_in in p.shape), None)
        if w is None:
            raise CannotApply(f"no weight matrix with a side of {fan_in} in {type(m).__name__}")
        with torch.no_grad():
            if act == "relu":
                w.normal_(0.0, (2.0 / fan_in) ** 0.5)     # He, by the fan-in (either layout)
            elif act == "tanh":    # Xavier is symmetric in fan-in and fan-out: the layout does not matter
                nn.init.xavier_uniform_(w, gain=TANH_GAIN)
            else:
                nn.init.xavier_uniform_(w)
        return   # (its 1-D parameters are left: which one is a bias cannot be told)
    with torch.no_grad():
        if isinstance(w, torch.Tensor) and w.ndim >= 2:
            if act == "relu":
                nn.init.kaiming_normal_(w, nonlinearity="relu")
            elif act == "tanh":
                nn.init.xavier_uniform_(w, gain=TANH_GAIN)
            else:
                nn.init.xavier_uniform_(w)
        elif hasattr(m, "reset_parameters"):
            m.reset_parameters()
        b = getattr(m, "bias", None)
        if isinstance(b, torch.Tensor):
            b.zero_()


class Reinit(Action):
    """Re-initialize layers with the init matched to the activation that follows them."""

    remedy = "init-for-activation"
    restarts = True

    def __init__(self, ctl, finding, scope: str, lr_factor: tuple[float, str] | None = None) -> None:
        super().__init__(ctl, finding)
        self.scope = scope   # "feeding": the layers feeding the finding's activations; "all": every layer
        self.lr_factor = lr_factor   # (factor, why): the LR lowered with the re-initialization (dead ReLUs)
        self.fallback_cut: tuple[float, str] | None = None   # the cut a retry takes if this one fares worse
        self.opts: list = []

    def apply(self) -> dict[str, Any]:
        layers = self.ctl.layers_for(self.finding, self.scope)
        if not layers:
            raw = self.ctl.raw_params_for(self.finding)
            if not raw:
                raise CannotApply("no Linear/Conv layer to re-initialize, and no raw weight matrix (2-D "
                                  "nn.Parameter) owned by the module whose code applies the activation")
            return self._apply_raw(raw)
        # the same init again would only throw away what was learned since (e.g. vanishing-gradient after
        # poor-initialization was repaired by re-initializing the same layers)
        for a in self.ctl.kept.values():
            done = {str(x).split(" (")[0] for x in (a.get("action") or {}).get("layers", [])}
            if a.get("remedy") == self.remedy and done and all(n in done for n, _, _ in layers):
                raise CannotApply(f"these layers were already re-initialized for their activation (the repair at "
                                  f"step {a.get('step')})")
        done = []
        custom = self.ctl.custom_layers()
        for name, m, act in layers:
            init_layer(m, act, custom.get(name))
            self.ctl.drop_optimizer_state(m.parameters())
            hand = custom.get(name) and not isinstance(getattr(m, "weight", None), torch.Tensor)
            done.append(f"{name} ({_INIT.get(act, _INIT['linear'])[0]}, {'weight matrix only' if hand else 'bias 0'})")
        act = layers[0][2]
        call = _INIT.get(act, _INIT["linear"])[1]
        self.context = {"init_call": call, "init_title": f"Initialize weights for the activation: {call.split('(')[0]}"}
        out: dict[str, Any] = {"layers": done[:20]}
        if self.lr_factor is not None:
            self._lower_lr_with_it(self.lr_factor, out)
        return out

    def undo(self) -> None:
        self._undo_lr()
        super().undo()

    def _apply_raw(self, raw: list[tuple[str, nn.Parameter]]) -> dict[str, Any]:
        """Raw weight matrices (``nn.Parameter(torch.randn(n_in, hidden))`` used as ``x @ W``) feeding a
        saturated activation applied in the same module's code: re-initialized (semi-)orthogonal with
        gain 1 (Saxe et al. 2014), i.e. every singular value 1. A raw matrix may multiply from either side
        (``x @ W`` or ``W @ x``), so its fan-in cannot be read from its shape; an isometry is right either
        way: it never amplifies the signal's norm (the cause of saturation) and, unlike a fan-in-scaled
        init with a gain > 1, not even when it is applied at every time step of a recurrence (Le et al.
        2015, Arjovsky et al. 2016: a recurrent matrix with singular values above 1 compounds them over
        the steps). 1-D parameters are left alone: a raw vector may be a bias or a gain, and which one
        cannot be told."""
        for a in self.ctl.kept.values():
            done = {str(x).split(" (")[0] for x in (a.get("action") or {}).get("parameters", [])}
            if a.get("remedy") == self.remedy and done and all(n in done for n, _ in raw):
                raise CannotApply(f"these parameters were already re-initialized (the repair at step {a.get('step')})")
        done = []
        with torch.no_grad():
            for name, p in raw:
                init_raw_matrix(p)
                self.ctl.drop_optimizer_state([p])
                done.append(f"{name} (orthogonal, gain 1)")
        self.params = [p for _, p in raw]
        lines = "\n".join(f"    torch.nn.init.orthogonal_({self.ctl.doctor._snippet_names().get('model', 'model')}.{n})"
                          for n, _ in raw[:4])
        self.snippet = ("# every singular value 1: the matrix neither amplifies nor shrinks what it multiplies\n"
                        f"with torch.no_grad():\n{lines}")
        return {"parameters": done[:20]}


def init_raw_matrix(p: torch.Tensor) -> None:
    """(Semi-)orthogonal with gain 1 in place: all min(shape) singular values 1 (``nn.init.orthogonal_``
    flattens dimensions after the first for a >2-D tensor)."""
    with torch.no_grad():
        nn.init.orthogonal_(p, gain=1.0)


class SwapActivation(Action):
    """Replace activation modules in their parent: ReLU -> LeakyReLU(0.01) (dead units), or a
    saturating Sigmoid/Tanh in a hidden layer -> ReLU with He-initialized layers (vanishing)."""

    restarts = True

    def __init__(self, ctl, finding, remedy: str, lr_factor: tuple[float, str] | None = None) -> None:
        super().__init__(ctl, finding)
        self.remedy = remedy
        self.swapped: list[tuple[nn.Module, str, nn.Module]] = []
        self.lr_factor = lr_factor   # (factor, why): the LR lowered with the swap (a retry: see the controller)
        self.opts: list = []
        self.reinit: list[str] = []  # the layers He-initialized with it (relu-family)

    def new_relus(self) -> list[str]:
        """The names of the ReLUs this swap put in (relu-family)."""
        return [self.ctl.doctor.table.module_names.get(id(getattr(parent, child)), child)
                for parent, child, _ in self.swapped] if self.remedy == "relu-family" else []

    def apply(self) -> dict[str, Any]:
        targets = self.ctl.activations_for(self.finding, self.remedy)
        if not targets:
            return self._apply_functional()
        d = self.ctl.doctor
        if d._act.armed:  # the activation sample in progress would hold hooks on the old modules
            d._collect_activations()
            d._act_left = 0
        done = []
        for name, parent, child, old in targets:
            new = nn.LeakyReLU(0.01) if self.remedy == "leaky-relu" else nn.ReLU()
            setattr(parent, child, new)
            self.swapped.append((parent, child, old))
            d.table.module_names[id(new)] = name
            d.table.module_types[name] = type(new).__name__
            done.append(f"{name}: {type(old).__name__} -> {type(new).__name__}")
        reinit = []
        if self.remedy == "relu-family":  # layers that fed the old activation now feed a ReLU
            for lname, m, _ in self.ctl.layers_before([t[0] for t in targets]):
                init_layer(m, "relu")
                self.ctl.drop_optimizer_state(m.parameters())
                reinit.append(lname)
        self.reinit = reinit
        self.context = {"activation": type(targets[0][3]).__name__, "where": ", ".join(t[0] for t in targets[:3])}
        out = {"swapped": done[:20], **({"reinitialized_he": reinit[:20]} if reinit else {})}
        if self.lr_factor is not None:
            self._lower_lr_with_it(self.lr_factor, out)
        return out

    def _apply_functional(self) -> dict[str, Any]:
        """The activation is a function called in ``forward()`` (``torch.sigmoid(self.fc1(x))``, ``F.relu``, or one
        held in a variable, ``act = torch.sigmoid``): no module to replace. It is swapped where it is applied to a
        hidden layer's output: forward hooks on those layers note their output tensors, and while the model's
        forward runs a ``TorchFunctionMode`` (``_FunctionalSwap``) answers a call of the old activation on one of
        those very tensors with the new one. Any other call of it is left alone: a gate computed from part of a
        layer's output (an LSTM's chunks), the output layer's sigmoid for a BCE loss, a sigmoid in the loss. The
        layers are He-initialized for a ReLU, as with modules. A forward that applies no such call within a
        quarter of the window (the early check) takes the remedy back as not applicable."""
        d = self.ctl.doctor
        roots = d._eager_roots()
        if not roots or len(roots) < len(d.table.roots):
            raise CannotApply("the activation is applied functionally in forward() (F.relu, torch.sigmoid), and the "
                              "model is compiled: its forward cannot be intercepted from outside: change the code")
        if d._act.armed:  # the activation sample in progress: what it saw tells which function follows a layer
            d._collect_activations()
            d._act_left = 0
        kinds = SATURATING if self.remedy == "relu-family" else ("relu",)
        layers = self.ctl.layers_for(self.finding, "all")
        found = [(n, m, act) for n, m, act in layers[:-1] if act in kinds and isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
        hidden = [(n, m) for n, m, _ in found]
        if not hidden:
            raise CannotApply("the activation is applied functionally in forward() (F.relu, torch.sigmoid), and no "
                              f"hidden Linear/Conv layer was seen to feed a {'/'.join(kinds)}: change the code")
        kinds = tuple(k for k in kinds if any(act == k for _, _, act in found))
        swap = self.functional = _FunctionalSwap(kinds, leaky=self.remedy == "leaky-relu")
        self.hooks_carry_the_fix = True
        for name, m in hidden:
            self.handles.append(_ModuleHook(m, "register_forward_hook",
                                            _guarded(self.ctl, "activation swap", swap.note_output)))
        for r in roots:
            self.handles.append(_ModuleHook(r, "register_forward_pre_hook", _guarded(self.ctl, "activation swap", swap.enter)))
            self.handles.append(_ModuleHook(r, "register_forward_hook", _guarded(self.ctl, "activation swap", swap.exit),
                                            always_call=True))
        reinit = []
        if self.remedy == "relu-family":
            for name, m in hidden:
                init_layer(m, "relu")
                self.ctl.drop_optimizer_state(m.parameters())
                reinit.append(name)
        self.reinit = reinit
        new = "LeakyReLU(0.01)" if self.remedy == "leaky-relu" else "ReLU"
        self.context = {"activation": "/".join(kinds), "where": ", ".join(n for n, _ in hidden[:3])}
        # the code change, in the functional form the code has (the catalogue's snippet replaces modules)
        was = "/".join(f"torch.{k}" for k in kinds)
        call = "torch.nn.functional.leaky_relu(layer(h), 0.01)" if swap.leaky else "torch.relu(layer(h))"
        self.functional_snippet = (f"# in forward(): {was} applied to a hidden layer's output becomes "
                                   f"{call.replace('layer(h)', 'z')}\n"
                                   f"# (not where it is a gate on part of an output, or the model's output)\n"
                                   f"h = {call}   # was torch.{kinds[0]}(layer(h)): {', '.join(n for n, _ in hidden[:3])}"
                                   f"{', ...' if len(hidden) > 3 else ''}")
        return {"swapped_functional": [f"{act} applied to the output of {n} -> {new}" for n, _, act in found[:20]],
                "how": "a torch function mode, while the model's forward runs, answers the old activation called on those "
                       "layers' outputs with the new one (the hooks come off when the doctor closes: the code change "
                       "below makes it permanent)",
                **({"reinitialized_he": reinit[:20]} if reinit else {})}

    def note(self) -> str:
        swap = getattr(self, "functional", None)
        if swap is None:
            return ""
        return f"{swap.hits} calls on the layers' outputs answered with {'a LeakyReLU' if swap.leaky else 'ReLU'}"

    def inapplicable(self, steps: int, early: int) -> str | None:
        swap = getattr(self, "functional", None)
        if swap is not None and steps >= early and swap.hits == 0:
            return ("no call of the activation on a hidden layer's output was seen in forward() (it is applied to "
                    "something else, e.g. part of a layer's output): change the code")
        return None

    def undo(self) -> None:
        self._undo_lr()
        for parent, child, old in reversed(self.swapped):
            setattr(parent, child, old)
        self.swapped.clear()
        super().undo()
        swap = getattr(self, "functional", None)
        if swap is not None:
            swap.close()


SATURATING = ("sigmoid", "tanh")


def _functions_of(kind: str) -> tuple:
    F = torch.nn.functional
    if kind == "relu":
        return (torch.relu, F.relu, torch.Tensor.relu), (torch.relu_, torch.Tensor.relu_)
    special = getattr(getattr(torch, "special", None), "expit", None) if kind == "sigmoid" else None
    out = [getattr(torch, kind), getattr(F, kind), getattr(torch.Tensor, kind)] + ([special] if special else [])
    return tuple(out), (getattr(torch, f"{kind}_", None), getattr(torch.Tensor, f"{kind}_"))


class _FunctionalSwap:
    """A swap of a functional activation (see ``SwapActivation._apply_functional``): the hidden layers' output
    tensors of the forward in progress (strong references, so an id is never a freed tensor's), and a torch
    function mode entered for the model's forward (nested forwards counted) that answers ``kinds``' functions
    called on one of them with a ReLU (or a LeakyReLU of slope 0.01, for dead units)."""

    def __init__(self, kinds: tuple[str, ...], leaky: bool) -> None:
        from torch.overrides import TorchFunctionMode

        funcs, inplace = [], []
        for k in kinds:
            f, i = _functions_of(k)
            funcs.extend(f)
            inplace.extend(x for x in i if x is not None)
        self.funcs, self.inplace = frozenset(funcs), frozenset(inplace)
        self.leaky = leaky
        self.outputs: dict[int, torch.Tensor] = {}
        self.depth = 0
        self.hits = 0
        swap = self

        class _Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                if args and (func in swap.funcs or func in swap.inplace) and len(args) == 1 and not kwargs:
                    x = args[0]
                    if isinstance(x, torch.Tensor) and swap.outputs.get(id(x)) is x:
                        swap.hits += 1
                        if func in swap.inplace:
                            return torch.nn.functional.leaky_relu_(x, 0.01) if swap.leaky else x.relu_()
                        return torch.nn.functional.leaky_relu(x, 0.01) if swap.leaky else torch.relu(x)
                return func(*args, **kwargs)

        self.mode = _Mode()

    def note_output(self, module, inputs, output) -> None:
        if self.depth and isinstance(output, torch.Tensor):
            self.outputs[id(output)] = output

    def enter(self, module, args) -> None:
        if self.depth == 0:
            self.mode.__enter__()
        self.depth += 1

    def exit(self, module, args, output) -> None:
        if self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            self.outputs.clear()
            self.mode.__exit__(None, None, None)

    def close(self) -> None:
        """(undo between forwards: nothing is entered; a forward that never returned is left as it was)"""
        self.outputs.clear()


class AddNormalization(Action):
    """Batch Normalization's cure for vanishing gradients (the guide: normalize each layer's input to steady the
    gradients), inserted live: after every hidden layer whose output feeds a saturating activation
    (sigmoid/tanh), a Batch Normalization of that output -- ``nn.BatchNorm1d(out_features)`` after a Linear,
    ``nn.BatchNorm{1,2,3}d(channels)`` after a Conv (per unit, over the batch and positions). Each pre-activation then
    has mean 0 and unit spread per example, the sigmoid works where its derivative is largest, and the
    backward factor per layer is about sigmoid'(z) * |W| / std(W x) ~ 0.2 / (the spread of the previous
    sigmoid's outputs, ~0.2) ~ 1, not ~0.25 * |W| compounded over the depth. Batch statistics in train(), the
    running ones in eval(), following the layer's mode. The norms live outside the user's module tree
    (its ``state_dict`` keeps its keys, so a checkpoint saved before the repair still loads), applied by a
    forward hook on each layer; their affine parameters join the optimizer's first param group. The output
    layer is left alone (its scale is the prediction's). Like every hook of repair mode, they come off when the
    doctor closes; the permanent fix puts the normalization into the code."""

    remedy = "add-normalization"
    hooks_carry_the_fix = True   # the function it gives the model lasts only while its hooks do (see Action)
    restarts = True   # it changes the function the layers compute: judged against the run's start
    # the layers above now see normalized inputs they were not fitted to: the loss of a net stuck near chance may sit
    # a little above its first values while the gradient, no longer vanishing, starts to train it. The rule decides:
    # kept when the finding cleared, rolled back otherwise
    loss_may_rise = True

    def apply(self) -> dict[str, Any]:
        layers = self.ctl.layers_for(self.finding, "all")
        if len(layers) < 3:
            raise CannotApply("fewer than two hidden layers: not a depth problem normalization addresses")
        hidden = [(n, m) for n, m, act in layers[:-1] if act in SATURATING
                  and isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
        if not hidden:
            raise CannotApply("no hidden Linear/Conv layer feeds a sigmoid or tanh")
        opts = self.ctl.target_optimizers(None)
        if not opts:
            raise CannotApply("no optimizer to train the normalization's parameters")
        self.opt, self.added = opts[0], []
        done = []
        for name, m in hidden:
            w = m.weight
            # per unit (a Linear's output feature, a Conv's channel), over the batch (and the positions): Batch
            # Normalization, as the guide names it. Per-example statistics did not do it: LayerNorm after each Linear
            # left a 10-layer sigmoid MLP at chance (0.27; BatchNorm1d: 0.96), GroupNorm(1, C) a 10-layer sigmoid
            # CNN (0.10; BatchNorm2d: 0.92) -- normalizing across a layer's units removes what tells them apart
            if isinstance(m, nn.Linear):
                norm: nn.Module = nn.BatchNorm1d(m.out_features, device=w.device, dtype=w.dtype)
                kind = f"BatchNorm1d({m.out_features})"
            else:
                bn = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}.get(len(m.kernel_size))
                if bn is None:
                    continue
                norm = bn(m.out_channels, device=w.device, dtype=w.dtype)
                kind = f"{bn.__name__}({m.out_channels})"
            self.handles.append(_ModuleHook(m, "register_forward_hook",
                                            _guarded(self.ctl, "normalization",
                                                     _normalizer(norm, last=isinstance(m, nn.Linear)))))
            self.added.extend(norm.parameters())
            done.append(f"{name} -> {kind}")
        self.opt.param_groups[0]["params"].extend(self.added)
        first = done[0].split(" -> ")[1]
        self.snippet = ("# a Batch Normalization between each hidden layer and its sigmoid/tanh, e.g.\n"
                        f"torch.nn.Sequential(layer, torch.nn.{first}, torch.nn.Sigmoid())")
        return {"layers": done[:20], "optimizer": self.ctl.opt_name(self.opt),
                "how": "a forward hook on each layer normalizes its output; the norms' affine parameters are "
                       "trained with the optimizer's first param group"}

    def on_close(self) -> None:
        # the norms are applied by hooks, which are gone: their parameters leave the optimizer too, so its param
        # groups are again the model's (a state_dict saved now loads into an optimizer built from model.parameters())
        self.undo()

    def undo(self) -> None:
        super().undo()
        opt = getattr(self, "opt", None)
        if opt is not None:
            _take_out(opt, self.added, opt.param_groups)
            self.opt = None


def _normalizer(norm: nn.Module, last: bool) -> Callable:
    """The forward hook applying ``norm`` to a layer's output: per feature on the last axis (``last``: a Linear's)
    or on axis 1 (a Conv's channels)."""

    def hook(module: nn.Module, inputs, output):
        if not isinstance(output, torch.Tensor) or output.ndim < 2 or not output.is_floating_point():
            return None
        if (output.shape[-1] if last else output.shape[1]) != norm.num_features:
            return None
        if module.training and output.numel() // norm.num_features < 2:
            return None   # (one value per unit: no batch statistics to normalize with)
        if norm.weight.device != output.device or norm.weight.dtype != output.dtype:
            norm.to(output.device, output.dtype)   # (the model was moved: the same Parameter objects follow)
        if norm.training != module.training:
            norm.train(module.training)   # batch statistics in train(), the running ones in eval(), as the model is
        if last:
            return norm(output.reshape(-1, norm.num_features)).reshape(output.shape)
        return norm(output)
    return hook


class StandardizeInput(Action):
    """Standardize what the first layer is fed with the per-feature mean/std measured on training
    batches (a forward pre-hook on that layer)."""

    remedy = "standardize-inputs"

    def apply(self) -> dict[str, Any]:
        name, layer, mean, std, dim = self.ctl.input_stats(self.finding)
        self.mean, self.std, self.dim = mean, std, dim
        self._cast: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
        # every gradient changes scale with the input (the first layer's directly, dL/dW = delta x^T; the
        # rest through the activations it feeds): the optimizer's moments describe the raw-input run (Adam's
        # second moment would hold the first layer's steps down for ~1/(1 - beta2) = 1000 steps), so the
        # optimizer starts afresh, as Reinit does for the layers it resets
        self.ctl.drop_optimizer_state(list(self.ctl.doctor.table.params))
        self.handles.append(_ModuleHook(layer, "register_forward_pre_hook",
                                         _guarded(self.ctl, "standardize", self._pre), prepend=True))
        return {"layer": name, "features": int(mean.numel()), "unit_dim": dim,
                "mean_range": [_sig(float(mean.min())), _sig(float(mean.max()))],
                "std_range": [_sig(float(std.min())), _sig(float(std.max()))]}

    def _pre(self, module, args):
        if not args or not isinstance(args[0], torch.Tensor):
            return None
        x = args[0]
        dim = self.dim if self.dim >= 0 else x.ndim + self.dim
        if x.ndim <= dim or x.shape[dim] != self.mean.numel():
            return None
        dt = x.dtype if x.is_floating_point() else torch.float32
        key = (x.device, dt, x.ndim, dim)
        ms = self._cast.get(key)
        if ms is None:   # (the mean and std shaped for this input, made once: this runs before every forward)
            shape = [1] * x.ndim
            shape[dim] = -1
            ms = self._cast[key] = (self.mean.to(x.device, dt).view(shape), self.std.to(x.device, dt).view(shape))
        return ((x.to(dt) - ms[0]) / ms[1],) + tuple(args[1:])


def _finite_args(module, args):
    """A forward pre-hook: the floating tensor arguments with NaN/Inf replaced by 0 (None: none to change)."""
    out, changed = [], False
    for a in args:
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            out.append(torch.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0))
            changed = True
        else:
            out.append(a)
    return tuple(out) if changed else None


class FiniteInputs(Action):
    """Replace NaN/Inf in the model's floating inputs by 0 (a forward pre-hook on the model)."""

    remedy = "check-data-finite"

    def apply(self) -> dict[str, Any]:
        for root in self.ctl.doctor.table.roots:
            self.handles.append(_ModuleHook(root, "register_forward_pre_hook",
                                             _guarded(self.ctl, "finite inputs", _finite_args), prepend=True))
        return {"how": "torch.nan_to_num(x, nan=0, posinf=0, neginf=0) on the model's floating inputs"}



class FiniteForward(Action):
    """Replace NaN/Inf entering the layer where a module's own forward code first made them (the
    finding's ``enters_module``) by 0: a forward pre-hook on that layer. For 0/0 on a constant
    feature (``(x - mean) / std``) it gives what an epsilon in the division gives, 0; the permanent
    fix is that epsilon (or a clamp) in the user's forward code."""

    remedy = "safe-forward"

    def apply(self) -> dict[str, Any]:
        name = self.finding.evidence.get("enters_module")
        d = self.ctl.doctor
        layer = next((m for r in d.table.roots for m in r.modules() if d.table.module_names.get(id(m)) == name),
                     None) if name else None
        if layer is None:
            raise CannotApply(f"no module named {name!r} to guard")
        self.handles.append(_ModuleHook(layer, "register_forward_pre_hook",
                                         _guarded(self.ctl, "finite forward", _finite_args), prepend=True))
        self.context = {"enters": name, "module": (self.finding.where or ["the model"])[0]}
        return {"layer": name, "how": f"torch.nan_to_num(x, nan=0, posinf=0, neginf=0) on what `{name}` is fed"}



_MODULE_TRAIN = nn.Module.train


class TrainMode(Action):
    """Run every forward pass that has gradients on in train() mode, and give the model back its
    mode after the pass: the training passes use dropout and batch statistics, while the user's own
    eval() (for validation under no_grad) keeps working as written."""

    remedy = "model-train"
    loss_may_rise = True   # dropout back on raises the training loss; the rule decides

    def apply(self) -> dict[str, Any]:
        self.switched = 0
        self._flipped: list[nn.Module] = []
        for root in self.ctl.doctor.table.roots:
            self.handles.append(_ModuleHook(root, "register_forward_pre_hook",
                                             _guarded(self.ctl, "train mode", self._pre), prepend=True))
            self.handles.append(_ModuleHook(root, "register_forward_hook",
                                             _guarded(self.ctl, "train mode", self._post), always_call=True))
        return {"how": "model.train() for each forward pass with gradients enabled; the model's own mode "
                       "is restored after the pass"}

    def _pre(self, module, args):
        if torch.is_grad_enabled() and not module.training:
            # the modules that were in eval mode, to restore exactly (a frozen-BN submodule stays eval)
            mods = list(module.modules())
            self._flipped = [m for m in mods if not m.training]
            if all(type(m).train is _MODULE_TRAIN for m in mods):
                # what Module.train() does to them, without its recursive walk and Module.__setattr__'s checks
                # (called before every training pass, that walk cost as much as a small model's forward)
                for m in self._flipped:
                    object.__setattr__(m, "training", True)
            else:
                module.train()   # a module with its own train() (e.g. one that keeps its BatchNorm frozen)
            self.switched += 1
        return None

    def _post(self, module, args, output):
        if self._flipped:
            for m in self._flipped:
                object.__setattr__(m, "training", False)
            self._flipped = []
        return None

    def note(self) -> str:
        return f"{self.switched} training passes run in train mode" if getattr(self, "switched", 0) else ""
