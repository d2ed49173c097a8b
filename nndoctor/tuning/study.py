"""``nndoctor tune``: grid, random or Bayesian (TPE) search on Optuna, with the doctor as a pruner.

Each trial runs the user's script, unmodified except for where it reads its hyperparameters
(``nndoctor.param("lr", 1e-3)``, or ``{lr}`` templates in its arguments), in a child process (from a
fork server where the OS has one: a crashing trial cannot take the study down), watched by a doctor:

* the doctor pruner: a finding of severity ``error`` (a diverging or non-finite loss, exploding
  gradients, a dead network...) ends the trial, pruned, its reason kept as the trial's user attribute
  ``pruned_reason``: a ``non-finite`` one at once, any other once the trial is of no use, its training
  loss neither still falling nor below the chance level (:func:`still_learning`, :mod:`.chance`);
* Optuna's pruners (``median``) get the intermediate values: the mean training loss of each window of
  ``report_every`` steps, or the values the script reports with ``nndoctor.report_metric``;
* the trial's value: the last ``nndoctor.report_metric(v)``; else the last validation loss the doctor
  recognized; else the mean training loss of the last window.

Storage: a local SQLite file by default; any Optuna storage URL (``postgresql://...``) lets several
machines work on one study (run ``nndoctor tune`` with the same ``--storage`` and ``--study-name``).
"""
from __future__ import annotations

import collections
import json
import math
import multiprocessing as mp
import os
import runpy
import sys
import time
import traceback
from statistics import median
from pathlib import Path
from typing import Any

from .space import Param

PRUNERS = ("doctor", "median", "doctor+median", "none")
SAMPLERS = ("grid", "random", "tpe")


def _robust_sd(xs: list) -> float:
    """The standard deviation of ``xs`` estimated from its median absolute deviation (x 1.4826, exact for a
    normal distribution): one loss spike in the window does not inflate it, as it inflates a plain
    standard deviation. Falls back on the plain one when more than half the values are equal (MAD 0)."""
    m = median(xs)
    mad = median([abs(v - m) for v in xs])
    if mad > 0:
        return 1.4826 * mad
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((v - mean) ** 2 for v in xs) / max(1, len(xs) - 1))


def _rank_z(older: list, recent: list) -> float:
    """The one-sided Mann-Whitney z of ``recent`` below ``older`` (normal approximation, no tie correction,
    which only makes it more cautious)."""
    n1, n2 = len(older), len(recent)
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in older for b in recent)
    return (u - n1 * n2 / 2) / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)


def _median_shift_z(older: list, recent: list) -> float:
    """How many standard errors the median of ``recent`` lies below the median of ``older`` (each median's
    standard error from its half's robust spread, :func:`_robust_sd`)."""
    se = math.sqrt(sum((1.2533 * _robust_sd(h)) ** 2 / len(h) for h in (older, recent)))
    d = median(older) - median(recent)
    return d / se if se > 0 else (math.inf if d > 0 else 0.0)


def _falling(older: list, recent: list) -> bool:
    """Whether the trial's loss is still coming down: the recent half of the window below the older half
    both by ranks (a one-sided Mann-Whitney test, z > 2) *and* in its typical value (the recent half's
    median below the older half's by more than two standard errors). Each alone is fooled by one shape:

    * ranks count pairs, so a fall that ended early in the older half (a blow-up falling back to chance
      in ~10 steps, then a plateau) still wins most pairs, and the trial counted as "falling" until the
      fall left the window (raw_breast_cancer's dead trials, pruned 20 steps late); the medians of the
      two halves, both on the plateau, do not move;
    * a median shift with a spread estimated from ~15 values (MAD) is a little liberal on pure noise
      (~4% of flat windows of 2 x 8 read as falling at z > 2, against ~2% for the rank test).

    A fall that is still going on moves both. Both tests are robust: a few spikes in either half move
    neither (ranks, medians, MAD)."""
    if len(older) < 2 or len(recent) < 2:
        return False
    return _rank_z(older, recent) > 2.0 and _median_shift_z(older, recent) > 2.0


def still_learning(losses, first=None, chance=None) -> bool:
    """Whether the trial is still of use, from its training losses (one per backward pass; ``losses`` the
    recent window, ``first`` the losses before its first update, ``chance`` the chance-level loss where
    it is known, :mod:`.chance`). It is of use when either

    * its loss is significantly **below the level it has to beat**: the chance level (the loss of the
      best constant predictor) where it is known, else where it started (the loss before any update, not
      the first window: a large step blows those losses up, and a plateau at chance then looks like
      progress); the median of the recent half of the window (the current level) or of the whole window
      (more power on a plateau), by two standard errors from its robust spread (the start, usually a
      single loss, carries that spread as well); or
    * its loss is **still falling** (the recent half of the window below the older half, in ranks and in
      its median, :func:`_falling`), on the losses capped at where the trial started: a fall back from a
      blow-up to the start is no progress, and a trial still above its start has learned nothing yet,
      wherever its loss is heading; and, once its loss has come down to the chance level (not
      significantly above it), capped at the chance level: a fall that ends at chance is the best
      constant being learned, which a dead network does as well.

    Medians and ranks, not means: a single spike in the window neither hides a plateau nor fakes a trend.
    A non-finite loss is not learning; too short a history (< 8) counts as learning (no evidence either
    way, and the pruner must not stop a trial on a guess)."""
    xs = list(losses)
    if any(not math.isfinite(v) for v in xs):
        return False
    if len(xs) < 8:
        return True
    h = len(xs) // 2
    recent, older = xs[-h:], xs[-2 * h:-h]
    first = [v for v in (first or []) if math.isfinite(v)]
    start = median(first) if first else None
    known = chance is not None and math.isfinite(chance)
    for part in (recent, xs):  # the current level, and the whole window (more power on a plateau)
        med, sd = median(part), _robust_sd(part)
        se_med = 1.2533 * sd / math.sqrt(len(part))  # the standard error of a median (normal data)
        if known:
            if med + 2.0 * se_med < chance:
                return True
        elif start is not None and med + 2.0 * math.sqrt(se_med ** 2 + sd ** 2 / len(first)) < start:
            return True
    # progress is counted from the start: a fall back from a blow-up is none; and once the loss has come
    # down to the chance level (the recent median not significantly above it), from the chance level: a
    # fall that ends at chance is the constant predictor being learned, which a dead network does too. A
    # loss still clearly above chance and falling may be on its way through it, and is counted from the start
    cap = start
    if known:
        med, sd = median(recent), _robust_sd(recent)
        if med - 2.0 * 1.2533 * sd / math.sqrt(len(recent)) <= chance:
            cap = chance if cap is None else min(cap, chance)
    if cap is not None:
        older, recent = [min(v, cap) for v in older], [min(v, cap) for v in recent]
    return _falling(older, recent)


def _prune_on(errors, recent_losses, first_losses=None, chance=None):
    """The error that prunes the trial now, or None. A non-finite loss or gradient prunes at once. Any
    other ``error`` (a dead or saturated network, a diverging LR...) prunes only a trial that is of no use
    (:func:`still_learning`): its loss neither below chance (or where it started) nor still falling. A
    diagnosis says the run is unhealthy, not that it will end worse than the others: a half-dead network
    whose loss went down can still win the study (it did, in the pruning benchmark, before this check)."""
    for f in errors:
        if f.code == "non-finite":
            return f
    return errors[0] if not still_learning(recent_losses, first_losses, chance) else None


def _optuna():
    try:
        import optuna
    except ImportError:  # pragma: no cover - depends on the environment
        raise SystemExit("nndoctor tune needs Optuna: pip install 'nndoctor[tune]'  (or: pip install optuna)")
    return optuna


# ----------------------------------------------------------------------------- the trial (child side)
class _Stop(BaseException):
    pass


def _trial_main(conn, script: str, args: list[str], params: dict, max_steps: int | None, report_every: int,
                doctor_prune: bool, quiet: bool, cwd: str | None = None, judge_every: int = 10,
                templated: tuple = (), inject: bool = True) -> None:
    """Runs in the child: the script under a doctor; talks to the parent over ``conn``."""
    if cwd:
        os.chdir(cwd)
    import torch

    from ..doctor import Doctor, _StopTraining
    from ..probes import tap
    from . import hparams as P
    from . import overrides
    from .chance import ChanceLevel

    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        sys.stdout = open(os.devnull, "w")
    P._current = dict(params)
    os.environ[P.ENV] = json.dumps(params)
    state = {"losses": [], "window": [], "metric": None, "metric_steps": 0, "pruned": None, "steps": 0,
             "reported_by_script": False, "recent": collections.deque(maxlen=4 * max(10, judge_every)), "first": [],
             "judged": 0}
    chance = ChanceLevel()  # the chance-level loss, from the training loss's targets (where it is known)

    def ask_prune(value: float, step: int) -> bool:
        conn.send(("report", value, step))
        return bool(conn.recv())

    def metric_sink(value: float, step: int | None) -> None:
        state["metric"] = value
        state["reported_by_script"] = True
        state["metric_steps"] += 1
        if ask_prune(value, step if step is not None else state["metric_steps"]):
            state["pruned"] = "median"
            state["pruned_step"] = state["steps"]
            raise _StopTraining()

    P._metric_sink = metric_sink

    class _LossTap(tap.Listener):  # a listener of probes.tap: the loss of each backward pass, as a float
        scaled = None  # (id of an AMP-scaled loss, the loss it scaled): the loss is read unscaled

        def _on_amp_scale(self, scaler, outputs, result):
            if isinstance(outputs, torch.Tensor) and isinstance(result, torch.Tensor):
                self.scaled = (id(result), outputs)

        def _on_backward_start(self, tensors):
            t = tensors[0] if isinstance(tensors, (list, tuple)) else tensors
            try:
                if self.scaled is not None:
                    if self.scaled[0] == id(t):
                        t = self.scaled[1]
                    self.scaled = None
                chance.on_backward(t)
                if t.numel() == 1:
                    v = float(t.detach())
                    state["window"].append(v)
                    state["recent"].append(v)
                    if state["steps"] == 0 and len(state["first"]) < 64:  # before the first update
                        state["first"].append(v)
            except Exception:
                pass

        def _on_loss(self, name, args, kwargs, result):
            try:
                chance.on_loss(name, args, kwargs, result)
            except Exception:
                pass

    # The trial's doctor judges at a fixed cadence (every ``judge_every`` steps: flush, rules, an
    # activation sample), not under the time budgets of an ordinary watch, so that an error is
    # established as soon as its evidence is in, not at the end of a short trial.
    doctor = Doctor(discover_models=True, every=judge_every, fixed_cadence=True)
    errors: list[Any] = []
    doctor.on_finding = lambda f: errors.append(f) if f.severity == "error" and doctor_prune else None
    applied: dict[str, str] = {n: "argument template" for n in templated}
    remove = overrides.install(params, lambda n: n in P._read or n in templated, applied) if inject else None

    def on_step(step: int) -> None:
        state["steps"] = step
        # judged when an error arrives, then at the doctor's cadence (not at every step: a test repeated at
        # every step would, sooner or later, find a noisy trial "not learning" by chance alone); while the
        # window is too short to judge (still_learning's 8 losses), at every step until it is not
        judge = errors and state["pruned"] is None and (max_steps is None or step < max_steps) and \
            (len(errors) > state["judged"] or step % judge_every == 0 or len(state["recent"]) <= 8)
        f = None
        if judge:
            state["judged"] = len(errors)
            f = _prune_on(errors, state["recent"], state["first"], chance.value())
        if f is not None:
            # an established error, as soon as the step it was established on ends (a trial at its last
            # step is let finish: pruning it would save nothing and lose its value)
            state["pruned"] = f"doctor: {f.code}: {f.summary}"
            state["pruned_step"] = step
            raise _StopTraining()
        if step % report_every == 0 and state["window"]:
            w = [v for v in state["window"] if math.isfinite(v)]
            state["losses"].append(sum(w) / len(w) if w else math.inf)
            state["window"] = []
            if not state["reported_by_script"] and ask_prune(state["losses"][-1], step):
                state["pruned"] = "median"
                state["pruned_step"] = step
                raise _StopTraining()
        if max_steps is not None and step >= max_steps:
            raise _StopTraining()

    doctor.add_step_callback(on_step)
    loss_tap = _LossTap()
    sys.argv = [script] + list(args)
    sys.path.insert(0, str(Path(script).resolve().parent))
    exc = None
    doctor.start()
    tap.attach(loss_tap)
    try:
        runpy.run_path(script, run_name="__main__")
    except _StopTraining:
        pass
    except SystemExit as e:
        if e.code not in (None, 0):
            exc = e
    except BaseException as e:
        exc = e
        traceback.print_exc(file=sys.stderr)
    finally:
        tap.detach(loss_tap)
        if remove is not None:
            remove()
        report = doctor.close(exc if isinstance(exc, Exception) else None)
    # An error established only when the run ended (at close, or at the last step) pruned nothing:
    # the trial ran all its steps and keeps its value; the diagnosis stays in its codes.
    diagnosed = [f"{f.code}: {f.summary}" for f in report.findings if f.severity == "error"]
    used = set(P._read) | set(applied)
    unused = [n for n in params if n not in used]
    value = state["metric"]
    source = "report_metric" if value is not None else None
    if value is None:
        val = sorted(k for k in doctor.store.series if k.startswith("val_loss/") and k in doctor.store)
        if val:
            s = doctor.store[val[0]]
            arr = s.array()
            if len(arr):
                value, source = float(arr[-1]), "validation loss"
    if value is None:
        w = [v for v in state["window"] if math.isfinite(v)]
        if w and len(w) >= max(1, report_every // 2):
            value, source = sum(w) / len(w), "training loss (last window)"
        elif state["losses"]:
            value, source = state["losses"][-1], "training loss (last window)"
    conn.send(("done", {"value": value, "source": source, "steps": max(state["steps"], doctor.step),
                        "pruned": state["pruned"], "pruned_step": state.get("pruned_step"), "codes": report.codes,
                        "diagnosed": diagnosed[:3], "applied": applied, "unused": unused,
                        "error": f"{type(exc).__name__}: {exc}" if exc is not None else None}))
    conn.close()


# ----------------------------------------------------------------------------- the study (parent side)
def _context():
    """Trials start from a fork server: a clean process that imported torch and nndoctor once and has
    run no torch op (forking a process whose OpenMP thread pool is running can deadlock the child),
    so each trial starts in milliseconds without inheriting the study's state. Spawn where there is
    no fork."""
    global _CTX
    if _CTX is None:
        if "forkserver" in mp.get_all_start_methods():
            _CTX = mp.get_context("forkserver")
            _CTX.set_forkserver_preload(["torch", "nndoctor", "nndoctor.tuning.study"])
        else:  # pragma: no cover - Windows
            _CTX = mp.get_context("spawn")
    return _CTX


_CTX = None


def _templated(args: list[str]) -> tuple:
    """The names used as ``{name}`` templates in the script's arguments."""
    import string

    names = []
    for a in args:
        if "{" in a:
            names += [f for _, f, _, _ in string.Formatter().parse(a) if f]
    return tuple(dict.fromkeys(names))


def _run_trial(trial, script, args, params, *, max_steps, report_every, doctor_prune, quiet, timeout,
               judge_every: int = 10, inject: bool = True) -> dict:
    ctx = _context()
    parent, child = ctx.Pipe()
    fmt_args = [a.format(**params) if "{" in a else a for a in args]
    p = ctx.Process(target=_trial_main, args=(child, str(Path(script).resolve()), fmt_args, params, max_steps,
                                             report_every, doctor_prune, quiet, os.getcwd(), judge_every,
                                             _templated(args), inject), daemon=True)
    p.start()
    child.close()
    result: dict | None = None
    t0 = time.time()
    try:
        while True:
            if timeout and time.time() - t0 > timeout:
                result = {"value": None, "pruned": None, "error": f"timed out after {timeout} s", "steps": 0}
                break
            if not parent.poll(0.2):
                if not p.is_alive() and not parent.poll(0):
                    break
                continue
            try:
                msg = parent.recv()
            except EOFError:
                break
            if msg[0] == "report":
                _, value, step = msg
                if math.isfinite(value):
                    trial.report(value, step)
                    parent.send(trial.should_prune())
                else:
                    parent.send(False)
            elif msg[0] == "done":
                result = msg[1]
                break
    finally:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
            p.join()
    if result is None:
        result = {"value": None, "pruned": None, "steps": 0,
                  "error": f"the trial's process ended with exit code {p.exitcode}"}
    return result


def _sampler(name: str, space: list[Param], seed: int | None, grid_points: int):
    optuna = _optuna()
    if name == "grid":
        return optuna.samplers.GridSampler({p.name: p.grid(grid_points) for p in space}, seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}")


def _pruner(name: str, report_every: int):
    optuna = _optuna()
    if name in ("median", "doctor+median"):
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=report_every)
    if name in ("doctor", "none"):
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner must be one of {', '.join(PRUNERS)}")


def tune(script: str, args: list[str] | None = None, space: list[Param] | list[str] | None = None, *,
         n_trials: int | None = None, sampler: str = "tpe", pruner: str = "doctor",
         storage: str | None = "sqlite:///nndoctor-tune.db", study_name: str | None = None,
         direction: str = "minimize", seed: int | None = 0, max_steps: int | None = None,
         report_every: int = 20, grid_points: int = 5, quiet: bool = True, timeout: float | None = None,
         verbose: bool = False, judge_every: int = 10, inject: bool = True):
    """Search ``space`` for ``script``; returns the Optuna study. See the module docstring."""
    from .space import parse_space

    optuna = _optuna()
    if not Path(script).exists():
        raise FileNotFoundError(f"nndoctor tune: no such script: {script}")
    if pruner not in PRUNERS:
        raise ValueError(f"pruner must be one of {', '.join(PRUNERS)}")
    space = parse_space(space) if space and isinstance(space[0], str) else list(space or [])
    if not space:
        raise ValueError("nndoctor tune: give at least one --param")
    if judge_every < 1 or report_every < 1:
        raise ValueError("judge_every and report_every must be >= 1")
    if sampler == "grid" and n_trials is None:
        n_trials = math.prod(len(p.grid(grid_points)) for p in space)
    n_trials = n_trials or 20
    if not verbose:
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials are in the summary
    study = optuna.create_study(storage=storage, study_name=study_name or Path(script).stem, direction=direction,
                                sampler=_sampler(sampler, space, seed, grid_points),
                                pruner=_pruner(pruner, report_every), load_if_exists=True)
    def objective(trial):
        params = {p.name: p.suggest(trial) for p in space}
        r = _run_trial(trial, str(script), list(args or []), params, max_steps=max_steps, report_every=report_every,
                       doctor_prune=pruner in ("doctor", "doctor+median"), quiet=quiet, timeout=timeout,
                       judge_every=judge_every, inject=inject)
        trial.set_user_attr("steps", int(r.get("steps") or 0))
        if r.get("applied"):
            trial.set_user_attr("applied", r["applied"])
        if r.get("unused"):
            trial.set_user_attr("unused_params", r["unused"])
        if r.get("diagnosed"):
            trial.set_user_attr("diagnosed", [d[:200] for d in r["diagnosed"]])
        if r.get("pruned_step") is not None:
            trial.set_user_attr("pruned_step", int(r["pruned_step"]))
        if r.get("codes"):
            trial.set_user_attr("codes", r["codes"])
        if r.get("source"):
            trial.set_user_attr("value_source", r["source"])
        if r.get("pruned"):
            trial.set_user_attr("pruned_reason", r["pruned"][:500])
            raise optuna.TrialPruned(r["pruned"][:200])
        if r.get("value") is None or not math.isfinite(r["value"]):
            msg = (r.get("error") or "no objective value (no loss seen)")[:500]
            trial.set_user_attr("error", msg)
            raise _TrialFailed(msg)
        if r.get("error"):
            trial.set_user_attr("error", r["error"][:500])
        return r["value"]

    study.optimize(objective, n_trials=n_trials, catch=(_TrialFailed,))
    return study


class _TrialFailed(Exception):
    """A trial that gave no usable value (crashed, or no finite objective): recorded as FAIL."""


def summary(study) -> str:
    """A plain-text table of the trials and the best one."""
    optuna = _optuna()
    lines = [f"study {study.study_name}: {len(study.trials)} trials"]
    steps = 0
    for t in study.trials:
        s = t.user_attrs.get("steps", 0)
        steps += s
        val = f"{t.value:.5g}" if t.value is not None else "-"
        why = t.user_attrs.get("pruned_reason") or t.user_attrs.get("error") or ""
        lines.append(f"  #{t.number:<3} {t.state.name:8} value {val:>10}  steps {s:>5}  {t.params}  {why[:90]}")
    lines.append(f"total trial-steps: {steps}")
    unused = sorted({n for t in study.trials for n in t.user_attrs.get("unused_params", [])})
    if unused:
        lines.append(f"warning: {', '.join(unused)} reached nothing in the script (not read with nndoctor.param, "
                     "not an {name} argument template, not an optimizer hyperparameter or a DataLoader's "
                     "batch_size): searching it wastes trials")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if done:
        b = study.best_trial
        lines.append(f"best: #{b.number} value {b.value:.5g} with {b.params}")
    return "\n".join(lines)
