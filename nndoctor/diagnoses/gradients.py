"""Gradient problems (梯度相关问题): non-finite values, exploding and vanishing gradients."""
from __future__ import annotations


import re

import numpy as np

from ..findings import Finding
from ..messages import msg
from . import Context, OptView
from .registry import Diagnosis, register, rule
from .stats import median, row_median, row_nanmedian, rows_at_same_steps, spearman, windows

NON_FINITE = register(Diagnosis(
    code="non-finite",
    title="NaN or Inf in the loss, a gradient, a parameter or an activation",
    family="gradients",
    guide="梯度爆炸 / 数值溢出",
    what="A NaN or Inf appeared. nndoctor names the first step and the origin: the input batch, "
         "the first module whose finite inputs gave a non-finite output (and, when that module's own "
         "code made it between its layers, the layer it first entered), the loss computed from "
         "finite outputs, the backward pass (finite forward, non-finite gradient), or the "
         "optimizer update (finite gradients, non-finite parameters).",
    why="One NaN spreads to every parameter at the next update; from then on the run is lost.",
    evidence=("step", "stage", "origin module/parameter", "loss value", "parameters with non-finite gradients"),
    remedies=("lower-lr", "clip-grad-norm", "safe-log", "safe-sqrt", "autograd-backward", "safe-forward", "check-data-finite",
              "fp32-loss", "detect-anomaly-once"),
    traps=("AMP GradScaler steps whose inf gradients are skipped by design: the optimizer step is "
           "not called for them, so nndoctor never sees those gradients as a step.",),
    thresholds=("None: any non-finite value in a gradient that reaches optimizer.step(), or in the loss, "
                "is a finding.",),
))

IMPROVEMENT = 0.10   # a loss 10% below its reference has improved (loss-not-decreasing's FLAT_IMPROVEMENT)

EXPLODING = register(Diagnosis(
    code="exploding-gradient",
    title="Gradient norm grows by orders of magnitude",
    family="gradients",
    guide="梯度爆炸 (Gradient Exploding)",
    what="The global gradient norm rises by two or more orders of magnitude, either steadily above its "
         "level at the start of training or in bursts above its running level, while the loss does not "
         "improve or the run ends in NaN/Inf.",
    why="The chain rule multiplies per-layer factors; above 1 they compound exponentially with depth "
        "or sequence length, updates overshoot and the run diverges to Inf/NaN.",
    evidence=("global gradient norm at baseline and peak", "growth in decades (log10)", "bursts",
              "loss at baseline and at the end"),
    remedies=("clip-grad-norm", "lower-lr", "weight-decay", "use-lstm-gru", "add-normalization", "he-init"),
    traps=("the first steps of training (the baseline is the first third of the history, not step 0 alone)",
           "a GradScaler (AMP) skipping an overflowing step (never reaches optimizer.step())",
           "a gradient norm that rises while the loss keeps falling (e.g. BatchNorm nets with weight decay)",
           "a loss that falls only because the model learns the targets' mean or class frequencies (raw-scale "
           "regression targets start far above that level) is not improving"),
    thresholds=("growth >= 2 decades (100x) of the rolling median over the baseline: healthy runs move "
                "their gradient norm within about one decade; two decades with no loss improvement is "
                "not a normal phase of training",
                f"the loss is improving when its last 3 values are >= {IMPROVEMENT:.0%} below the first third's "
                f"median and, where the best constant prediction's loss is known (one plain mean loss function), "
                f">= {IMPROVEMENT:.0%} below that too (the tenth loss-not-decreasing uses)",
                "error at >= 4 decades or when NaN/Inf follows",
                "bursts: >= 2 decades above the median of the previous 20 steps, compounding over more than one "
                "step (or >= 3 decades at once): one odd batch is not an explosion; error at >= 4 decades, "
                "two bursts, or NaN/Inf after; within the first 5 steps (a level resting on 1-4 steps) only "
                ">= 4 decades at once"),
))

VANISHING = register(Diagnosis(
    code="vanishing-gradient",
    title="Gradients shrink layer by layer toward the input",
    family="gradients",
    guide="梯度消失 (Gradient Vanishing)",
    what="The relative gradient ||g||/||w|| of the layers falls steadily from the output layer to the "
         "input layer, by three or more orders of magnitude, so the first layers barely learn.",
    why="Backpropagation multiplies the derivative of every activation on the way back; sigmoid's is "
        "at most 0.25 and tanh's is below 1 off zero, so ten such layers shrink the gradient to "
        "about 0.25^10 = 1e-6 of its size (the guide's FAQ).",
    evidence=("per-layer relative gradient ||g||/||w|| from input to output", "first/last ratio",
              "decades of decay", "rank correlation of depth and gradient", "activation types", "steps"),
    remedies=("relu-family", "add-normalization", "residual", "use-lstm-gru", "he-init"),
    traps=("a frozen backbone (requires_grad=False): frozen layers have no gradient and are not compared",
           "embeddings, whose gradients are legitimately sparse: excluded",
           "a converged model whose every gradient is small: the test is a ratio between layers",
           "a transformer: attention query/key matrices have tiny gradients in every block at "
           "initialization (softmax over near-uniform scores) and the head a large one; the same "
           "layer is compared across blocks, where that gap does not compound"),
    thresholds=("decay >= 3 decades between the first and the last layer, with a rank correlation of "
                "depth and log-gradient >= 0.5 (a steady decay, not one odd layer): under SGD a layer "
                "whose relative gradient is 1000x smaller moves 1000x slower, i.e. it is frozen for "
                "any practical budget",
                "or, where the early layers sit on a floor (tiny weights vanish the forward signal too; "
                "layers flat within tenths of a decade, whose order is noise to a rank statistic), a decay "
                "steady in decades: the steps against it total at most half of it (the same 0.5), and the "
                "layers before the last carry at least half of an even per-layer share of it (not a large "
                "head alone)",
                "the decay must compound through depth: the layers after the first carry at least half "
                "of an even per-layer share of it (a gap at the input layer alone comes from tiny or "
                "sparse inputs)",
                "and across repeated structure: layers whose names differ only in their indices "
                "(blocks.0.fc / blocks.1.fc, net.0 / net.2) lose, per layer between them, at least "
                "half of that even share (the same 0.5 as above)",
                "error at >= 5 decades"),
))


def _first_nonfinite_row(G: np.ndarray) -> int:
    bad = np.where(~np.isfinite(G).all(axis=1))[0]
    return int(bad[0]) if len(bad) else len(G)


def _global_norm(G: np.ndarray) -> np.ndarray:
    X = np.where(G > 0, G, 0.0)
    return np.sqrt((X * X).sum(axis=1))


def _rolling_median(x: np.ndarray, k: int = 3) -> np.ndarray:
    if len(x) < k:
        return x.copy()
    if k == 3:  # the median of three, elementwise: max(min(a, b), min(max(a, b), c)) (NaN propagates)
        a, b, c = x[:-2], x[1:-1], x[2:]
        return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    return row_median(windows(x, k))


def _running_median_before(L: np.ndarray, window: int) -> np.ndarray:
    """out[t] = median of L[max(0, t - window): t] (NaN for t == 0), vectorised."""
    out = np.full(len(L), np.nan)
    h = min(window, len(L))
    if h > 1:   # the short prefixes L[:t], t < window: one padded matrix (row t holds L[:t], then NaN)
        head = np.where(np.tri(h - 1, h - 1, dtype=bool), L[: h - 1], np.nan)
        out[1:h] = row_nanmedian(head)
    if len(L) > window:
        out[window:] = row_median(windows(L[:-1], window))
    return out


# GradScaler halves its scale at each skipped step. While the scale is >= 1 an overflow can be the
# scale's own doing (that is how dynamic loss scaling finds its scale: a few skipped steps, normal);
# once it has fallen below 1 the scaler is *shrinking* the gradients and they still hold Inf/NaN,
# so the gradients themselves are non-finite. Three consecutive skips at such a scale make it a
# pattern, not a single bad batch.
AMP_MIN_STREAK = 3


def _amp_persistent_skips(ctx: Context) -> list[Finding]:
    amp = ctx.facts.get("amp")
    if not amp or amp.get("streak", 0) < AMP_MIN_STREAK:
        return []
    scale = amp.get("scale_at_skip")
    if scale is None or not scale < 1.0:
        return []
    nf = {"step": amp.get("first_skip_step"), "stage": "backward", "where": [],
          "amp_skipped_steps": amp["skipped"], "amp_steps": amp["steps"], "amp_skip_streak": amp["streak"],
          "loss_scale": scale,
          "detail": f"GradScaler skipped the last {amp['streak']} optimizer steps because the gradients hold "
                    f"Inf/NaN, and its loss scale has fallen to {scale:.3g} (< 1): the gradients are "
                    "non-finite even unscaled, this is not loss-scale overflow"}
    return [NON_FINITE.finding(
        "error", msg("non-finite.amp-skips", scale=scale, skipped=amp["skipped"], steps=amp["steps"]),
        step=nf["step"], where=[], evidence={k: v for k, v in nf.items() if k not in ("where", "detail")},
        remedy_ids=["safe-sqrt", "fp32-loss", "clip-grad-norm", "lower-lr", "detect-anomaly-once"],
        detail=nf["detail"])]


@rule("non-finite")
def check_non_finite(ctx: Context) -> list[Finding]:
    nf = ctx.facts.get("nonfinite")
    if nf is None:
        # no optimizer step saw it (e.g. the loop skips NaN steps, or no optimizer): the loss series
        loss = ctx.store["loss"]
        vals = loss.array()
        bad = np.where(~np.isfinite(vals))[0] if len(vals) else []
        if len(bad) == 0:
            return _amp_persistent_skips(ctx)
        # the optimizer never saw it: either no optimizer steps at all, or the loop skips bad
        # batches (like GradScaler does). Skipping sporadic ones is a working strategy; a run
        # that stays non-finite is not.
        if ctx.step > 0 and np.isfinite(vals[-3:]).any():
            return []
        i = int(bad[0])
        nf = {"step": ctx.step, "stage": "loss", "where": [], "loss": float(vals[i]),
              "backward_pass": int(loss.steps[i]),
              "detail": f"the loss is {vals[i]} at backward pass {int(loss.steps[i])}"}
    stage = nf.get("stage", "unknown")
    where = list(nf.get("where", []))
    ids = {
        "input": ["check-data-finite", "detect-anomaly-once"],
        "forward": ["lower-lr", "safe-log", "clip-grad-norm", "fp32-loss", "detect-anomaly-once"],
        "parameter": ["lower-lr", "clip-grad-norm", "detect-anomaly-once"],
        "loss": ["safe-log", "fp32-loss", "lower-lr", "detect-anomaly-once"],
        "backward": ["safe-sqrt", "clip-grad-norm", "lower-lr", "detect-anomaly-once"],
        "update": ["lower-lr", "clip-grad-norm", "detect-anomaly-once"],
    }.get(stage, list(NON_FINITE.remedies))
    place = {
        "input": msg("non-finite.in-input"),
        "forward": msg("non-finite.in-forward-of", module=where[0], type=nf.get('module_type')) if where
        else msg("non-finite.in-forward"),
        "parameter": msg("non-finite.in-parameters-of", module=where[0]) if where else msg("non-finite.in-parameter"),
        "loss": msg("non-finite.in-loss"),
        "backward": msg("non-finite.in-backward-at", module=where[0]) if where else msg("non-finite.in-backward"),
        "update": msg("non-finite.in-update-of", module=where[0]) if where else msg("non-finite.in-update"),
    }.get(stage, msg("non-finite.in-unknown"))
    context = None
    if stage == "forward" and nf.get("enters_module") and where:
        # made by the module's own code between its layers (finite inputs and parameters): that code is the fix
        ids = ["safe-forward"] + [i for i in ids if i != "safe-log"]
        context = {"enters": nf["enters_module"], "module": where[0]}
    funcs = ctx.facts.get("custom_functions") or []
    if stage == "backward" and funcs:
        # a custom torch.autograd.Function in the graph: its backward formula is written by hand, and a NaN
        # made by the backward pass from a finite loss is most often such a formula's (0/0, inf * 0) -- a
        # built-in op's derivative matches its forward
        ids = ["autograd-backward"] + ids
        context = {"function": funcs[0]}
    evidence = {k: v for k, v in nf.items() if k not in ("where", "detail")}
    if stage == "backward" and funcs:
        evidence["custom_functions"] = list(funcs)
    summary = msg("non-finite", step=nf.get('step'), place=place)
    return [NON_FINITE.finding("error", summary, step=nf.get("step"), where=where, evidence=evidence,
                               remedy_ids=ids, detail=nf.get("detail", ""), context=context)]


@rule("exploding-gradient")
def check_exploding(ctx: Context) -> list[Finding]:
    out = []
    for ov in ctx.optimizers():
        f = _exploding_for(ctx, ov)
        if f is not None:
            out.append(f)
    return out


def _running_median_before_memo(memo: dict | None, key, L: np.ndarray, window: int) -> np.ndarray:
    """``_running_median_before(L, window)``, reusing the previous evaluation's result for the rows it
    already had: out[t] depends on L[:t] only, so when the series has only grown since (the old rows
    unchanged: not so after a rollback or a rewrite of the store), only the new rows are computed."""
    if memo is None:
        return _running_median_before(L, window)
    prev = memo.get(key)
    n = len(L)
    if prev is not None:
        pL, pout = prev
        m = len(pL)
        if window < m <= n and np.array_equal(pL, L[:m]):
            out = np.empty(n)
            out[:m] = pout
            if n > m:   # out[t] = median(L[t - window: t]) for t = m .. n-1
                out[m:] = row_median(windows(L[m - window: n - 1], window))
            memo[key] = (L.copy(), out)
            return out
    out = _running_median_before(L, window)
    memo[key] = (L.copy(), out)
    return out


EARLY_MARGIN = 1.0   # decades added to the single-step burst bar (3) while the running level rests on < 5 steps


def _bursts(L: np.ndarray, window: int = 20, min_history: int = 5, memo: dict | None = None,
            key=None) -> list[tuple[int, float]]:
    """Episodes where log10(grad norm) rises >= 2 decades above its running median.

    A burst must compound over more than one step (a neighbour >= 1 decade above the running level)
    or reach 3 decades: a single odd batch is not an explosion. Returns (row, excess) per episode.
    ``memo``/``key``: where the running median is kept between evaluations (see the memo function).
    """
    out: list[tuple[int, float]] = []
    excess = L - _running_median_before_memo(memo, (key, window), L, window)
    # before min_history rows the running level rests on 1-4 steps (the first steps' gradients differ from the
    # next ones by up to ~a decade): a burst there must stand EARLY_MARGIN decade(s) above the single-step bar.
    # An RNN's first update can take the gradient up 5 decades in one step and wreck the weights for good;
    # seen only against later rows, it would sink into the baseline.
    head = excess[:min_history]
    head[~(head >= 3 + EARLY_MARGIN)] = -np.inf
    excess[0] = -np.inf
    nxt = 1
    for t in np.flatnonzero(excess >= 2).tolist():   # (early rows below their bar hold -inf)
        if t < nxt:
            continue  # inside the episode already counted
        j = t
        while j + 1 < len(L) and excess[j + 1] >= 1:
            j += 1
        peak = float(excess[t: j + 1].max())
        compounding = j > t or (t > min_history and excess[t - 1] >= 1)
        if compounding or peak >= 3:
            out.append((t, peak))
        nxt = j + 1
    return out


def _exploding_for(ctx: Context, ov: OptView) -> Finding | None:
    G = ov.grad
    if len(G) < 3:
        return None
    cut = _first_nonfinite_row(G)
    followed_by_nonfinite = cut < len(G) or "nonfinite" in ctx.facts
    tot = _global_norm(G[:cut])
    steps = ov.grad_steps[:cut]
    ok = tot > 0
    tot, steps = tot[ok], steps[ok]
    n = len(tot)
    if n < 3:
        return None
    L = np.log10(tot)
    if float(L.max() - L.min()) < 2:
        # neither test can fire: a growth (a rolling median over a median) and a burst (a row over the median
        # of rows before it) are each at most the series' range, and both need 2 decades. (Exact, and the
        # usual case: most of a run's looks end here, without the running medians' cost.)
        return None
    # (a) sustained growth over the early level
    k0 = max(1, n // 3)
    base = median(L[:k0])
    tail = L[k0:]
    roll = _rolling_median(tail, 3) if len(tail) >= 6 else tail
    peak_i = int(np.argmax(roll))
    growth = float(roll[peak_i] - base)
    # (b) bursts far above the running level
    bursts = _bursts(L, memo=getattr(getattr(ctx, "store", None), "memo", None),
                     key=("exploding-bursts", getattr(ov, "key", None)))
    loss = ov.loss[np.isfinite(ov.loss)] if len(ov.loss) else ov.loss
    improving = False
    if len(loss) >= 6:
        m = max(1, len(loss) // 3)
        end = median(loss[-3:])
        improving = end < median(loss[:m]) * (1 - IMPROVEMENT)
        # a loss that fell only to what the best constant prediction scores (a regression on raw-scale
        # targets starts far above it: learning the targets' mean is most of its fall) has learned nothing
        # the bursts could have spared
        null = ctx.constant_prediction_loss()
        if improving and null is not None and not end < null * (1 - IMPROVEMENT):
            improving = False
    severity = None
    if growth >= 2 and (followed_by_nonfinite or not improving):
        severity = "error" if (growth >= 4 or followed_by_nonfinite) else "warning"
        first_row = k0 + int(np.where(roll - base >= 2)[0][0])
    elif bursts and (followed_by_nonfinite or not improving):
        worst = max(b[1] for b in bursts)
        severity = "error" if (followed_by_nonfinite or worst >= 4 or len(bursts) >= 2) else "warning"
        first_row = bursts[0][0]
    if severity is None:
        return None
    first = int(steps[min(first_row, n - 1)])
    peak_norm = float(10 ** L.max())
    # the layers whose gradient grew most
    X = G[:cut][ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.log10(np.where(X > 0, X, np.nan))
        growth_per = np.nanmax(per[k0:], axis=0) - row_nanmedian(per[:k0].T) if n > k0 else np.zeros(X.shape[1])
    order = np.argsort(-np.nan_to_num(growth_per, nan=-np.inf))
    top = [ctx.params[ov.positions[j]].name for j in order[:3] if np.isfinite(growth_per[j])]
    evidence = {
        "optimizer": ov.name,
        "baseline_grad_norm": 10 ** base,
        "peak_grad_norm": peak_norm,
        "growth_decades": round(max(growth, max((b[1] for b in bursts), default=0.0)), 2),
        "bursts_at_steps": [int(steps[b[0]]) for b in bursts][:10],
        "burst_decades_above_running_level": [round(b[1], 2) for b in bursts][:10],
        "followed_by_nonfinite": followed_by_nonfinite,
        "loss_start": median(loss[: max(1, len(loss) // 3)]) if len(loss) else None,
        "loss_end": median(loss[-3:]) if len(loss) else None,
        "steps_observed": n,
    }
    if growth >= 2:
        summary = msg("exploding-gradient.grew", growth=10 ** growth, base=10 ** base, peak=10 ** float(roll[peak_i]),
                      then=msg("exploding-gradient.then-non-finite") if followed_by_nonfinite
                      else msg("exploding-gradient.while-loss-flat"))
    else:
        summary = msg("exploding-gradient.bursts" if len(bursts) > 1 else "exploding-gradient.burst",
                      n=len(bursts), peak=peak_norm, first=first,
                      then=msg("exploding-gradient.then-non-finite") if followed_by_nonfinite
                      else msg("exploding-gradient.and-loss-flat"))
    lr = ov.lrs[0] if ov.lrs else None
    return EXPLODING.finding(severity, summary, step=first, where=top, evidence=evidence, key=ov.name,
                             context={"suggested_lr": f"{lr / 10:.3g}" if lr else None})


@rule("vanishing-gradient")
def check_vanishing(ctx: Context) -> list[Finding]:
    out = []
    order = ctx.module_order()
    if not order:
        return out
    for ov in ctx.optimizers():
        f = _vanishing_for(ctx, ov, order)
        if f is not None:
            out.append(f)
    return out


def _steady_in_decades(profile: np.ndarray, decay: float) -> bool:
    """A steady decay judged by its size in decades rather than by the order of the layers: the steps of the
    profile (input -> output) that go against the decay total at most half of the net decay (the decay is
    >= half of the profile's total variation: the same 0.5 as the rank correlation's bar), and neither end
    layer alone carries it: the layers before the last rise by at least half of an even per-layer share of
    it (the mirror of the interior test below: a gap at the output layer alone is a head with a large
    gradient, not a product compounding through depth).

    The rank correlation alone fails on a profile with a floor: with tiny weights (N(0, 0.01^2)) the forward
    signal vanishes toward the output as the backward one vanishes toward the input, so the weight
    gradients of the early layers sit on a floor, flat within a few tenths of a decade, below a climb of
    several decades over the last layers. Spearman ranks a 0.1-decade wiggle of that floor like a
    2-decade step of the climb: the same program passed (rho 0.55) or failed (rho 0.47) its bar of 0.5
    from one seed to the next, while the decay was 7.7 decades both times."""
    n = len(profile)
    if n < 3 or not decay > 0:
        return False
    steps = np.diff(profile)
    against = float(-steps[steps < 0].sum())
    before_last = float(profile[-2] - profile[0])
    return against <= 0.5 * decay and before_last >= 0.5 * decay * (n - 2) / (n - 1)


def _vanishing_for(ctx: Context, ov: OptView, order: dict[str, int]) -> Finding | None:
    # layers: modules with a weight matrix/kernel in this optimizer, in forward execution order
    layers: dict[str, list[int]] = {}
    for j, i in enumerate(ov.positions):
        p = ctx.params[i]
        if p.kind == "weight" and p.module in order and p.requires_grad:
            layers.setdefault(p.module, []).append(j)
    if len(layers) < 3 or len(ov.upd_steps) < 3:
        return None
    names = sorted(layers, key=lambda m: order[m])
    upd_rows, grad_rows = rows_at_same_steps(ov.upd_steps, ov.grad_steps)
    if len(upd_rows) < 3:
        return None
    cols = sorted({j for n in names for j in layers[n]})
    A = np.zeros((len(cols), len(names)))
    pos = {j: k for k, j in enumerate(cols)}
    for li, n in enumerate(names):
        for j in layers[n]:
            A[pos[j], li] = 1.0

    def ratios(ur: np.ndarray, gr: np.ndarray) -> tuple[np.ndarray, list[int]]:
        Gs = ov.grad[gr][:, cols]
        Ps = ov.param[ur][:, cols]
        valid = np.isfinite(Gs).all(1) & np.isfinite(Ps).all(1) & (Gs >= 0).all(1) & (Ps > 0).all(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            gn = np.sqrt(np.where(Gs >= 0, Gs, 0.0) ** 2 @ A)
            wn = np.sqrt(np.where(Ps > 0, Ps, 0.0) ** 2 @ A)
            valid &= (gn > 0).all(1)
            ratio = np.log10(gn / wn)
        return ratio[valid], ov.upd_steps[ur][valid].astype(int).tolist()

    # the verdict reads the last 10 valid rows (after the first 2, a transient): when the last 16 rows hold 12
    # valid ones, those are they, and the rest of the history is not computed (the same result)
    rows, used_steps = ratios(upd_rows[-16:], grad_rows[-16:]) if len(upd_rows) > 16 else ([], [])
    if len(rows) < 12:
        rows, used_steps = ratios(upd_rows, grad_rows)
    if len(rows) < 3:
        return None
    R = np.array(rows)
    if len(R) > 5:  # skip the initial transient
        R, used_steps = R[2:], used_steps[2:]
    R, used_steps = R[-10:], used_steps[-10:]
    profile = row_median(R.T)
    decay = float(profile[-1] - profile[0])
    rho = spearman(np.arange(len(profile)), profile)
    if decay < 3 or not (rho >= 0.5 or _steady_in_decades(profile, decay)):
        return None
    # vanishing compounds through depth: the layers after the first must carry a fair share of the
    # decay (at least half of what an even per-layer decay gives them). A gap at the input layer
    # alone comes from the inputs (tiny or sparse features), not from backpropagation through depth.
    interior = float(profile[-1] - profile[1])
    if interior < 0.5 * decay * (len(profile) - 2) / (len(profile) - 1):
        return None
    # ... and across repeated structure: the same layer in successive blocks (names equal up to
    # their indices: `blocks.0.fc`/`blocks.1.fc`, `net.0`/`net.2`, `fc1`/`fc2`) must lose its fair
    # share per layer too. A transformer's attention query/key matrices have tiny gradients in every
    # block at initialization (the softmax over near-uniform scores) and its head a large one, a gap
    # between kinds of layer that does not compound with depth: it is not a vanishing gradient.
    groups: dict[str, list[int]] = {}
    for li, n in enumerate(names):
        groups.setdefault(re.sub(r"\d+", "#", n), []).append(li)
    per_layer = [(profile[g[-1]] - profile[g[0]]) / (g[-1] - g[0]) for g in groups.values() if len(g) >= 2]
    if per_layer and median(per_layer) < 0.5 * decay / (len(profile) - 1):
        return None
    severity = "error" if decay >= 5 else "warning"
    weak = [n for n, v in zip(names, profile) if v <= profile[-1] - 2]
    acts = ctx.activation_types()
    saturating = [a for a in acts if a in ("Sigmoid", "Tanh", "Hardtanh", "Softsign", "LogSigmoid", "Hardsigmoid")]
    evidence = {
        "optimizer": ov.name,
        "relative_grad_by_layer": {n: float(10 ** v) for n, v in zip(names, profile)},
        "first_over_last": float(10 ** -decay),
        "decay_decades": round(decay, 2),
        "depth_rank_correlation": round(rho, 2),
        "layers": len(names),
        "activations": acts,
        "steps": [used_steps[0], used_steps[-1]],
    }
    summary = msg("vanishing-gradient", first=ctx.label(names[0]), ratio=10 ** -decay, last=ctx.label(names[-1]),
                  decay=decay, n=len(names),
                  acts=msg("vanishing-gradient.activations", acts=', '.join(saturating)) if saturating else "")
    ids = list(VANISHING.remedies)
    if not saturating:
        ids.remove("relu-family")
        ids.append("relu-family")
    return VANISHING.finding(severity, summary, step=used_steps[-1], where=weak or names[:1], key=ov.name,
                             evidence=evidence, remedy_ids=ids,
                             context={"activation": "/".join(saturating) if saturating else "the activation"})

