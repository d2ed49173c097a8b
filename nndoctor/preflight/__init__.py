"""Pre-flight check-up: seconds of tests on copies of the model and optimizer that answer, before a
long run is wasted, whether the data, the loss, the initialization, the gradient flow, the learning
rate and the batch size are right.

    report = nndoctor.checkup(model, loader_or_batch, loss_fn, optimizer)

The user's model, optimizer, data and RNG states are left exactly as they were: everything runs on
deep copies inside a saved-and-restored RNG state. Parts:

1. data: NaN/Inf in inputs and targets, labels against the output size and the loss, class balance;
2. a few *watched* training steps on a copy, so the doctor's own rules judge the loss against the
   task (loss-mismatch, target-shape-mismatch), the signal through depth at initialization
   (poor-initialization), the inputs' scale (unnormalized-input), gradient flow
   (broken-gradient-flow, parameter-not-optimized), ...;
3. an LR range test (lrfinder.py) and the user's LR against it;
4. one-batch overfit: can the model drive the loss on one batch near zero?;
5. the batch-size finder (batchsize.py): the largest batch that fits, and a useful one.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import torch
from torch import nn

from ..diagnoses import get as get_diagnosis
from ..findings import Finding, Report
from .batchsize import BatchSizeResult, find_batch_size
from .data import CLASS_LOSSES, PROB_LOSSES, imbalance, label_stats, nonfinite, output_size
from .lrfinder import LRRangeResult, RaceResult, lr_race, lr_range_test, race_candidates, race_cost
from .sandbox import Batch, batches_from, call_model, copy_training, has_scheduler, preserved_rng, user_lr

__all__ = ["checkup", "lr_range_test", "lr_race", "find_batch_size", "LRRangeResult", "RaceResult", "BatchSizeResult",
           "Batch"]

LR_FAR = 100.0          # the user's LR two decades below the suggestion: "too low"
OVERFIT_RATIO = 0.1     # one batch: the loss must fall to a tenth of its start
OVERFIT_STEPS = 150     # per try (Adam at 1e-3, then 1e-2), fewer when a step is slow (see BUDGET_S)
# compute budgets for the parts that train: the number of steps is cut to fit from the FLOPs of one
# training step (counted by torch's FlopCounterMode: deterministic, so the verdicts do not depend on
# the machine's load), within floors that keep each test meaningful. 20 GFLOP is a few seconds on
# one CPU core; the whole check-up must answer in seconds (< 30 s on the clinic's CPU programs).
BUDGET_FLOPS = {"lr_range_test": 20e9, "overfit_one_batch": 20e9, "lr_race": 20e9, "batch_size": 20e9}
MIN_STEPS = {"lr_range_test": 40, "overfit_one_batch": 2 * 100, "lr_race": 0}
# the confirmation race: first-rung steps (the finalists train 3x as long). 50 makes the last rung
# 150 steps, the horizon of the benchmark's grid search; fewer when the FLOP budget says so, never
# under 10 (below that the held-out loss mostly measures the first steps' noise)
RACE_RUNG_STEPS, RACE_MIN_RUNG = 50, 10
SUPERVISED = set(CLASS_LOSSES) | set(PROB_LOSSES) | {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"}


def checkup(model: nn.Module, loader_or_batch: Any, loss_fn: Callable, optimizer: torch.optim.Optimizer | None = None,
            *, lr_test: bool = True, overfit: bool = True, batch_size: bool = True,
            memory_limit_bytes: int | None = None, max_batch: int = 4096, seed: int | None = 0,
            max_batches: int = 16, lr_steps: int = 100, watched_steps: bool = True,
            dataset_size: int | None = None) -> Report:
    """Run the check-up; returns a :class:`nndoctor.Report` (findings most severe first) whose
    ``checkup`` dict holds the measurements (LR range test, batch sizes, overfit, data, timings).

    ``loader_or_batch``: a DataLoader (or any iterable of batches; the first ``max_batches`` are
    used) or one batch ``(inputs, targets)``; inputs may be a tensor, a tuple (positional inputs) or
    a dict (keyword inputs). ``loss_fn(model(inputs), targets)`` must give the training loss.
    ``optimizer``: its class, param groups and hyperparameters are used on copies (None: Adam).
    ``dataset_size``: bounds the batch-size search when the loader's dataset length is not known
    (``len(loader.dataset)`` is used when there is one).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"nndoctor.checkup: expected a torch.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"nndoctor.checkup: expected a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not callable(loss_fn):
        raise TypeError("nndoctor.checkup: loss_fn must be callable as loss_fn(model(inputs), targets)")
    with preserved_rng(seed):
        return _Checkup(model, optimizer, loss_fn, memory_limit_bytes, max_batch, lr_steps).run(
            loader_or_batch, max_batches, lr_test, overfit, batch_size, watched_steps, dataset_size)


class _Checkup:
    def __init__(self, model, optimizer, loss_fn, memory_limit_bytes, max_batch, lr_steps):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.memory_limit_bytes, self.max_batch, self.lr_steps = memory_limit_bytes, max_batch, lr_steps
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.out: dict[str, Any] = {"timings_s": {}}
        self.loss_name: str | None = None
        self.loss_names: list[str | None] = []
        self.label_smoothing = 0.0   # cross-entropy's label smoothing (its floor is then above 0)
        self.steps = 0
        self.backward = 0
        self.step_flops = 0.0

    # ------------------------------------------------------------------ orchestration
    def run(self, data, max_batches, do_lr, do_overfit, do_batch, do_watch=True, dataset_size=None) -> Report:
        t_all = time.perf_counter()
        dev = next((p.device for p in self.model.parameters()), torch.device("cpu"))
        batches, n_data = batches_from(data, max_batches)
        n_data = n_data if n_data is not None else dataset_size
        self.batches = [b.to(dev) for b in batches]
        self.n_data = n_data
        self.out["data"] = {"batches": len(self.batches), "batch_size": self.batches[0].size, "dataset_size": n_data}
        finite = self._timed("data", self._data_finite)
        threads = torch.get_num_threads()
        try:
            if finite and dev.type == "cpu" and threads > 1 and (do_watch or do_lr or do_overfit or do_batch):
                self._timed("threads", self._pick_threads)
            trained = self._timed("watched_steps", self._watched_steps) if do_watch else False
            self._timed("labels", self._labels)
            if not finite:
                self.notes.append("the data holds NaN/Inf: the LR range test, the one-batch overfit and the "
                                  "batch-size finder were skipped")
            elif trained:
                if do_lr:
                    self._timed("lr_range_test", self._lr_test)
                if do_overfit:
                    self._timed("overfit_one_batch", self._overfit)
                if do_batch:
                    self._timed("batch_size", self._batch_size)
        finally:
            torch.set_num_threads(threads)
        self.out["timings_s"]["total"] = round(time.perf_counter() - t_all, 3)
        self.out["step_gflops"] = round(self.step_flops / 1e9, 4)
        for f in self.findings:
            f.evidence.setdefault("checkup", f.evidence.pop("_part", "watched steps"))
        return Report(findings=_dedupe(self.findings), steps=self.steps, backward_passes=self.backward,
                      notes=self.notes, internal_errors=self.errors, checkup=self.out)

    def _timed(self, name: str, fn: Callable) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        except Exception as e:  # one part failing must not take the others down
            self.errors.append(f"checkup {name}: {type(e).__name__}: {e}")
            return None
        finally:
            self.out["timings_s"][name] = round(time.perf_counter() - t0, 3)

    def _add(self, code: str, severity: str, summary: str, part: str, *, where=(), evidence=None,
             remedy_ids=None, context=None) -> None:
        f = get_diagnosis(code).finding(severity, summary, step=None, where=list(where),
                                        evidence={**(evidence or {}), "_part": part},
                                        remedy_ids=remedy_ids, context=context)
        self.findings.append(f)

    def _loss(self, model, b: Batch):
        out = call_model(model, b)
        return self.loss_fn(out, b.target) if b.target is not None else self.loss_fn(out)

    # ------------------------------------------------------------------ 1. data
    def _data_finite(self) -> bool:
        nf = nonfinite(self.batches)
        self.out["data"]["nonfinite"] = nf
        ok = True
        for part in ("inputs", "targets"):
            k, n = nf[part]["nonfinite"], nf[part]["values"]
            if k:
                ok = False
                self._add("non-finite", "error",
                          f"The {part} hold {k} NaN/Inf value(s) ({k / max(n, 1):.2%} of {n}) in the batches "
                          f"checked: every loss and gradient they touch becomes NaN.", "data",
                          where=[part], evidence={"origin": part, "nonfinite_values": k, "values": n},
                          remedy_ids=["check-data-finite"])
        return ok

    def _labels(self) -> None:
        with torch.no_grad():
            m = self._copy()[0]
            m.eval()
            n_out = output_size(call_model(m, self.batches[0]))
        shape = getattr(self, "loss_pred_shape", None)
        if shape:  # classes: dimension 1 of the loss's own input, e.g. logits.reshape(-1, vocab) of (B, T, vocab)
            n_out = int(shape[1]) if len(shape) >= 2 else 1
        d = label_stats(self.batches, self.loss_name, n_out)
        if d is None:
            return
        self.out["data"]["labels"] = d
        if d.get("out_of_range"):
            if self.loss_name in CLASS_LOSSES:
                self._add("loss-mismatch", "error",
                          f"Class labels run from {d['label_min']} to {d['label_max']}, but the model has {n_out} "
                          f"outputs (classes 0..{n_out - 1}): {d['out_of_range']} label(s) are out of range"
                          + (" -- 1-based labels?" if d["label_min"] >= 1 and d["label_max"] == n_out else "."),
                          "data", where=["targets"], evidence={k: d[k] for k in ("label_min", "label_max", "outputs",
                                                                             "out_of_range")},
                          remedy_ids=["cross-entropy"])
            else:
                self._add("loss-mismatch", "error",
                          f"{self.loss_name} needs targets in [0, 1], but they run from {d['label_min']:.4g} to "
                          f"{d['label_max']:.4g} ({d['out_of_range']} outside).", "data", where=["targets"],
                          evidence={k: d[k] for k in ("label_min", "label_max", "out_of_range")},
                          remedy_ids=["regression-loss", "bce-with-logits"])
        counts = d.get("class_counts")
        r = imbalance(counts) if counts else None
        if r is not None:
            d["imbalance"] = round(r, 2)
            if r >= 10:
                self.notes.append(f"class balance: the largest class is {r:.0f}x the smallest in the batches checked "
                                  f"({counts}); consider class weights or a balanced sampler")
        if n_out and self.loss_name in CLASS_LOSSES and counts and len(counts) < n_out and \
                sum(counts.values()) >= 20 * n_out:
            self.notes.append(f"labels take {len(counts)} distinct values in {sum(counts.values())} examples, "
                              f"but the model has {n_out} outputs")

    # ------------------------------------------------------------------ 2. watched steps
    def _copy(self):
        return copy_training(self.model, self.optimizer)

    def _watched_steps(self) -> bool:
        from ..doctor import Doctor

        m, o = self._copy()
        if o is None:
            o = torch.optim.Adam(m.parameters(), lr=1e-3)
            self.notes.append("no optimizer given: the watched steps used Adam(lr=1e-3)")
        n = self.batches[0].size
        steps = min(64, max(5, math.ceil(64 / max(n, 1))))
        m.train()
        doctor = Doctor(m, o, every=5)
        doctor.var_names = {"model": "model", "optimizer": "optimizer"}
        exc = None
        doctor.start()
        try:
            for i in range(steps):
                b = self.batches[i % len(self.batches)]
                o.zero_grad()
                loss = self._loss(m, b)
                loss.backward()
                o.step()
        except Exception as e:
            exc = e
        if exc is None:
            self.step_flops = self._step_flops()
        report = doctor.close(exc)
        calls = doctor.store.facts.get("loss_calls", {})
        if calls:
            self.loss_name = next(iter(calls.values())).get("fn")
            self.loss_names = [c.get("fn") for c in calls.values()]   # in the order the loss calls them
            self.label_smoothing = max(float(c.get("label_smoothing") or 0.0) for c in calls.values())
            if len(calls) == 1:  # the shape the loss saw (the script may reshape the model's output first)
                self.loss_pred_shape = next(iter(calls.values())).get("pred_shape")
        else:  # the loss raised before the doctor saw it (or is hand-written): the loss module's function
            self.loss_name = _LOSS_MODULES.get(type(self.loss_fn).__name__)
        self.steps, self.backward = report.steps, report.backward_passes
        self.errors += report.internal_errors
        for f in report.findings:
            f.evidence["_part"] = "watched steps"
            self.findings.append(f)
        self.out["watched_steps"] = {"steps": report.steps, "codes": report.codes}
        if exc is not None:
            msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
            self.out["watched_steps"]["raised"] = msg
            self.notes.append(f"a training step raised {msg}")
            return False
        return True

    def _step_flops(self) -> float:
        """FLOPs of one forward + backward on a copy: the unit of the compute budgets (0: unknown)."""
        try:
            from torch.utils.flop_counter import FlopCounterMode
        except ImportError:  # pragma: no cover - torch < 2.1
            return 0.0
        m, _ = self._copy()
        m.train()
        rnn: list[float] = []
        hooks = [mod.register_forward_hook(lambda mod, inp, out: rnn.append(rnn_flops(mod, inp)))
                 for mod in m.modules() if isinstance(mod, nn.RNNBase)]
        try:
            with FlopCounterMode(display=False) as fc:
                self._loss(m, self.batches[0]).backward()
            return float(fc.get_total_flops()) + 3 * sum(rnn)
        except Exception:
            return 0.0
        finally:
            for h in hooks:
                h.remove()

    def _pick_threads(self) -> None:
        """CPU: run the training parts with one intra-op thread when that is faster here and now (small
        models: the threads' synchronisation costs more than it saves, and on a busy machine OpenMP's
        waiting threads can make a step 10x slower). Measured, not guessed: the median of up to 5
        interleaved steps of a copy at each setting after a warm-up. Only the speed changes (the budgets fix the step counts);
        the user's setting is restored afterwards."""
        m, o = self._copy()
        m.train()
        opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.0)
        b = self.batches[0]

        def step() -> float:
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            self._loss(m, b).backward()
            opt.step()
            return time.perf_counter() - t0

        # interleaved (a load that changes meanwhile hits both settings alike), a warm-up each, then
        # up to 5 steps each, fewer when a step is slow (<= ~1 s in all)
        n = torch.get_num_threads()
        ts: dict[int, list[float]] = {n: [], 1: []}
        for k in (n, 1):
            torch.set_num_threads(k)
            step()
        t_start = time.perf_counter()
        while len(ts[1]) < 5 and (len(ts[1]) < 2 or time.perf_counter() - t_start < 1.0):
            for k in (n, 1):
                torch.set_num_threads(k)
                ts[k].append(step())
        t_n, t_1 = (sorted(v)[len(v) // 2] for v in (ts[n], ts[1]))
        torch.set_num_threads(1 if t_1 < t_n else n)
        self.out["threads"] = {"user": n, "used": torch.get_num_threads(), "step_ms": {n: round(t_n * 1e3, 2),
                                                                                       1: round(t_1 * 1e3, 2)}}

    # ------------------------------------------------------------------ 3. LR
    def _lr_test(self) -> None:
        m, o = self._copy()
        if isinstance(o, torch.optim.LBFGS):
            self.notes.append("LR range test skipped: LBFGS steps with a closure and a line search")
            return
        lr0 = user_lr(self.optimizer)
        # the sweep covers the user's LR (with half a decade to spare) so it can be judged
        end = max(10.0, 3 * lr0) if lr0 else 10.0
        r = lr_range_test(m, self.batches, self.loss_fn, o, num_steps=self._budget("lr_range_test", self.lr_steps),
                          end_lr=end, restore=False, seed=None)
        d = r.to_dict()
        d["user_lr"] = lr0
        d["optimizer"] = type(self.optimizer).__name__ if self.optimizer is not None else "Adam (default)"
        self.out["lr_range_test"] = d
        self.lr_result = r
        race = self._timed("lr_race", lambda: self._race(r, lr0))  # (its time is inside lr_range_test's too)
        if race is not None and race.winner is not None:
            d["suggested_lr_curve"] = r.suggestion
            d["suggested_lr"] = race.winner
            d["rules"]["race"] = race.winner
        if lr0 is None or r.suggestion is None or self.optimizer is None or lr0 <= 0:
            return
        if not r.conclusive and not r.progress:
            self.notes.append("LR range test: the loss did not fall beyond its own noise anywhere in the sweep "
                              f"({r.lrs[0]:.3g} to {r.lrs[-1]:.3g}): the suggestion is a guess and your LR is not judged")
        elif not r.conclusive:
            self.notes.append(f"LR range test: the loss was still falling at the end of the sweep ({r.lrs[-1]:.3g}): "
                              "no minimum, so the suggestion is a lower bound and your LR is not judged")
        # the verdicts below read the range test's curve (the race only refines the suggestion; the rules'
        # thresholds were set and checked on the curve), the value shown is the final suggestion
        final = race.winner if race is not None and race.winner is not None else r.suggestion
        sugg = _round_lr(final)
        ev = {"user_lr": lr0, "suggested_lr": sugg, "suggested_lr_curve": _round_lr(r.suggestion),
              "lr_min_loss": _round_lr(r.lr_min),
              "lr_diverged": _round_lr(r.lr_diverged) if r.lr_diverged else None, "sweep_steps": len(r.losses)}
        if race is not None and race.winner is not None:
            ev["race_winner"] = sugg
        how = "the range test and a short race on held-out batches suggest" if "race_winner" in ev else "the test suggests"
        if r.lr_diverged is not None and lr0 >= r.lr_diverged:
            self._add("learning-rate-too-high", "warning",
                      f"The learning rate {lr0:g} is at or above the LR at which the range test's loss blew up "
                      f"({r.lr_diverged:.3g}); {how} ~{sugg:g}.", "lr range test",
                      evidence=ev, context={"suggested_lr": sugg})
        elif lr0 * LR_FAR <= r.suggestion and r.conclusive and not has_scheduler(self.optimizer):
            self._add("learning-rate-too-low", "warning",
                      f"The learning rate {lr0:g} is {r.suggestion / lr0:.0f}x below the range test's suggestion "
                      f"(~{_round_lr(r.suggestion):g}; {how} ~{sugg:g}): training will crawl.", "lr range test",
                      evidence=ev, context={"suggested_lr": sugg})

    def _race(self, r: LRRangeResult, lr0: float | None) -> RaceResult | None:
        """The confirmation race around the range test's suggestion (lrfinder.lr_race), from the
        initial weights, judged on held-out batches of the user's own data; and the user's own LR run
        as long as the finalists, to compare with them."""
        cands = race_candidates(r)
        if len(cands) < 2:
            return None
        rung = RACE_RUNG_STEPS
        if self.step_flops > 0:
            # training steps plus the held-out evaluations (a forward: ~1/3 of a step, per rung)
            rung = min(rung, int(BUDGET_FLOPS["lr_race"] / self.step_flops / (race_cost(len(cands)) + 3)))
        if rung < RACE_MIN_RUNG:
            self.notes.append(f"LR race skipped: a training step costs {self.step_flops / 1e9:.2g} GFLOP, over the "
                              f"budget for {RACE_MIN_RUNG}-step rungs")
            return None
        m, o = self._copy()
        race = lr_race(m, self.batches, self.loss_fn, o, cands, first_rung_steps=rung, seed=None)
        self.out["lr_race"] = race.to_dict()
        if race.skipped:
            self.notes.append(f"LR race skipped: {race.skipped}")
        return race

    # ------------------------------------------------------------------ 4. overfit one batch
    def _budget(self, part: str, steps: int) -> int:
        if self.step_flops <= 0:
            return steps
        return max(MIN_STEPS[part], min(steps, int(BUDGET_FLOPS[part] / self.step_flops)))

    def _overfit(self) -> None:
        if self.loss_name is not None and self.loss_name not in SUPERVISED:
            self.notes.append(f"one-batch overfit skipped: {self.loss_name} is not a plain supervised loss")
            return
        if self.loss_name is None and not isinstance(self.loss_fn, nn.Module):
            self.notes.append("one-batch overfit skipped: the loss is hand-written (its floor is unknown)")
            return
        b = self.batches[0]
        if b.target is None:
            return
        if b.size > 64 and b.splittable():
            b = b.take(torch.arange(64))
        # each target with the loss that reads it: a loss of several calls (cross-entropy + a reconstruction
        # MSE) has a tuple of targets in the order of the calls; otherwise every target is the first loss's
        if isinstance(b.target, tuple) and len(self.loss_names) == len(b.target) > 1:
            pairs = [(name, t) for name, tt in zip(self.loss_names, b.target) for t in _tensors(tt)]
        else:
            pairs = [(self.loss_name, t) for t in _tensors(b.target)]
        entropy = [(name, t) for name, t in pairs if name in PROB_LOSSES or name in CLASS_LOSSES]
        # soft targets (a VAE's grey pixels under BCE, label distributions under cross-entropy): the
        # loss's floor is the targets' entropy, not 0, so "a tenth of the start" may be unreachable
        # (under 1% of soft values the floor is < 1% of ln 2 per value: far below that criterion). A
        # regression target in [0, 1] (pixels under MSE) has floor 0 and does not count.
        soft = [name for name, t in entropy if t.is_floating_point()
                and bool(((t > 0) & (t < 1)).float().mean() > 0.01)]
        if soft:
            self.notes.append("one-batch overfit skipped: soft targets (values strictly between 0 and 1): "
                              f"the {soft[0]} floor is their entropy, not 0")
            return
        n_params = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        n_targets = sum(t.numel() for t in _tensors(b.target))
        n_out = None
        floor = 0.0
        best_ratio, first, best, tries = math.inf, None, None, []
        # tries: Adam at 1e-3 and 1e-2, then (when those fail and the LR test ran) the user's own optimizer
        # at the check-up's suggested LR: a model whose inputs or outputs are scaled far from 1 may need
        # more than 150 Adam steps at 1e-2 to memorize, but it does at the LR measured for it
        tries_plan: list[tuple[str, float]] = [("Adam", 1e-3), ("Adam", 1e-2)]
        sugg = (self.out.get("lr_range_test") or {}).get("suggested_lr")
        if sugg and math.isfinite(sugg) and sugg > 0:
            tries_plan.append(("yours", float(sugg)))
        n_steps = self._budget("overfit_one_batch", 2 * OVERFIT_STEPS) // 2
        for kind, lr in tries_plan:
            m, o_user = self._copy()
            m.train()
            for mod in m.modules():  # dropout would forbid memorizing; BatchNorm stays in train mode
                if isinstance(mod, nn.modules.dropout._DropoutNd):
                    mod.eval()
            if kind == "Adam":
                opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=lr)
            else:
                from .sandbox import fresh_optimizer
                opt = fresh_optimizer(o_user, m, lr=lr)
            start = last = None
            for i in range(n_steps):
                opt.zero_grad(set_to_none=True)
                out = call_model(m, b)
                if n_out is None:
                    n_out = output_size(out)
                    floor = smoothing_floor(self.label_smoothing, n_out) if self.loss_name == "cross_entropy" else 0.0
                loss = self.loss_fn(out, b.target)
                v = float(loss.detach())
                if not math.isfinite(v):
                    break
                start = v if start is None else start
                last = v
                if v < 0:
                    break
                if start > floor and v - floor <= OVERFIT_RATIO * (start - floor) * 0.5:
                    break
                loss.backward()
                opt.step()
            if start is None or last is None:
                continue
            # with label smoothing the loss cannot fall below the smoothed targets' entropy: the progress
            # is measured above that floor
            ratio = (last - floor) / (start - floor) if start > floor else math.inf
            tries.append({"optimizer": kind, "lr": lr, "start": round(start, 6), "end": round(last, 6), "steps": i + 1})
            first = start if first is None else first
            if ratio < best_ratio:
                best_ratio, best = ratio, last
            if ratio <= OVERFIT_RATIO or last < 0:
                break
        cap = n_params >= n_targets * max(1, (n_out or 1) if self.loss_name in CLASS_LOSSES else 1)
        d = {"examples": b.size, "steps_per_try": n_steps, "start_loss": first, "best_loss": best, "ratio": _r(best_ratio),
             "passed": best_ratio <= OVERFIT_RATIO, "trainable_params": n_params, "capacity_to_memorize": cap,
             "tries": tries}
        self.out["overfit_one_batch"] = d
        if d["passed"] or first is None or (best is not None and best < 0):
            return
        specific = any(f.severity in ("error", "warning") for f in self.findings)
        # a reconstruction (the target is the input: an autoencoder) goes through the model's bottleneck,
        # which may bound how low the loss can go on a batch: not memorizing it is not evidence of a bug
        inputs = [t for t in _tensors(b.args) if t.is_floating_point()]
        recon = any(t.shape == x.shape and torch.equal(t, x) for t in _tensors(b.target) for x in inputs)
        severity = "error" if cap and not specific and not recon else "info"
        why = ("" if cap else " (the model has fewer parameters than values to memorize, so this may be its "
               "capacity, not a bug)") + (" (a reconstruction: the target is the input, and the model's "
                                          "bottleneck may bound the loss)" if recon else "") \
            + (" -- see the findings above first" if specific else "")
        self._add("loss-not-decreasing", severity,
                  f"The model cannot overfit one batch of {b.size} examples: the loss went from "
                  f"{first:.4g} only to {best:.4g} ({best_ratio:.0%} of its start) in {n_steps} steps at each "
                  f"of " + ", ".join(f"{t['optimizer']} lr {t['lr']:.3g}" for t in tries)
                  + f"; a correct model memorizes a batch{why}.", "one-batch overfit",
                  evidence={"examples": b.size, "start_loss": _r(first), "best_loss": _r(best),
                            "ratio": _r(best_ratio), "trainable_params": n_params},
                  remedy_ids=["overfit-one-batch", "check-labels"])

    # ------------------------------------------------------------------ 5. batch size
    def _batch_size(self) -> None:
        m, o = self._copy()
        ceiling = self.max_batch if self.n_data is None else max(1, min(self.max_batch, self.n_data))
        fpe = self.step_flops / max(self.batches[0].size, 1) if self.step_flops > 0 else None
        r = find_batch_size(m, self.batches[0], self.loss_fn, o, memory_limit_bytes=self.memory_limit_bytes,
                            max_batch=ceiling, noise_batches=self.batches,
                            flop_budget=BUDGET_FLOPS["batch_size"] if fpe else None, step_flops_per_example=fpe)
        if self.n_data is not None and r.limited_by == "search-bound" and ceiling == self.n_data:
            r.limited_by = "dataset"
        self.out["batch_size"] = r.to_dict() | {"user_batch": self.batches[0].size}
        self.notes += [f"batch-size finder: {n}" for n in r.notes]


def smoothing_floor(eps: float, classes: int | None) -> float:
    """The lowest cross-entropy with label smoothing ``eps`` over ``classes`` classes (hard labels):
    the entropy of the smoothed target, 1 - eps + eps/K on the label and eps/K on each other class."""
    if not (eps > 0) or not classes or classes < 2:
        return 0.0
    k = float(classes)
    hi, lo = 1 - eps + eps / k, eps / k
    return -(hi * math.log(hi) + (k - 1) * lo * math.log(lo))


def rnn_flops(mod: nn.RNNBase, inp: tuple) -> float:
    """Forward FLOPs of a torch RNN/LSTM/GRU call, which FlopCounterMode does not count (its fused
    kernels have no formula): per token, layer and direction, the gate matmuls 2 * gates * H * (I + H).
    Backward is counted as twice the forward by the caller (the usual 1:2 ratio)."""
    x = inp[0] if inp else None
    if isinstance(x, nn.utils.rnn.PackedSequence):
        tokens = x.data.shape[0]
    elif isinstance(x, torch.Tensor):
        tokens = x.shape[0] * x.shape[1] if x.ndim == 3 else x.shape[0]
    else:
        return 0.0
    gates = {"LSTM": 4, "GRU": 3}.get(mod.mode, 1)
    dirs = 2 if mod.bidirectional else 1
    h = mod.hidden_size
    total = 0.0
    for layer in range(mod.num_layers):
        i = mod.input_size if layer == 0 else (mod.proj_size or h) * dirs
        total += dirs * 2 * gates * h * (i + (mod.proj_size or h)) * tokens
    return float(total)


_LOSS_MODULES = {"CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss", "BCELoss": "binary_cross_entropy",
                 "BCEWithLogitsLoss": "binary_cross_entropy_with_logits", "MSELoss": "mse_loss", "L1Loss": "l1_loss",
                 "SmoothL1Loss": "smooth_l1_loss", "HuberLoss": "huber_loss"}


def _tensors(x):
    from .sandbox import tensors_of
    return list(tensors_of(x))


def _r(v):
    return None if v is None else (round(float(v), 6) if math.isfinite(v) else float(v))


def _round_lr(v: float | None) -> float | None:
    if v is None or not math.isfinite(v) or v <= 0:
        return v
    e = math.floor(math.log10(v))
    return round(v / 10 ** e, 1) * 10 ** e


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per (code, where), the most severe kept (the watched steps and the check-up's own
    tests may establish the same thing); a data check's finding replaces the watched steps' finding of
    the same code (it names the data; the watched run only saw the run fail)."""
    from_data = {f.code for f in findings if f.evidence.get("checkup") == "data"}
    findings = [f for f in findings if f.code not in from_data or f.evidence.get("checkup") == "data"]
    best: dict[tuple, Finding] = {}
    for f in findings:
        k = (f.code, tuple(f.where))
        if k not in best or f.rank < best[k].rank:
            best[k] = f
    return list(best.values())
