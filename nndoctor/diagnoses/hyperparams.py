"""Hyperparameters (超参数优化): learning rate too high or too low, batch too small, out of memory.

The learning-rate rules combine the loss curve (per optimizer) with the update/weight ratio
||Δw||/||w|| of the weight matrices, sampled at the flush cadence, and the LR history.
"""
from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..findings import Finding
from ..messages import Msg
from . import Context, OptView
from .activations import DEAD_WARN, _dead_layers, check_dead_relu
from .activations import _samples as _act_samples
from .registry import Diagnosis, register, rule
from .stats import decades, mann_kendall_z, mann_whitney_z, median, robust_noise, row_nanmedian, segment_medians, sig4, thin

HEALTHY_RATIO = 1e-3     # update/weight per step: the usual rule of thumb (Karpathy, cs231n)
HIGH_RATIO = 1e-2        # a decade above it
ABOVE_INIT = 0.1         # share of late losses above the loss at initialization
CLIMB_Z = 2.58           # the last window's losses above the best window's, significant at 1% (Mann-Whitney)
CLIMB_FACTOR = 2.0       # ... with a median >= 2x the best window's: the model is clearly worse than it was
CLIMB_MIN_STEPS = 100    # ... windows of a tenth of the run hold >= 10 losses: a window's median is not one
                         # batch's luck, and the best of the ~10 windows is not picked from noise
EARLY_STEPS = 6          # losses (the first and five after updates) the first updates' blow-up is judged on
EARLY_RATIO = 0.1        # first updates moving weights by 10% of their norm: two decades above 1e-3
EARLY_JUMP = 3.0         # ... and the loss tripling: a step size that fits the loss surface lowers it
LOW_RATIO = 1e-4         # a decade below it
SMALL_UPDATES = 3e-3     # updates under 3x the usual ratio are small (the linear regime of a too-low LR)
# Measured (2026-11-28) on the clinic's 270 healthy programs, watched: the update/weight ratio this module's rules
# read (the median over the sampled steps of the weight matrices' median) over steps 6 to a third of the run is
# 2.9e-3 at the 10th percentile of their 263 optimizers, 8.0e-3 at the median (5.0e-3 - 1.3e-2 between the
# quartiles); over the run's middle third 9.3e-4 / 3.6e-3 / (2.1e-3 - 6.8e-3): updates shrink as runs go on.
# SMALL_UPDATES is where a healthy run's early updates rarely are, and where a mid-run's often are: a bar for
# "small" only together with the linear-regime test of learning-rate-too-low.
# The update size an LR cut aims at (the suggested LR of learning-rate-too-high, repair mode's cuts): the floor of the
# healthy band measured above, not the 1e-3 rule of thumb, which is under nine in ten healthy runs' early updates
# (a run cut to it trains 3-8x slower than healthy runs do). SMALL_UPDATES is where learning-rate-too-low begins to
# call updates small: a cut lands where neither LR rule fires, 3x under HIGH_RATIO, and a raise aims at the same level
# A deep network is held to one more bound: what kills units and throws a net off its path is how far an update
# moves the network as a whole (the layers' ratios in quadrature, ``_network_ratio``: sqrt(L) times the median
# layer's for L layers moved alike), and a cut leaves that under HIGH_RATIO, the bar of oversized updates, as well
# (``cut_factor``). It binds from 12 weight matrices moved alike on: a 12-layer ReLU net at 3e-3 a layer moves by 1.04e-2.
CUT_TARGET = SMALL_UPDATES
# learning-rate-too-low, decayed away: a schedule that has held the LR below 1e-3 of its maximum for at least half
# of the run. Three decades turn the usual update/weight ratio of 1e-3 into 1e-6, two decades under LOW_RATIO: no
# learning. Normal schedules never spend half a run there: the classic step recipe ends at 1e-2 of the maximum
# (0.1 -> 0.01 -> 0.001 over thirds), cosine / linear / one-cycle decays reach 1e-3 of it only in their last few %.
DECAYED_FLOOR = 1e-3
DECAYED_SHARE = 0.5
# the LR at least doubled between two of its samples: a new regime (a raise by the script or by repair mode, a
# restart of a cyclic schedule). A warmup's smooth ramp doubles between samples only at its very start (from
# the sample at step 20 to the one at step 40 for a linear ramp), so its regime is the ramp's bulk and plateau
LR_JUMP = 2.0
NOISE_FACTOR = 10.0      # gradient noise scale >= 10x the batch
BN_MIN_VALUES = 9        # BatchNorm variance from < 9 values has a relative std error > 50%
BN_HARM_VALUES = 5       # ... and from < 5, BatchNorm measurably hurts (Wu & He 2018): a warning below it
# found earlier in an evaluation, these explain small updates better than the LR does
EXPLAINS_SMALL_UPDATES = {"vanishing-gradient", "poor-initialization", "dead-relu", "saturated-activation",
                          "optimizer-step-missing", "broken-gradient-flow", "loss-mismatch", "non-finite"}
SMALL_BATCH = 8          # the guide's common batch sizes start at 32; a quarter of that is "tiny"

LR_HIGH = register(Diagnosis(
    code="learning-rate-too-high",
    title="The learning rate is too high: the loss diverges or oscillates without progress",
    family="lr",
    guide="学习率过高 → 震荡/发散",
    what="The loss climbs far above its best value, or bounces around without getting below where it "
         "started, while every update moves the weights by a large fraction of their size.",
    why="A step larger than the loss surface's curvature allows overshoots the minimum; each step "
        "lands higher than the last (divergence) or on the other side of the valley (oscillation).",
    evidence=("loss at start, best and end (medians)", "loss noise vs progress", "update/weight ratio of the "
              "weight matrices", "the LR in effect", "suggested LR"),
    remedies=("lower-lr", "warmup-scheduler", "clip-grad-norm", "adaptive-optimizer", "lr-range-test"),
    traps=("LR warmup: the ratio is judged on the steps after the LR's peak as well",
           "GANs and RL: several optimizers, or losses that take negative values, are not expected to fall",
           "the first steps: the start level is the median of the first 10% of the run, not step 0"),
    thresholds=("divergence: the smoothed loss ends >= 1 decade above its best and above its start",
                f"oscillation: the last half makes no significant progress (Mann-Kendall z > -1.96) and either ends "
                f"above its start with a median update/weight ratio >= {HIGH_RATIO:g} (a decade above the usual "
                f"{HEALTHY_RATIO:g} per step), or >= {ABOVE_INIT:.0%} of its batches have a loss 1.5x above the "
                f"untrained model's: steps that make the model clearly worse than no training at all (not with "
                f"updates under {SMALL_UPDATES:g} of the weights: with steps that small such batches "
                f"are the loss's noise)",
                f"climbing back (runs of >= {CLIMB_MIN_STEPS} steps, so a tenth holds >= 10 losses): with no "
                f"significant progress over the last half, the losses of the last tenth of "
                f"the run lie above those of its best tenth (Mann-Whitney z >= {CLIMB_Z:g}, significant at 1%) with a "
                f"median >= {CLIMB_FACTOR:g}x as high, while the median update/weight ratio is >= {HIGH_RATIO:g}: a "
                "model made clearly worse by steps a decade above the usual size (a loss that rises under "
                "normal-sized steps, e.g. a curriculum or a KL weight ramping up, is not blamed on the LR)",
                f"early blow-up: the first updates move the weights by >= {EARLY_RATIO:g} of their norm (two decades "
                f"above {HEALTHY_RATIO:g}) and the loss at least triples within them ({EARLY_JUMP:g}x its value at "
                "initialization): a step size that fits the loss surface lowers the loss. It rests on steps 1-5 "
                f"alone, so it is judged from the {EARLY_STEPS}th loss on (the other tests need >= 30 steps): the "
                "verdict is the same then as at step 30, and a run whose first steps move the weights by 40% has "
                "lost its ReLUs by then",
                f"units killed by the step: ReLU units alive at the first activation sample die during training "
                f"(dead-relu established as a warning or error, each dead layer below {DEAD_WARN:.0%} dead at the first "
                f"sample, dead from a later one) "
                f"while the steps up to their death move the network by >= {HIGH_RATIO:g} of its weights (a decade "
                f"above the usual {HEALTHY_RATIO:g}; the weight matrices' update/weight ratios added in quadrature, "
                "sqrt(sum r_k^2), median over the sampled steps: a unit's pre-activation moves with every update "
                "below it, and uncorrelated layer updates add in quadrature, so for one layer this is its ratio, "
                "for L layers updated alike sqrt(L) times it, and never less than the fastest layer's: on its own it "
                "says only that some layer moves fast, which is why it is read only for units that died): the "
                "classic cause of dying ReLUs (cs231n) is a step "
                "large enough to push a unit's weights where its pre-activation is negative on every input; units "
                "dead from the start (an init or bias problem) or dying under small updates are not blamed on the LR",
                f"suggested LR: the LR scaled so the update/weight ratio becomes ~{CUT_TARGET:g}, the floor of healthy "
                f"runs' updates, and the network's movement (the layers in quadrature) stays under {HIGH_RATIO:g} "
                "(updates scale with the LR)"),
))

LR_LOW = register(Diagnosis(
    code="learning-rate-too-low",
    title="The learning rate is too low: the loss creeps down",
    family="lr",
    guide="学习率过低 → 收敛慢",
    what="The loss falls steadily but very slowly, and each update moves the weights by a tiny "
         "fraction of their size, while the LR has not been decayed; or a schedule decayed the LR away "
         "(by three decades, for most of the run) before the loss converged.",
    why="Progress per step is proportional to the step size; at an update/weight ratio of 1e-5 a "
        "weight needs ~1e5 steps to change by its own size.",
    evidence=("loss at start and end", "trend statistic", "update/weight ratio", "the LR in effect (and its max)",
              "suggested LR"),
    remedies=("raise-lr", "lr-range-test", "adaptive-optimizer", "schedule-per-epoch"),
    traps=("a schedule that decays the LR at the end (judged only while the LR is >= half its maximum; "
           f"a decayed LR only when it has stayed below {DECAYED_FLOOR:g} of its maximum for "
           f"{DECAYED_SHARE:.0%} of the run; a finding made while the LR was near its peak is not taken back "
           "when the schedule decays it, unless the loss had halved before the decay: that part of the run is "
           "not judged again)",
           "tiny updates caused by tiny gradients (vanishing gradients, dead or saturated units, a bad init, a cut "
           "graph): when one of those is found, the LR is not blamed",
           "a converged run: it has already brought the loss down by more than half (of its first losses, or of the "
           "best constant prediction's loss where that is known)",
           "fine-tuning with Adam at 1e-5..1e-4: the update/weight ratio stays above 1e-4"),
    thresholds=(f"median update/weight ratio of the weight matrices <= {LOW_RATIO:g} (a decade below the usual "
                f"{HEALTHY_RATIO:g}) over >= 50 steps",
                "or the linear regime: a significant downward trend (Mann-Kendall z <= -2.58, 1% level) whose second "
                "half drops between half and twice as much as its first (medians of sixths; the evidence's "
                "acceleration_z says how far from noise the comparison is), with updates under "
                "3e-3 of the weights: a well-set LR decelerates as it nears the floor, a too-small one descends in a "
                "straight line (a curve that accelerates is leaving an early plateau, which is normal); and the "
                "loss has come down by >= 10% of its start (less is no descent at all: loss-not-decreasing's "
                "domain) or is still above the best constant prediction's loss (where that is known: a model "
                "worse than predicting the mean, descending steadily, is not near any floor)",
                "and, either way, the loss has fallen by less than half of its starting value",
                f"judged on the losses since the LR in effect last changed (it rose {LR_JUMP:g}x or more between two "
                "of its samples, or repair mode changed it), with >= 50 of them: the losses taken at another LR say "
                "nothing of this one",
                f"decayed away: the LR has stayed below {DECAYED_FLOOR:g} of its maximum for >= {DECAYED_SHARE:.0%} "
                "of the optimizer's steps (three decades: a 1e-3 update/weight ratio becomes 1e-6; the step recipe "
                "0.1 -> 0.01 -> 0.001 ends at 1e-2 of its maximum, cosine/linear/one-cycle tails reach 1e-3 of it "
                "only in their last few %), the loss has not fallen by half and makes no significant progress "
                "since (Mann-Kendall z > -2.58)",
                f"suggested LR: the LR scaled so the update/weight ratio becomes ~{SMALL_UPDATES:g} (the bound of the linear "
                "regime above; the usual 1e-3 would still be in it), by 3x to 100x"),
))

BATCH_SMALL = register(Diagnosis(
    code="batch-size-too-small",
    title="The batch is too small: gradient noise dominates",
    family="batch",
    guide="批量过小 → 梯度噪声大",
    what="The gradient noise scale B_noise = tr(Σ)/|G|² (the batch size at which noise and signal in the "
         "gradient are equal) is far above the batch size in use and the loss makes no progress beyond "
         "its noise; or BatchNorm normalizes over so few values that its statistics are mostly noise.",
    why="With B << B_noise each step's gradient is mostly noise: the loss jitters around a high level "
        "set by LR/B (the SGD 'temperature') instead of descending.",
    evidence=("noise scale estimate", "batch size (x accumulation)", "ratio", "loss noise vs progress",
              "BatchNorm values per channel"),
    remedies=("larger-batch", "lower-lr", "batch-ramp", "groupnorm-small-batch"),
    traps=("small batches that train fine: the loss makes progress beyond its noise",
           "a converged run (the noise scale grows as the gradient vanishes): the loss must still be above "
           "half of its start"),
    thresholds=(f"a batch of <= {SMALL_BATCH} (x accumulation): the guide's common sizes are 32-128",
                f"noise scale >= {NOISE_FACTOR:g}x the batch (each step is >90% noise by squared norm), "
                "estimated from per-step vs 8-step-summed gradients, pooled over windows",
                "and the last quarter of the run makes no significant progress (Mann-Kendall z > -1.96) while the "
                "loss is still above a tenth of its start (not converged)",
                f"BatchNorm in training mode over < {BN_MIN_VALUES} values per channel: the variance estimate's "
                "relative standard error sqrt(2/(n-1)) exceeds 50%; a warning below "
                f"{BN_HARM_VALUES} values, info from {BN_HARM_VALUES} to {BN_MIN_VALUES - 1}: Group Normalization "
                "(Wu & He 2018) measured BatchNorm's ImageNet error against its batch per worker, 23.6% at 32, "
                "24.8% at 8 (a small cost, and a healthy small-batch run here trained as well as with LayerNorm "
                "or batch 32), 27.3% at 4 and 34.7% at 2: clear harm from 4 values down"),
))

OOM = register(Diagnosis(
    code="out-of-memory",
    title="The run ran out of memory",
    family="batch",
    guide="批量过大 → 内存不足",
    what="An allocation failed (CUDA or CPU out of memory) during the watched run.",
    why="Activation memory grows linearly with the batch size (and sequence length / image size).",
    evidence=("the exception", "batch size at failure", "largest batch that completed", "memory in use",
              "measured activation memory per example", "suggested batch size"),
    remedies=("fit-batch", "larger-batch", "mixed-precision", "activation-checkpointing"),
    traps=(),
    thresholds=("none: an allocation failure is always a finding; the suggested batch is the largest one that "
                "completed, or (measured) the batch whose saved activations fit 80% of the memory that was free",),
))


def _ratio_matrix(ctx: Context, ov: OptView) -> np.ndarray:
    """Update/weight ratio per sampled step (rows) and weight matrix (columns; every parameter when
    there is no matrix), NaN where not measured; once per evaluation."""
    R = ctx.cache.get(("ratio_matrix", ov.key))
    if R is None or len(R) != len(ov.upd_steps):
        cols = [j for j, i in enumerate(ov.positions) if i < len(ctx.params) and ctx.params[i].kind == "weight"]
        if not cols:
            cols = list(range(len(ov.positions)))
        P, U = ov.param[:, cols], ov.update[:, cols]
        ok = (P > 0) & (U >= 0) & np.isfinite(P) & np.isfinite(U)
        with np.errstate(divide="ignore", invalid="ignore"):
            R = ctx.cache[("ratio_matrix", ov.key)] = np.where(ok, U / np.where(P > 0, P, 1), np.nan)
    return R


def _weight_ratio(ctx: Context, ov: OptView, rows: np.ndarray) -> tuple[float, int]:
    """Median over the selected sampled steps of the per-step median update/weight ratio of the
    weight matrices (all parameters when there is no matrix); and how many steps it rests on."""
    if not len(ov.upd_steps) or not rows.any():
        return float("nan"), 0
    per_row = ctx.cache.get(("weight_ratio", ov.key))
    if per_row is None or len(per_row) != len(ov.upd_steps):
        # every sampled step's median ratio, once per evaluation (the rules ask for several row subsets)
        per_row = ctx.cache[("weight_ratio", ov.key)] = row_nanmedian(_ratio_matrix(ctx, ov))
    per_step = per_row[rows]
    per_step = per_step[np.isfinite(per_step)]
    return (median(per_step), len(per_step)) if len(per_step) else (float("nan"), 0)


def _network_ratio(ctx: Context, ov: OptView, rows: np.ndarray) -> tuple[float, int]:
    """How far one update moves the network's function, relative to it: per sampled step the
    root-sum-square of the weight matrices' update/weight ratios, and its median over the selected
    steps (with how many it rests on).

    To first order a net's output changes by the sum of what each layer's update changes; updates of
    different layers are not aligned, so their relative changes add in quadrature, sqrt(sum r_k^2). For
    one layer that is its ratio r, which the rules of thumb (HEALTHY_RATIO, HIGH_RATIO) were stated for;
    for L layers updated alike it is sqrt(L) r: a 12-layer ReLU net whose layers each move by 0.8% per
    step moves its pre-activations by ~3%, enough to push units below zero for every input, where one
    layer at 0.8% would not."""
    if not len(ov.upd_steps) or not rows.any():
        return float("nan"), 0
    R = _ratio_matrix(ctx, ov)[rows]
    seen = np.isfinite(R).any(axis=1)
    if not seen.any():
        return float("nan"), 0
    per_step = np.sqrt(np.nansum(R[seen] ** 2, axis=1))
    return median(per_step), len(per_step)


def _loss(ov: OptView, after: int | None = None) -> np.ndarray:
    """The optimizer's finite losses; ``after``: only those of backward passes after that one."""
    if after is not None and len(ov.loss) == len(ov.loss_steps):
        keep = ov.loss_steps > after
        return ov.loss[keep & np.isfinite(ov.loss)]
    L = ov.loss[np.isfinite(ov.loss)] if len(ov.loss) else ov.loss
    return L


def _backward_per_step(ctx: Context) -> float:
    """Backward passes per optimizer step (gradient accumulation makes several): maps an optimizer step onto the
    loss series' own index, the backward pass."""
    return ctx.n_backward / max(ctx.step, 1)


def _lr_regime_start(ctx: Context, ov: OptView) -> tuple[int, int] | None:
    """Where the LR in effect last changed to a new regime: (the optimizer step, the backward pass); None when
    it never did. Either the script's LR jumped up by LR_JUMP or more between two of its samples (the sample
    steps, ``every``: the change happened at most one interval before the first sample at the new LR), or
    repair mode changed the LR in effect (``lr_changed_by_repair``: its factors act inside ``step()``, so
    the LR series, the script's own, does not show them); the later of the two."""
    out = None
    s = ctx.store[f"lr/{ov.key}"]
    if len(s) >= 2:
        steps, lrs = np.asarray(s.steps), s.array()
        with np.errstate(all="ignore"):
            up = np.nonzero(lrs[1:] >= LR_JUMP * lrs[:-1])[0]
        if len(up):
            step = int(steps[up[-1] + 1])
            out = (step, int(step * _backward_per_step(ctx)))
    rep = ctx.facts.get("lr_changed_by_repair", {}).get(str(ov.key))
    if rep is not None and (out is None or rep[1] > out[1]):
        out = (int(rep[0]), int(rep[1]))
    return out


def _lr_info(ctx: Context, ov: OptView) -> tuple[float, float]:
    s = ctx.store[f"lr/{ov.key}"]
    lrs = s.array() if len(s) else np.array([])
    cur = max(ov.lrs) if ov.lrs else float("nan")
    return cur, float(np.nanmax(lrs)) if len(lrs) else cur


def _suggest(lr: float, ratio: float, lo: float, hi: float, target: float) -> float | None:
    """The LR scaled so the update/weight ratio becomes ``target`` (updates scale with the LR), the factor
    bounded to [lo, hi]; one significant digit."""
    if not (lr > 0 and ratio > 0 and math.isfinite(ratio)):
        return None
    f = min(max(target / ratio, lo), hi)
    v = lr * f
    return float(f"{v:.1g}")


def cut_factor(ratio: float, net: float | None, lo: float, hi: float) -> float:
    """The factor of an LR cut for updates of median ratio ``ratio`` that move the network by ``net`` (the layers in
    quadrature; None or NaN: not measured): the median layer brought to CUT_TARGET and the network under HIGH_RATIO,
    whichever asks the larger cut, bounded to [lo, hi]."""
    f = CUT_TARGET / ratio
    if net is not None and net > 0 and math.isfinite(net):
        f = min(f, HIGH_RATIO / net)
    return min(max(f, lo), hi)


def _single_objective(ctx: Context) -> bool:
    """One optimizer steps (GANs and other adversarial set-ups have opposing losses)."""
    return sum(1 for o in ctx.optimizers() if o.steps > 0) == 1


def _units_killed_by_step(ctx: Context, ov: OptView) -> dict | None:
    """ReLU units alive at the first activation sample (taken at or near initialization) that died
    during training under large updates: the dead-relu finding's layers and onset, and the median
    update/weight ratio of the sampled steps up to that onset; None unless those steps moved the network
    by >= HIGH_RATIO (``_network_ratio``).
    Looked at only once dead-relu is an alarm (so it can add the cause to a run that already has one,
    never an alarm to a quiet run)."""
    if "dead-relu" not in ctx.found:
        return None
    key = ("findings", "dead-relu")   # this evaluation's findings, when dead-relu's rule has run already
    found = ctx.cache[key] if key in ctx.cache else check_dead_relu(ctx)
    dead = [f for f in found or () if f.severity in ("error", "warning")]
    if not dead:
        return None
    ev = dead[0].evidence
    since, samples = ev.get("since_step"), _act_samples(ctx)
    if since is None or len(samples) < 2 or since <= samples[0]["step"]:
        return None   # no onset seen after the first sample: they may have been dead from the start
    first = _dead_layers(samples[0], ctx.batch_size())
    layers = list(ev.get("dead_fraction", {}))
    if any(first.get(k, (1.0,))[0] >= DEAD_WARN for k in layers):
        return None   # dead (or unseen) at the first sample: an init or bias problem, not the step
    # what moves a unit's pre-activation is every update below it: the updates are judged by how far they
    # move the network as a whole (the layers' ratios in quadrature, ``_network_ratio``)
    net, nr = _network_ratio(ctx, ov, ov.upd_steps <= since)
    if nr < 3 or not net >= HIGH_RATIO:
        return None
    ratio, _ = _weight_ratio(ctx, ov, ov.upd_steps <= since)
    return {"layers": ", ".join(f"`{k}`" for k in layers[:3]), "dead_since_step": since,
            "dead_fraction_at_first_sample": {k: round(first[k][0], 3) for k in layers},
            "dead_fraction": ev.get("dead_fraction"), "update_weight_ratio_before_deaths": sig4(ratio),
            "network_update_ratio_before_deaths": sig4(net), "steps_before_deaths_sampled": nr}


@rule("learning-rate-too-high")
def check_lr_high(ctx: Context) -> list[Finding]:
    out = []
    if not _single_objective(ctx):
        return out
    for ov in ctx.optimizers():
        L = _loss(ov)
        if len(L) < EARLY_STEPS or ov.steps < EARLY_STEPS or (L < 0).any():
            continue
        # the first updates: as large as a tenth of the weights, and the loss at least tripled by them
        first_ratio, _ = _weight_ratio(ctx, ov, ov.upd_steps <= 5)
        blowup = first_ratio >= EARLY_RATIO and float(np.max(L[1:6])) >= EARLY_JUMP * float(L[0]) > 0
        young = len(L) < 30 or ov.steps < 30
        if young and not blowup:
            # before 30 steps the trend tests below have too few losses; the first updates' blow-up is judged
            # on steps 1-5 alone, and is the same verdict now as at step 30 (the same losses and updates), so
            # it is not kept waiting: a run whose first Adam steps move the weights by 40% has lost its ReLUs
            # by step 30
            continue
        n = len(L)
        start = median(L[: max(3, n // 10)])
        end = median(L[-max(3, n // 10):])
        ratio, nr = _weight_ratio(ctx, ov, ov.upd_steps > 5)
        # (the smoothed best, the trend test and the LR are read only where a verdict needs them: a healthy
        # run, its loss falling under normal-sized steps, is judged on the cheap tests alone)
        best = float(np.convolve(L, np.ones(5) / 5, mode="valid").min()) if end > start else float("nan")
        diverged = best > 0 and decades(best, end) >= 1.0 and end > start and not young
        # late losses clearly worse than the untrained model's (its level: the loss before any update, or
        # the early median when that is higher, so one lucky first batch does not set the bar)
        init_level = max(float(L[0]), start)
        above_init = float(np.mean(L[n // 2:] > 1.5 * init_level))
        # batches above the untrained model's loss blame the LR only when its updates are not small: under
        # SMALL_UPDATES (the bound of learning-rate-too-low's linear regime) the step is not what lifts them:
        # such batches are the loss's batch-to-batch noise around a level that has barely moved (a too-low
        # LR on a noisy loss: ~10% of its batches lie 1.5x above the start by chance)
        overshooting = not (nr >= 3 and ratio < SMALL_UPDATES)
        large = ((end >= start and nr >= 3 and ratio >= HIGH_RATIO) or (above_init >= ABOVE_INIT and overshooting)) \
            and not young
        may_climb = n >= CLIMB_MIN_STEPS and not diverged and nr >= 3 and ratio >= HIGH_RATIO
        z_late = mann_kendall_z(thin(L[n // 2:], 300)) if (large or may_climb) else None
        stalled = z_late is not None and z_late > -1.96
        oscillating = stalled and large
        # the loss climbing back from its best under large updates, with no progress over the last half: the
        # last tenth's losses lie significantly above those of the best tenth (rank test, scale-free) with a
        # median at least twice as high, while the median update moves the weights by a decade more than the
        # usual 1e-3 (a rise under normal-sized steps, e.g. a curriculum or a KL weight ramping up, is not the
        # LR's). Windows of losses, not a trend: a loss that jumps up when the LR is raised and then bounces on
        # a higher plateau has no trend over the last half, and has climbed all the same
        climbing, climb = False, {}
        if n >= CLIMB_MIN_STEPS and stalled and not (diverged or oscillating) and nr >= 3 and ratio >= HIGH_RATIO:
            w = max(5, n // 10)
            k = int(np.argmin([median(L[i:i + w]) for i in range(0, n - 2 * w + 1, w)]))
            low, last = L[k * w:(k + 1) * w], L[-w:]
            lo_m, end_m = median(low), median(last)
            z_climb = mann_whitney_z(low, last)
            climbing = lo_m > 0 and end_m >= CLIMB_FACTOR * lo_m and z_climb >= CLIMB_Z
            bw = ov.loss_steps[np.isfinite(ov.loss)] if len(ov.loss_steps) == len(ov.loss) else None
            climb = {"loss_best_window_median": sig4(lo_m), "loss_last_window_median": sig4(end_m),
                     "climb_rank_z": round(z_climb, 2),
                     # where the best tenth was, in backward passes (the loss series' own index)
                     "loss_best_window_backward_passes": [int(bw[k * w]), int(bw[(k + 1) * w - 1])]
                     if bw is not None and len(bw) == n else None}
        killed = None if (diverged or oscillating or climbing or blowup) else _units_killed_by_step(ctx, ov)
        if not (diverged or oscillating or climbing or blowup or killed):
            continue
        lr, lr_max = _lr_info(ctx, ov)
        if best != best:
            best = float(np.convolve(L, np.ones(5) / 5, mode="valid").min())
        if z_late is None:
            z_late = mann_kendall_z(thin(L[n // 2:], 300))
        if killed:   # judged by the step size that killed them, at the LR that took it there
            ratio, lr = killed["update_weight_ratio_before_deaths"], lr_max
        noise = robust_noise(L[n // 2:])
        if killed:
            net = killed["network_update_ratio_before_deaths"]
        elif ratio == ratio:
            net, _ = _network_ratio(ctx, ov, ov.upd_steps > 5)
        else:
            net = None
        sugg = float(f"{lr * cut_factor(ratio, net, 1 / 100, 1 / 3):.1g}") if ratio == ratio and ratio > 0 and lr > 0 \
            else None
        if sugg is None and lr > 0:
            sugg = float(f"{lr / 10:.1g}")
        what = (Msg("learning-rate-too-high.diverges", best=best, end=end) if diverged else
                Msg("learning-rate-too-high.oscillates", start=start, end=end, noise=noise) if oscillating else
                Msg("learning-rate-too-high.climbs", best=climb["loss_best_window_median"],
                    end=climb["loss_last_window_median"], z=climb["climb_rank_z"]) if climbing else
                Msg("learning-rate-too-high.kills-units", layers=killed["layers"], step=killed["dead_since_step"])
                if killed else
                Msg("learning-rate-too-high.jump", ratio=first_ratio, loss0=float(L[0]), peak=float(np.max(L[1:6]))))
        out.append(LR_HIGH.finding(
            "error" if diverged else "warning",
            Msg("learning-rate-too-high", optimizer=ov.name, lr=lr, what=what,
                ratio=Msg("learning-rate-too-high.update-ratio", ratio=ratio, healthy=HEALTHY_RATIO)
                if ratio == ratio else ""),
            step=ov.steps, where=[ov.name],
            evidence={"lr": lr, "max_lr_seen": lr_max, "loss_at_init": sig4(float(L[0])),
                      "first_updates_weight_ratio": sig4(first_ratio), "early_loss_max": sig4(float(np.max(L[1:6]))),
                      "late_share_above_init": round(above_init, 3), "loss_start": sig4(start), "loss_best_smoothed": sig4(best),
                      "loss_end": sig4(end), "loss_noise": sig4(noise), "update_weight_ratio": sig4(ratio),
                      "trend_z_last_half": round(float(z_late), 2), **climb,
                      "suggested_lr": sugg, **(killed or {}),
                      # judged on the first updates only: a record of the past that later steps cannot clear
                      # (repair mode does not act on it after a repair made at or after that step)
                      **({"evidence_last_step": 5} if blowup and not (diverged or oscillating) else {})},
            context={"suggested_lr": sugg, "max_lr": sugg}, key=ov.name))
    return out


@rule("learning-rate-too-low")
def check_lr_low(ctx: Context) -> list[Finding] | None:
    out = []
    undecided = False
    for ov in ctx.optimizers():
        L = _loss(ov)
        if len(L) < 50 or ov.steps < 50 or (L <= 0).any():
            continue
        lr, lr_max = _lr_info(ctx, ov)
        if lr < 0.5 * lr_max:
            # a schedule has decayed the LR: slow progress now is by design -- unless it decayed the LR away
            # long before the loss converged (a per-epoch scheduler stepped per batch)
            f = _lr_decayed_away(ctx, ov, L, lr, lr_max)
            if f is not None:
                out.append(f)
            else:
                undecided = undecided or _crawled_before_decay(ctx, ov, lr_max)
            continue
        if not (lr > 0):
            continue
        if set(ctx.found) & EXPLAINS_SMALL_UPDATES:
            continue  # the updates are small because the gradients are: the LR is not the cause
        jump = _lr_regime_start(ctx, ov)
        if jump is not None:
            # the LR in effect changed since the start: the losses before were taken at another LR and say
            # nothing of this one (a 3x raise that leaves the loss crawling looks, on the whole history, like a
            # curve that speeds up -- no finding -- though the raised LR crawls too). Judged on its own regime,
            # with the same 50 losses at least
            L = _loss(ov, after=jump[1])
            if len(L) < 50:
                continue
        ratio, nr = _weight_ratio(ctx, ov, ov.upd_steps > max(5, jump[0] if jump is not None else 0))
        if nr < 3 or not ratio == ratio:
            continue
        n = len(L)
        start = median(L[: max(3, n // 10)])
        end = median(L[-max(3, n // 10):])
        if end < 0.5 * start:
            continue  # it has made real progress
        null = ctx.constant_prediction_loss()
        if null is not None and end < 0.5 * null:
            # the same test against where learning starts from, the best constant prediction: a run whose first
            # losses are already below it (Adam fits a regression's mean within its first steps) has brought the
            # loss down by more than half, to near what the data allows (a diabetes MLP at 0.40 of a unit variance,
            # R^2 ~0.6): what is left is the data's noise, not an LR too small to reach it
            continue
        seg = segment_medians(L, 6)
        drop_first, drop_last = seg[0] - seg[2], seg[3] - seg[5]
        z_all = mann_kendall_z(thin(L, 300))
        tiny = ratio <= LOW_RATIO
        z_acc = _acceleration_z(L, drop_first, drop_last)
        # accelerating: the second half falls more than twice as fast as the first (a point comparison of
        # medians of sixths). A version that excused the curve only when the acceleration was significant
        # (z >= 1.96) caught a crawling GRU at one more seed, but a false alarm is worse than a miss: on a
        # noisy healthy run (the clinic's retain_graph program at seed offset 5: drops 0.009 then 0.030,
        # z 0.09) nothing is established either way, and it fired. z is kept in the evidence.
        accelerating = drop_last > 2 * drop_first
        # the linear regime: descending steadily (significant trend), the second half as fast as the first
        # (not accelerating either: a curve that speeds up is leaving an early plateau, which is normal --
        # when the speed-up is more than the sixths' medians' noise can make; and not with updates already
        # >= 3e-3 of the weights, which are not small)
        linear = ratio < SMALL_UPDATES and z_all <= -2.58 and drop_first > 0 \
            and 0.5 * drop_first <= drop_last and not accelerating \
            and (end <= 0.9 * start  # under 10% is no descent at all: loss-not-decreasing's domain
                 or (null is not None and end > null))
        if not (tiny or linear):
            continue
        # the raise aims at SMALL_UPDATES, the ratio under which this rule calls updates small, not at the usual
        # 1e-3: an LR raised to 1e-3 is still in the linear regime by this rule's own test (a too-low LR found
        # again at its raised value, one 3x step at a time). 3e-3 is the middle of the band between the usual
        # 1e-3 and HIGH_RATIO on a log scale; healthy runs move faster early on (the clinic's 11 healthy twins of
        # too-low-LR programs: 8e-4 to 1.7e-2 over their first third, median 9e-3; its 263 healthy optimizers:
        # median 8e-3 over their first third, 3.6e-3 over their middle third, see SMALL_UPDATES), so it is still a
        # cautious step, and a raise that overshoots is taken back by repair mode's verdict
        sugg = _suggest(lr, ratio, 3, 100, target=SMALL_UPDATES)
        why = (Msg("learning-rate-too-low.tiny-updates", ratio=ratio, healthy=HEALTHY_RATIO) if tiny else
               Msg("learning-rate-too-low.linear", last=drop_last, first=drop_first))
        out.append(LR_LOW.finding(
            "warning",
            Msg("learning-rate-too-low", optimizer=ov.name, lr=lr, why=why, start=start, end=end, steps=ov.steps),
            step=ov.steps, where=[ov.name],
            evidence={"lr": lr, "max_lr_seen": lr_max, "update_weight_ratio": sig4(ratio), "loss_start": sig4(start),
                      "loss_end": sig4(end), "drop_first_half": sig4(drop_first), "drop_second_half": sig4(drop_last),
                      "trend_z": round(z_all, 2), "acceleration_z": round(z_acc, 2) if z_acc == z_acc else None,
                      "steps": ov.steps, "suggested_lr": sugg},
            context={"suggested_lr": sugg}, key=ov.name))
    if undecided and not out and "learning-rate-too-low" in ctx.found:
        # the schedule has decayed the LR, and the linear regime is not judged under a decaying LR: that is no
        # verdict on the steps before the decay, so a finding made on them stands while those steps, taken as a
        # whole, fell by less than half (a Trainer that divided the loss twice ran SGD at lr/8 through its cosine
        # schedule's first half; "resolved" once the cosine had halved the LR, the finding was gone from the
        # report). One whose loss halved before the decay is resolved, as at the peak LR: a healthy StepLR run
        # caught crawling at step 80 had halved its loss by its first decay
        return None
    return out


def _crawled_before_decay(ctx: Context, ov: OptView, lr_max: float) -> bool:
    """Did the loss fall by less than half (the rule's "real progress") over the steps before the LR first went
    below half its maximum, with at least 50 losses there?"""
    s = ctx.store[f"lr/{ov.key}"]
    steps, lrs = np.asarray(s.steps), s.array()
    below = np.nonzero(lrs < 0.5 * lr_max)[0]
    if not len(below) or len(ov.loss_steps) != len(ov.loss):
        return False
    keep = np.isfinite(ov.loss) & (ov.loss_steps <= steps[below[0]] * _backward_per_step(ctx))
    pre = ov.loss[keep]
    if len(pre) < 50:
        return False
    k = max(3, len(pre) // 10)
    return bool(median(pre[-k:]) >= 0.5 * median(pre[:k]))


def _acceleration_z(L: np.ndarray, drop_first: float, drop_last: float) -> float:
    """How far the second half's drop (medians of sixths 4 - 6) exceeds twice the first's (sixths 1 - 3), in
    standard errors: z = (drop_last - 2 drop_first) / SE. Each sixth's median has the standard error
    1.2533 s / sqrt(m) of a median of m values with noise s (the loss's step-to-step noise, robust_noise:
    insensitive to the trend); the four medians are independent, so the difference has variance
    (1 + 1 + 4 + 4) SE^2. NaN when the noise cannot be estimated."""
    sizes = [len(c) for c in np.array_split(L[np.isfinite(L)], 6)]
    s = robust_noise(L)
    if not (s > 0) or min(sizes) < 3:
        return float("nan")
    se = 1.2533 * s / math.sqrt(min(sizes))
    return (drop_last - 2 * drop_first) / (math.sqrt(10.0) * se)


def _lr_decayed_away(ctx: Context, ov: OptView, L: np.ndarray, lr: float, lr_max: float) -> Finding | None:
    """The LR has been below DECAYED_FLOOR of its maximum for >= DECAYED_SHARE of the optimizer's steps, the
    loss has not fallen by half (the same 'not converged' as the other branches) and, since the decay, it
    makes no significant progress (Mann-Kendall z > -2.58): the schedule, not the loss surface, ended the run."""
    if "non-finite" in ctx.found or not (lr_max > 0) or not (lr <= DECAYED_FLOOR * lr_max):
        return None
    s = ctx.store[f"lr/{ov.key}"]
    steps, lrs = np.asarray(s.steps), s.array()
    above = np.nonzero(~(lrs <= DECAYED_FLOOR * lr_max))[0]
    if not len(steps) or (len(above) and above[-1] + 1 >= len(steps)):
        return None  # the last recorded LR is not below the floor yet
    since = int(steps[above[-1] + 1]) if len(above) else int(steps[0])
    share = (ov.steps - since) / max(ov.steps, 1)
    if share < DECAYED_SHARE:
        return None
    n = len(L)
    start = median(L[: max(3, n // 10)])
    end = median(L[-max(3, n // 10):])
    if not (start > 0) or end < 0.5 * start:
        return None  # converged (or nearly): the decay came after the progress
    tail = L[-max(10, int(n * share)):]  # the losses since the decay (one per step)
    if len(tail) >= 10 and mann_kendall_z(thin(tail, 300)) <= -2.58:
        return None  # still descending at the small LR
    n_dec = math.log10(lr_max / lr) if lr > 0 else float("inf")
    return LR_LOW.finding(
        "warning",
        Msg("learning-rate-too-low.decayed", optimizer=ov.name, lr_max=lr_max, lr=lr,
            decades=min(n_dec, 99.0), since=since, floor=DECAYED_FLOOR, share=share, start=start, end=end),
        step=ov.steps, where=[ov.name],
        evidence={"lr": lr, "max_lr_seen": lr_max, "lr_decayed_since_step": since, "decayed_share": round(share, 3),
                  "loss_start": sig4(start), "loss_end": sig4(end), "steps": ov.steps},
        remedy_ids=["schedule-per-epoch", "raise-lr"], context={"suggested_lr": lr_max}, key=ov.name)


def batch_in_use(ctx: Context) -> int:
    """Examples per optimizer step: the usual batch times the backward passes per step."""
    per_step = _backward_per_step(ctx)
    return int(round(ctx.batch_size() * max(1.0, per_step)))


@rule("batch-size-too-small")
def check_batch_small(ctx: Context) -> list[Finding]:
    out = []
    samples = ctx.facts.get("act_samples", [])
    small_bn = {}
    for s in samples[-1:]:
        for name, m in s.get("modules", {}).items():
            c = m.get("bn_count")
            if isinstance(c, float) and math.isfinite(c) and c < BN_MIN_VALUES:
                small_bn[name] = int(c)
    if small_bn:
        names = sorted(small_bn)
        out.append(BATCH_SMALL.finding(
            "warning" if min(small_bn.values()) < BN_HARM_VALUES else "info",
            Msg("batch-size-too-small.batchnorm", layers=', '.join(ctx.label(n) for n in names[:3]),
                           values=min(small_bn.values())),
            step=samples[-1]["step"], where=names,
            evidence={"values_per_channel": small_bn, "batch_size": batch_in_use(ctx)},
            remedy_ids=["larger-batch", "groupnorm-small-batch", "batch-ramp"],
            context={"suggested_batch": 32}, key="batchnorm"))
    B = batch_in_use(ctx)
    est = ctx.facts.get("noise_scale", [])
    if B <= 0 or B > SMALL_BATCH or len(est) < 2 or not _single_objective(ctx):
        return out
    # McCandlish et al.: average the |G|^2 and tr(Sigma) estimates over windows, then divide
    g2s, trs = [], []
    for e in est:
        k = e["k"]
        g2s.append((k * e["g2_big"] - e["g2_small"]) / (k - 1))          # |G|^2
        trs.append(B * k * (e["g2_small"] - e["g2_big"]) / (k - 1))      # tr(Sigma)
    g2, tr = float(np.mean(g2s)), float(np.mean(trs))
    b_noise = tr / g2 if g2 > 0 else math.inf
    if not b_noise >= NOISE_FACTOR * B:
        return out
    ov = next(o for o in ctx.optimizers() if o.steps > 0)
    L = _loss(ov)
    if len(L) < 40 or (L < 0).any():
        return out
    half = L[len(L) // 2:]
    q = segment_medians(half, 4)
    progress = q[0] - q[-1]
    noise = robust_noise(half)
    start = median(L[: max(3, len(L) // 10)])
    stalled = mann_kendall_z(thin(L[-max(20, len(L) // 4):], 300)) > -1.96
    if not (stalled and q[-1] > 0.1 * start):
        return out
    sugg = int(2 ** round(math.log2(min(b_noise, 64 * B)))) if math.isfinite(b_noise) else 8 * B
    k = max(2, sugg // max(B, 1))
    out.append(BATCH_SMALL.finding(
        "warning", Msg("batch-size-too-small.noise", noise_scale=_fmt(b_noise), batch=B, loss=q[-1], noise=noise,
                       start=start),
        step=ctx.step, where=[ov.name],
        evidence={"noise_scale": _fmt(b_noise), "batch_size": B, "ratio": _fmt(b_noise / B),
                  "loss_noise": sig4(noise), "loss_progress_last_half": sig4(progress), "estimates": len(g2s)},
        context={"suggested_batch": sugg, "k": k}, key="noise"))
    return out


def _fmt(v: float) -> Any:
    return "inf" if not math.isfinite(v) else float(f"{v:.3g}")


_OOM = re.compile(r"out of memory|can't allocate memory|cannot allocate memory|OutOfMemory", re.I)


@rule("out-of-memory")
def check_oom(ctx: Context) -> list[Finding]:
    exc = ctx.facts.get("exception")
    if not exc or not (_OOM.search(exc.get("message", "")) or "OutOfMemory" in exc.get("type", "")):
        return []
    msg = exc["message"]
    b_fail = exc.get("last_batch")
    done = [b for b in exc.get("completed_batches", []) if b_fail is None or b < b_fail]
    mem = exc.get("memory", {})
    m = re.search(r"(?:tried to allocate|allocate) ([\d.]+) ?(bytes|[KMGT]i?B)", msg)
    requested = None
    if m:
        unit = {"bytes": 1, "KiB": 2 ** 10, "MiB": 2 ** 20, "GiB": 2 ** 30, "TiB": 2 ** 40, "KB": 1e3, "MB": 1e6,
                "GB": 1e9, "TB": 1e12}.get(m.group(2), 1)
        requested = int(float(m.group(1)) * unit)
    act = ctx.facts.get("activation_bytes") or {}
    per_example = act["bytes"] / act["batch"] if act.get("bytes") and act.get("batch") else None
    sugg, how = None, ""
    free = None
    if mem.get("cuda_total"):
        free = mem.get("cuda_total", 0) - (mem.get("cuda_allocated") or 0)
    elif mem.get("address_limit") and mem.get("virtual"):
        free = mem["address_limit"] - mem["virtual"]
    if done:
        sugg, how = max(done), Msg("out-of-memory.basis-completed")
    elif per_example and free and free > 0 and b_fail:
        # the failed batch's activations did not fit in what was free plus what it already held
        sugg = max(1, int(0.8 * (free + per_example * b_fail * 0.5) // per_example))
        sugg = min(sugg, max(1, b_fail // 2))
        how = Msg("out-of-memory.basis-measured")
    elif b_fail:
        sugg, how = max(1, b_fail // 2), Msg("out-of-memory.basis-estimated")
    return [OOM.finding(
        "error", Msg("out-of-memory", step=exc.get('step'), batch=b_fail,
                     allocation=Msg("out-of-memory.allocation", mib=requested / 2 ** 20) if requested else "",
                     fit=Msg("out-of-memory.fits", batch=sugg, how=how) if sugg else Msg("out-of-memory.end")),
        step=exc.get("step"), where=[],
        evidence={"exception": f"{exc['type']}: {msg[:240]}", "batch_at_failure": b_fail,
                  "batches_completed": exc.get("completed_batches", [])[-8:], "requested_bytes": requested,
                  "activation_bytes_per_example": int(per_example) if per_example else None,
                  "memory": {k: v for k, v in mem.items() if v is not None}, "suggested_batch": sugg,
                  "suggestion_basis": str(how)},
        context={"suggested_batch": sugg or "batch_size // 2", "k": max(2, (b_fail or 2) // max(sugg or 1, 1))})]
