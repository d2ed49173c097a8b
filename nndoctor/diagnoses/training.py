"""How the run as a whole goes: overfitting (过拟合), training in eval mode, and the generic symptom
of a loss that does not go down when no specific cause has been found."""
from __future__ import annotations

import numpy as np

from ..findings import Finding
from ..messages import msg
from . import Context
from .registry import Diagnosis, register, rule
from .stats import mann_kendall_z, median, sig4, spearman, step_means, thin

GL_THRESHOLD = 0.25        # Prechelt's generalization loss GL = val/val_min - 1
# |rank correlation| the rule asks of both its trends (val loss up over time, val loss down as train loss
# falls): 0.5 is the conventional 'large' effect for a correlation (Cohen 1988); it is the bar the
# time trend always had, and the co-movement test uses the same one rather than a value of its own
TREND_RHO = 0.5
FLAT_IMPROVEMENT = 0.10    # loss-not-decreasing: less than 10% below its start
MIN_STEPS = 200            # early plateaus of ~100 steps are normal (attention models before warmup ends)
START_LOSSES = 5           # loss-not-decreasing's start level: the median of the run's first 5 losses
# the sign test on the sampled steps' directions (downhill: the update against its batch's gradient): z >= 2.58,
# the two-sided 1% level the trend tests use; 16 of 20 sampled steps one way, 29 of 41
SIGN_Z = 2.58
# specific codes that explain a flat loss by themselves
EXPLAINS_FLAT = {"optimizer-step-missing", "broken-gradient-flow", "parameter-not-optimized", "gradient-not-zeroed",
                 "vanishing-gradient", "exploding-gradient", "non-finite", "learning-rate-too-low",
                 "learning-rate-too-high", "poor-initialization", "loss-mismatch", "target-shape-mismatch",
                 "batch-size-too-small", "train-mode-off"}

OVERFITTING = register(Diagnosis(
    code="overfitting",
    title="Validation loss rises while training loss keeps falling",
    family="generalization",
    guide="网络过深或过宽 → 过拟合",
    what="The validation loss reached its minimum and has risen since, for several evaluations, while "
         "the training loss kept falling: the model is memorizing the training set.",
    why="A network with more capacity than the data supports fits the training examples' noise; "
        "past the validation minimum every further step makes it worse on new data.",
    evidence=("validation loss curve and where it was recognized", "step of the validation minimum (where the gap "
              "opened)", "generalization loss GL = val/val_min - 1", "training loss at the minimum and now"),
    remedies=("early-stopping", "dropout", "weight-decay", "smaller-model"),
    traps=("noisy validation loss: the rise must hold for >= 3 evaluations and trend upward",
           "a validation minimum that was one lucky evaluation in a noisy phase, then a learning rate decayed to "
           "~0 (ReduceLROnPlateau): the validation loss sits above that dip while the training loss no longer "
           "falls, and its creep of 1e-4 is a perfect rank trend; the validation loss must rise *as* the training "
           "loss falls (their rank correlation, evaluation by evaluation), not merely be above an early dip",
           "early stopping: a run that ends soon after its validation minimum (within a quarter of its length) "
           "has been stopped in time",
           "a loss computed under no_grad on the training set (another call site: a separate series)"),
    thresholds=(f"GL >= {GL_THRESHOLD:.0%} for the last >= 3 evaluations (Prechelt 1998, 'Early stopping -- but "
                "when?', GL criterion; Prechelt stops at a few %, but mild rises of up to ~20% are common at the end "
                "of well-regularized runs on small validation sets, while a quarter above the best checkpoint is a "
                "model clearly worse than one the run already had), rank correlation of step and val loss after the minimum >= 0.5, the "
                "training loss lower than at the minimum, and the rise spanning >= 25% of the run",
                f"from the minimum on, the rank correlation of the training loss (the median of the steps since the "
                f"previous evaluation) and the validation loss <= -{TREND_RHO}: the same 'large' effect (Cohen) the "
                "time trend must show; memorization drives both together (rho ~ -1), while a loss that sits above an "
                "early noisy minimum after the learning rate decayed has a training loss of pure minibatch noise "
                "there (rho ~ 0)"),
))

TRAIN_MODE_OFF = register(Diagnosis(
    code="train-mode-off",
    title="The model trains in eval mode",
    family="code",
    guide="",
    what="Training forward passes (followed by backward) run while the model is in eval mode, so "
         "Dropout is off and BatchNorm normalizes with its running statistics instead of the batch's.",
    why="Usually model.eval() was called for validation and model.train() never after it, so from the "
        "second epoch on the model trains without regularization and with frozen normalization.",
    evidence=("training passes in eval mode", "since step", "mode-sensitive modules (Dropout/BatchNorm)"),
    remedies=("model-train",),
    traps=("BatchNorm deliberately frozen with bn.eval() while the model itself is in train mode",
           "validation in eval mode under no_grad (no backward follows)",
           "a model with no Dropout/BatchNorm: eval mode changes nothing, so nothing is reported"),
    thresholds=("the last >= 10 training passes (or all, when fewer) ran in eval mode: one pass is a "
                "slip, ten in a row are the loop's steady state",),
))

LOSS_FLAT = register(Diagnosis(
    code="loss-not-decreasing",
    title="The loss does not decrease (no specific cause found)",
    family="other",
    guide="",
    what="After many steps the loss is not meaningfully below where it started, and none of the specific "
         "diagnoses explains it. Typical causes: labels that do not match the inputs, an input replaced by a "
         "constant, a target that is noise.",
    why="A model that cannot lower the training loss learns nothing; if the code and hyperparameters "
        "look right, the data pipeline is the usual suspect.",
    evidence=("loss at the start and at the end", "relative improvement", "trend statistic", "steps"),
    remedies=("overfit-one-batch", "check-labels", "lr-range-test"),
    traps=("GANs and other set-ups with several optimizers (opposing losses)",
           "surrogate objectives that take negative values (policy gradients)",
           "a loss that rises while the optimizer's steps go downhill on their own batches: what the loss measures "
           "changes (value targets growing with the returns in reinforcement learning, an annealed loss weight): "
           "info only",
           "never reported together with a specific code that explains a flat loss (dead units or an "
           "unnormalized input alone do not: they are reported alongside)",
           "a loss whose batches differ in kind (rare positives): its first batches may all lack the rare class; "
           "a loss that ends >= 10% below the best constant prediction's (when known) has learned from the "
           "inputs and is not reported, whatever its first losses were"),
    thresholds=(f">= {MIN_STEPS} steps (plateaus of ~100 steps are normal early in training, e.g. attention models) "
                f"and the median loss of the last quarter is >= {1 - FLAT_IMPROVEMENT:.0%} of the median of the "
                f"first {START_LOSSES} losses: a loss that moved less than a tenth is not being minimized, whatever "
                "its trend statistic (memorizing noise labels gives a significant but useless downward trend). The "
                "start is the run's first losses, not a share of the run: most runs make much of their progress "
                "early, and a share of a long run would hide it",
                f"or it is >= {1 - FLAT_IMPROVEMENT:.0%} of the loss of the best constant prediction (the entropy of "
                "the label frequencies for cross-entropy/BCE, the target variance for MSE, pooled over the sampled "
                "batches): the model has learned the prior, not the inputs; the same tenth, measured from the "
                "null model instead of the start; only for a plain mean loss (no class weights, pos_weight or label "
                "smoothing) whose result is what backward() runs on",
                f"the direction of the sampled steps (the cosine of each update with the gradient it was taken on), by "
                f"a sign test at z >= {SIGN_Z} (the 1% level): mostly uphill names the cause (an error: the optimizer "
                f"maximizes the loss); mostly downhill while the loss rises significantly (Mann-Kendall z >= {SIGN_Z}) "
                f"is a moving objective (info)"),
))


def _val_series(ctx: Context) -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    sites = ctx.facts.get("val_sites", {})
    for idx, label in sites.items():
        s = ctx.store[f"val_loss/{idx}"]
        if len(s) < 4:
            continue
        out.append((label, *step_means(s.steps, s.array())))
    return out


def _train_at_evals(tsteps: np.ndarray, tl: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The training loss paired with each evaluation: the median of the training losses logged since the
    previous evaluation (tsteps in (steps[k-1], steps[k]]), or the nearest one when none was."""
    out = np.full(len(steps), np.nan)
    fin = np.isfinite(tl)
    ts, tv = tsteps[fin], tl[fin]
    if not len(tv):
        return out
    lo = np.searchsorted(ts, np.concatenate(([-np.inf], steps[:-1])), side="right")
    hi = np.searchsorted(ts, steps, side="right")
    for k in range(len(steps)):
        if hi[k] > lo[k]:
            out[k] = median(tv[lo[k]:hi[k]])
        else:
            out[k] = tv[int(np.argmin(np.abs(ts - steps[k])))]
    return out


@rule("overfitting")
def check_overfitting(ctx: Context) -> list[Finding]:
    out = []
    train = ctx.store["loss"]
    if len(train) < 10:
        return out
    tb, tl = train.steps, train.array()
    # the train loss is indexed by backward pass; map to optimizer steps proportionally
    per_step = ctx.n_backward / max(ctx.step, 1)
    tsteps = tb / max(per_step, 1e-9)
    for label, steps, v in _val_series(ctx):
        ok = np.isfinite(v)
        steps, v = steps[ok], v[ok]
        if len(v) < 5:
            continue
        i = int(np.argmin(v))
        after = v[i + 1:]
        if len(after) < 3 or v[i] <= 0:
            continue
        gl = after / v[i] - 1
        if not (gl[-3:] >= GL_THRESHOLD).all():
            continue
        rho = spearman(steps[i:], v[i:])
        if rho < TREND_RHO:
            continue
        if steps[-1] - steps[i] < 0.25 * max(steps[-1], 1):
            continue
        near = np.abs(tsteps - steps[i]) <= max(1, 0.05 * steps[-1])
        t_at = median(tl[near]) if near.any() else median(tl[: max(1, len(tl) // 2)])
        t_end = median(tl[-max(3, len(tl) // 10):])
        if not t_end < t_at:
            continue
        # overfitting is the validation loss going up *as* the training loss goes down: evaluation by
        # evaluation from the minimum on, not only 'higher than the minimum, with a lower training loss at
        # the end'. A rank statistic of val vs time alone is scale-free, so a val loss frozen by a decayed
        # learning rate that creeps by 1e-4 ranks as a perfect trend; against a training loss that no
        # longer moves (minibatch noise) it correlates ~0.
        t_ev = _train_at_evals(tsteps, tl, steps)
        ok = np.isfinite(t_ev)
        ok[:i] = False
        co = spearman(t_ev[ok], v[ok]) if ok.sum() >= 3 else 0.0
        if co > -TREND_RHO:
            continue
        out.append(OVERFITTING.finding(
            "warning", msg("overfitting", label=label, step=int(steps[i]), best=v[i], now=v[-1], rise=gl[-1],
                           train_then=t_at, train_now=t_end),
            step=int(steps[i]), where=[label],
            evidence={"val_loss_min": sig4(v[i]), "val_min_step": int(steps[i]), "val_loss_now": sig4(v[-1]),
                      "generalization_loss": round(float(gl[-1]), 3), "train_loss_at_val_min": sig4(t_at),
                      "train_loss_now": sig4(t_end), "evaluations": len(v),
                      "rank_corr_train_val_since_min": round(float(co), 3),
                      "val_curve": [[int(s), sig4(x)] for s, x in zip(steps[-20:], v[-20:])]},
            key=label))
    return out


@rule("train-mode-off")
def check_train_mode(ctx: Context) -> list[Finding]:
    s = ctx.store["eval_forward"]
    if len(s) < 3:
        return []
    graphs = ctx.facts.get("graphs", [])
    sensitive = graphs[-1].get("mode_sensitive", []) if graphs else []
    if not sensitive:
        return []
    E = s.array()
    need = min(10, len(E))
    if len(E) < 3 or not (E[-need:] == 1).all():
        return []
    run_start = len(E) - 1
    while run_start > 0 and E[run_start - 1] == 1:
        run_start -= 1
    bws = s.steps
    since_bw = int(bws[run_start])
    per_step = ctx.n_backward / max(ctx.step, 1)
    since = int(since_bw / max(per_step, 1e-9)) if ctx.step else 0
    whole = run_start == 0
    bn = [n for n in sensitive if "Norm" in ctx.module_types.get(n, "")]
    return [TRAIN_MODE_OFF.finding(
        "error" if bn else "warning",
        msg("train-mode-off.whole-run" if whole else "train-mode-off.since", step=since,
            modules=', '.join(ctx.label(n) for n in sensitive[:3])),
        step=since, where=sensitive[:8],
        evidence={"training_passes_in_eval_mode": int(len(E) - run_start), "training_passes": int(len(E)),
                  "since_backward_pass": since_bw, "mode_sensitive_modules": sensitive[:8]})]


def _explained_now(ctx: Context, codes: set[str]) -> bool:
    """Is one of ``codes`` reported (warning/error) and not taken back by this very evaluation? ``ctx.found``
    starts from the findings before it; a code whose rule has run in this evaluation and found nothing at
    warning or error is being resolved now (it would be at the run's last evaluation too, with no next one
    for the flat loss it explained to be reported in)."""
    for code in set(ctx.found) & codes:
        now = ctx.cache.get(("findings", code), "not run")
        if now == "not run" or now is None or any(f.severity in ("warning", "error") for f in now):
            return True
    return False


@rule("loss-not-decreasing")
def check_loss_flat(ctx: Context) -> list[Finding]:
    active = [o for o in ctx.optimizers() if o.steps > 0]
    if len(active) != 1:
        return []
    ov = active[0]
    if ov.key in ctx.facts.get("maximize", ()):
        return []   # SGD/Adam(maximize=True): the series is an objective to raise (a reward), not a loss
    # the optimizer climbing its loss is the cause, whatever the other rules make of its tiny, diverging or
    # non-finite steps (their symptoms)
    down, up, m = _step_directions(ctx, ov)
    uphill = m > 0 and _sign_z(up, m) >= SIGN_Z
    if not uphill and _explained_now(ctx, EXPLAINS_FLAT):
        return []
    L = ov.loss[np.isfinite(ov.loss)] if len(ov.loss) else ov.loss
    if uphill and len(L) >= START_LOSSES and not (L < 0).any():
        start, end = median(L[:START_LOSSES]), median(L[-START_LOSSES:])
        return [LOSS_FLAT.finding("error", msg("loss-not-decreasing.uphill", start=start, end=end, steps=ov.steps,
                                               change=(end - start) / start if start > 0 else float("nan"), up=up, m=m),
                                  step=ov.steps, where=[ov.name],
                                  evidence={"loss_start": sig4(start), "loss_end": sig4(end), "sampled_steps": m,
                                            "uphill_steps": up, "steps": ov.steps})]
    if ov.steps < MIN_STEPS or len(L) < MIN_STEPS or (L < 0).any():
        return []
    n = len(L)
    # the level the run started from: its first START_LOSSES losses. Not a fixed share of the run (the
    # first 10% was used before): most runs make much of their progress early, so the longer the run, the
    # more of that progress a share of it hides. A VAE on digits fell from 41 to 28 in its first 60 steps of
    # 600 and on to 25; measured from the first 10% that was "9% in 600 steps", a false alarm
    start = median(L[:START_LOSSES])
    end = median(L[-max(5, n // 4):])
    if not (start > 0):
        return []
    if end < (1 - FLAT_IMPROVEMENT) * start:
        return _no_better_than_prior(ctx, ov, start, end)
    null = ctx.constant_prediction_loss()
    if null is not None and end < (1 - FLAT_IMPROVEMENT) * null:
        # the loss ends clearly below what predicting the label frequencies gives, which is where a model starts
        # that knows nothing of the inputs (or exactly where one starts whose output bias is set to the prior):
        # it has learned from the inputs, whatever its first batches showed. Five batches of a loss whose
        # batches differ in kind are not its level: an imbalanced classifier (0.9% positives) drew five without
        # a positive at another seed (median 0.008), then settled near 0.033, below the prior's 0.051
        return []
    z = mann_kendall_z(thin(L[n // 2:], 300))
    evidence = {"loss_start": sig4(start), "loss_end": sig4(end), "relative_improvement": round((start - end) / start, 4),
                "trend_z_last_half": round(z, 2), "steps": ov.steps}
    if m:
        evidence.update(sampled_steps=m, downhill_steps=down, uphill_steps=up)
    change = (end - start) / start
    if m and end > start and _sign_z(down, m) >= SIGN_Z and mann_kendall_z(thin(L, 300)) >= SIGN_Z:
        # the loss rises while step after step goes downhill on its own batch: what the loss measures changes
        # during the run (value targets that grow with the returns in reinforcement learning, a loss term whose
        # weight is annealed up, a curriculum) -- or steps that overshoot, when learning-rate-too-high has not
        # established it: info, which says both
        return [LOSS_FLAT.finding("info", msg("loss-not-decreasing.moving", start=start, end=end, steps=ov.steps,
                                              change=change, down=down, m=m),
                                  step=ov.steps, where=[ov.name], evidence=evidence)]
    return [LOSS_FLAT.finding(
        "warning", msg("loss-not-decreasing", start=start, end=end, steps=ov.steps, change=change),
        step=ov.steps, where=[ov.name], evidence=evidence)]


def _step_directions(ctx: Context, ov) -> tuple[int, int, int]:
    """(downhill, uphill, sampled): the sampled optimizer steps whose update went against / along the gradient
    it was taken on (the cosine of the two, measured at the sample steps)."""
    name = f"descent_cos/{ov.key}"
    if name not in ctx.store:
        return 0, 0, 0
    c = ctx.store[name].array()
    c = c[np.isfinite(c)]
    return int((c < 0).sum()), int((c > 0).sum()), int(len(c))


def _sign_z(k: int, m: int) -> float:
    """The sign test's z for k of m steps going one way (0 under the hypothesis that either way is a coin
    toss)."""
    return (2 * k - m) / np.sqrt(m) if m else 0.0


def _no_better_than_prior(ctx: Context, ov, start: float, end: float) -> list[Finding]:
    """The loss fell, but only to what predicting the targets' frequencies (the mean target) gives: the
    model learned the prior, not the inputs (e.g. labels misaligned with the inputs, memorized at the
    margin). Judged only when every backward pass ran on one loss function's own result (so the loss
    series *is* that function's mean loss) and its null loss is defined (see probes.loss.prior_stats)."""
    null = ctx.constant_prediction_loss()
    if null is None or end < (1 - FLAT_IMPROVEMENT) * null:
        return []
    calls = [d for d in ctx.facts.get("loss_calls", {}).values() if d.get("train")]
    return [LOSS_FLAT.finding(
        "warning", msg("loss-not-decreasing.prior", start=start, end=end, null=null, steps=ov.steps,
                       fn=calls[0].get("fn", "the loss")),
        step=ov.steps, where=[ov.name],
        evidence={"loss_start": sig4(start), "loss_end": sig4(end), "constant_prediction_loss": sig4(null),
                  "end_over_constant": round(end / null, 4), "steps": ov.steps})]
