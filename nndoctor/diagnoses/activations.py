"""Activations and initialization (网络结构与初始化问题): dead ReLUs, saturated sigmoid/tanh units,
and a forward signal that collapses or blows up through depth at initialization.

The rules read the activation samples (``facts["act_samples"]``, see probes/activations.py):
per module, plain numbers measured on a few consecutive training batches.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..findings import Finding
from ..messages import join, msg
from . import Context
from .registry import Diagnosis, register, rule
from .stats import decades, median, spearman

DEAD_WARN, DEAD_ERROR = 0.5, 0.9
DEAD_WARN_MOST = 2 / 3    # warning once most of the layer (two thirds) is dead
SAT_WARN, SAT_ERROR = 0.5, 0.9
MIN_SAMPLES = 32          # examples a sample must have seen before a unit may be called dead
DEPTH_DECADES, DEPTH_DECADES_ERROR = 3.0, 5.0
WEIGHT_FACTOR = 3.0

DEAD_RELU = register(Diagnosis(
    code="dead-relu",
    title="Most ReLU units of a layer output 0 for every input",
    family="activations",
    guide="激活函数选择不当 / 学习率过高",
    what="In a ReLU layer, a large share of the units (features, or channels for convolutions) were "
         "zero for every example seen. Such a unit has zero gradient, so it never comes back.",
    why="ReLU passes no gradient for negative inputs. Once a unit's pre-activation is negative for "
        "every input (a large negative bias, or a big update that pushed it there) it stops learning "
        "for good, and the layer has lost that part of its width.",
    evidence=("per-layer dead fraction", "units", "examples observed", "dead fraction at the first sample",
              "step"),
    remedies=("leaky-relu", "lower-lr", "init-for-activation", "fix-negative-bias"),
    traps=("normal sparsity: in a healthy ReLU net a few % to ~20% of units can be silent on a batch",
           "the network's input (e.g. image pixels that are always 0) is not an activation: the first layer's "
           "input is never judged",
           "too few examples to tell: a unit is only called dead after >= 32 examples",
           "units silent in one sample that fire again later: the fraction must hold in the last two samples"),
    thresholds=("reported at >= 50% of a layer's units dead over >= 32 examples: the layer has lost half of "
                "its width for good (a live unit that fires on 10% of inputs is silent on 32 in a row with "
                "probability 0.9^32 = 3%)",
                "warning at >= 2/3 (fewer than a third of the units carry the layer); between 1/2 and 2/3 info: "
                "networks often train as well with that share silent (e.g. a VAE encoder under its KL term loses "
                "~60% of its units with no change to the ELBO, checked against LeakyReLU)",
                "error at >= 90%: the layer passes almost no signal or gradient (by the worst layer's share "
                "alone: a one-hidden-layer net at 53% is info, like any layer at 53%)"),
))

SATURATED = register(Diagnosis(
    code="saturated-activation",
    title="Sigmoid/tanh units sit in their flat tails",
    family="activations",
    guide="激活函数选择不当 (Sigmoid/Tanh 饱和)",
    what="Most outputs of a sigmoid or tanh layer are in the flat tails (|tanh| > 0.99, sigmoid < 0.01 "
         "or > 0.99), where the derivative is under 4% of its maximum.",
    why="The gradient through a saturated unit is multiplied by its near-zero derivative, so the layers "
        "before it barely learn: the guide's reason for preferring ReLU and for normalizing inputs.",
    evidence=("per-layer saturated fraction", "samples", "steps"),
    remedies=("standardize-inputs", "init-for-activation", "normalize-before-activation", "relu-family"),
    traps=("an output sigmoid of a confident classifier (its output is the model's output: excluded)",
           "LSTM/GRU gates (inside the recurrent module, not judged)",
           "saturation only in one sample: it must hold in the last two samples when there are two",
           "saturation by design in a run that learns: a hand-written LSTM cell stores a symbol as candidate values "
           "pinned at +-1 (55-70% beyond |0.99| once trained); a run whose loss has fallen a decade below its start "
           "learns through its saturated units, so the finding is info there, not an alarm"),
    thresholds=("warning when >= 50% of a layer's outputs are saturated ('most inputs'), error at >= 90%",
                "info instead when the training loss's latest tenth is a decade (10x) below its first tenth "
                "(the harm saturation does is a stalled loss; a decade is where repair mode calls a run learning)"),
))

POOR_INIT = register(Diagnosis(
    code="poor-initialization",
    title="At initialization the forward signal collapses or explodes through depth",
    family="init",
    guide="权重初始化不当",
    what="On the first batch, the scale (RMS) of the signal entering each layer shrinks or grows "
         "steadily from layer to layer by orders of magnitude, or a hidden layer's weights are several "
         "times larger than its activation can take and drive it into saturation.",
    why="Each layer multiplies the signal's scale by roughly std(w)·sqrt(fan_in)·(activation gain); "
        "unless that is ~1 (He init for ReLU, Xavier for tanh/sigmoid) the product over depth "
        "vanishes or explodes, and the gradients do the same on the way back.",
    evidence=("per-layer input RMS at init, in forward order", "decades of change", "weight std vs "
              "recommended std for the following activation"),
    remedies=("init-for-activation", "lsuv", "add-normalization"),
    traps=("normalization layers reset the scale (measured after them, so they pass)",
           "a zero-initialized last layer or residual branch (only layer inputs are measured)",
           "PyTorch's default init in a shallow net shrinks the signal ~0.4 decades per ReLU layer: "
           "below the threshold until ~8 layers"),
    thresholds=("the input RMS of the hidden layers changes >= 3 decades (1000x) from the first hidden layer "
                "to the last, monotonically (rank correlation with depth >= 0.8): with He init it stays "
                "within a decade at any depth; error at >= 5 decades",
                "or the part of it that varies with the input (centered over the batch) falls by the same bars "
                "while the median hidden layer's weight std is >= 3x below the recommended std (the biases' "
                "constant part keeps the plain RMS up)",
                "or a hidden layer's weight std is >= 3x the recommended std (He: sqrt(2/fan_in); Xavier: "
                "gain*sqrt(2/(fan_in+fan_out))) and its following sigmoid/tanh is >= 50% saturated at init"),
))


def _samples(ctx: Context) -> list[dict[str, Any]]:
    return [s for s in ctx.facts.get("act_samples", []) if s.get("modules")]


def _prev_kinds(mods: dict[str, dict]) -> dict[str, str]:
    """For each module, the kind of the hooked module that ran just before it."""
    order = sorted(mods, key=lambda n: mods[n]["order"])
    return {n: (mods[order[i - 1]]["kind"] if i else "") for i, n in enumerate(order)}


def _dead_layers(sample: dict, batch: int) -> dict[str, tuple[float, int]]:
    """{label: (dead fraction, units)} for ReLU modules and functional ReLUs before layers."""
    mods = sample["modules"]
    seen = sample.get("forwards", 0) * max(batch, 1)
    if seen < MIN_SAMPLES:
        return {}
    prev = _prev_kinds(mods)
    out = {}
    for name, m in mods.items():
        if m["kind"] == "relu" and _ok(m.get("dead")) and m.get("units", 0) >= 4:
            out[name] = (m["dead"], int(m["units"]))
        elif m["kind"] == "layer" and prev.get(name) not in ("relu", "sigmoid", "tanh") and \
                _ok(m.get("dead_in")) and m.get("is_model_input", 1) == 0 and _ok(m.get("min_in")) \
                and m["min_in"] >= 0 and m.get("units_in", 0) >= 4:
            out[f"input of {name}"] = (m["dead_in"], int(m["units_in"]))
    return out


def _ok(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


@rule("dead-relu")
def check_dead_relu(ctx: Context) -> list[Finding]:
    samples = _samples(ctx)
    if not samples:
        return []
    batch = ctx.batch_size()
    last = _dead_layers(samples[-1], batch)
    prev = _dead_layers(samples[-2], batch) if len(samples) >= 2 else None
    first = _dead_layers(samples[0], batch)
    # dead for good: in the last two samples when there are two (a unit that fires again was not dead)
    bad = {k: v for k, v in last.items() if v[0] >= DEAD_WARN and (prev is None or prev.get(k, (1.0,))[0] >= DEAD_WARN)}
    if not bad:
        return []
    worst = max(v[0] for v in bad.values())
    # a warning needs harm: units still dying as training goes, or a run that is not learning;
    # a stable share of silent units in a run that learns well is worth knowing (info), not an alarm
    grew = max((bad[k][0] - first.get(k, (0.0, 0))[0]) for k in bad) if samples[0] is not samples[-1] else 0.0
    # severity by the worst layer's share alone, in the documented tiers. (It used to be an error too
    # whenever every ReLU layer was at least half dead: in a one-hidden-layer net "every layer" is that one
    # layer, so 53% dead was an error there while 65% in a two-layer net was info -- the escalation said
    # nothing about harm, only about how many ReLU layers the model has.)
    if worst >= DEAD_ERROR:
        severity = "error"
    elif worst >= DEAD_WARN_MOST:
        severity = "warning"
    else:
        severity = "info"
    since = None
    for s in samples:
        d = _dead_layers(s, batch)
        if any(d.get(k, (0, 0))[0] >= DEAD_WARN for k in bad):
            since = s["step"]
            break
    names = sorted(bad, key=lambda k: -bad[k][0])
    at_init = {k: round(first[k][0], 3) for k in names if k in first} if samples[0]["step"] == 0 else {}
    how = (msg("dead-relu.at-init") if at_init and all(at_init.get(k, 0) >= DEAD_WARN for k in names)
           else msg("dead-relu.since", step=since) if since is not None else "")
    desc = join(msg("dead-relu.layer", layer=_label(ctx, k), share=bad[k][0], units=bad[k][1]) for k in names[:4])
    return [DEAD_RELU.finding(
        severity, msg("dead-relu", how=how, desc=desc, examples=samples[-1].get('forwards', 0) * max(batch, 1)),
        step=since, where=[k.replace("input of ", "") for k in names],
        evidence={"dead_fraction": {k: round(bad[k][0], 3) for k in names}, "growth_since_first_sample": round(grew, 3),
                  "units": {k: bad[k][1] for k in names},
                  "examples_observed": samples[-1].get("forwards", 0) * max(batch, 1),
                  "dead_fraction_at_init": at_init, "since_step": since, "sample_step": samples[-1]["step"]},
        context={"where": ", ".join(f"`{k}`" for k in names[:3])})]


def _label(ctx: Context, key: str):
    if key.startswith("input of "):
        return msg("activation-before", layer=ctx.label(key[9:]))
    return ctx.label(key)


def _saturated_layers(sample: dict) -> dict[str, tuple[float, str]]:
    mods = sample["modules"]
    prev = _prev_kinds(mods)
    out = {}
    for name, m in mods.items():
        if m["kind"] in ("tanh", "sigmoid") and _ok(m.get("sat")) and not m.get("is_output"):
            out[name] = (m["sat"], m["type"])
        elif m["kind"] == "layer" and prev.get(name) not in ("relu", "sigmoid", "tanh") \
                and m.get("is_model_input", 1) == 0 and _ok(m.get("min_in")) and _ok(m.get("max_in")):
            lo, hi = m["min_in"], m["max_in"]
            if _ok(m.get("discrete_in")) and m["discrete_in"] >= 0.99:
                continue  # values only in {-1, 0, 1}: a sign()/binarization (straight-through), not a tanh
            if -1.0 <= lo < 0 and hi <= 1.0 and _ok(m.get("sat_in_tanh")):
                out[f"input of {name}"] = (m["sat_in_tanh"], "tanh")
            elif 0 < lo and hi < 1.0 and _ok(m.get("sat_in_sigmoid")):
                out[f"input of {name}"] = (m["sat_in_sigmoid"], "sigmoid")
    return out


@rule("saturated-activation")
def check_saturated(ctx: Context) -> list[Finding]:
    samples = _samples(ctx)
    if not samples:
        return []
    last = _saturated_layers(samples[-1])
    prev = _saturated_layers(samples[-2]) if len(samples) >= 2 else None
    bad = {k: v for k, v in last.items() if v[0] >= SAT_WARN and (prev is None or prev.get(k, (0,))[0] >= SAT_WARN)}
    if not bad:
        return []
    names = sorted(bad, key=lambda k: -bad[k][0])
    worst = bad[names[0]][0]
    types = sorted({bad[k][1] for k in names})
    severity = "error" if worst >= SAT_ERROR else "warning"
    fell = _loss_fall(ctx)
    if fell is not None and fell <= LEARNING_FALL:
        # the harm saturation does is a stalled loss: a run a decade below its start learns through its saturated
        # units (a hand-written LSTM's candidate values pinned at +-1 store what it remembers), as dead-relu judges a
        # stable share of silent units in a run that learns: worth knowing, not an alarm
        severity = "info"
    desc = join(msg("saturated-activation.layer", layer=_label(ctx, k), share=bad[k][0]) for k in names[:4])
    act = "Tanh" if "Tanh" in types or "tanh" in types else "Sigmoid"
    return [SATURATED.finding(
        severity, msg("saturated-activation", desc=desc),
        step=samples[-1]["step"], where=[k.replace("input of ", "") for k in names],
        evidence={"saturated_fraction": {k: round(bad[k][0], 3) for k in names},
                  **({"loss_latest_over_first": round(fell, 4)} if fell is not None else {}),
                  "activation": {k: bad[k][1] for k in names},
                  "sample_steps": [s["step"] for s in samples[-2:]],
                  # a functional sigmoid/tanh applied straight to a layer's output: that layer (repair
                  # re-initializes it)
                  **({"fed_by": fed} if (fed := {k: samples[-1]["modules"][k]["fed_by"] for k in names
                                                 if samples[-1]["modules"].get(k, {}).get("fed_by")}) else {})},
        context={"activation": act, **_init_context(act.lower())})]


# a run whose loss has fallen a decade below its start learns: saturated-activation's bar for harm, and repair
# mode's for a run a restarting remedy must not throw away (it imports this one)
LEARNING_FALL = 0.1


def _loss_fall(ctx: Context) -> float | None:
    """The training loss's latest tenth over its first tenth (medians; at least 20 finite, positive losses of the
    optimizer with the most), or None."""
    best = None
    for ov in ctx.optimizers():
        L = ov.loss[np.isfinite(ov.loss)] if len(ov.loss) else ov.loss
        if len(L) >= 20 and (best is None or len(L) > len(best)):
            best = L
    if best is None:
        return None
    k = max(3, len(best) // 10)
    start, end = float(np.median(best[:k])), float(np.median(best[-k:]))
    return end / start if start > 0 and end >= 0 else None


def _init_context(act: str | None) -> dict[str, str]:
    if act in ("relu", "relu6"):
        return {"init_call": 'torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")',
                "init_title": "He/Kaiming init for ReLU layers: kaiming_normal_(nonlinearity=\"relu\")"}
    if act == "tanh":
        return {"init_call": "torch.nn.init.xavier_uniform_(m.weight)",
                "init_title": "Xavier/Glorot init for tanh layers (Glorot & Bengio 2010): xavier_uniform_"}
    if act == "sigmoid":
        return {"init_call": "torch.nn.init.xavier_uniform_(m.weight)",
                "init_title": "Xavier/Glorot init for sigmoid layers: xavier_uniform_"}
    return {}


def _recommended_std(act: str | None, fan_in: int, fan_out: int) -> float:
    if act == "relu":
        return math.sqrt(2.0 / fan_in)
    if act in ("tanh", "sigmoid"):
        # Glorot & Bengio's std, gain 1 for tanh as they derived it: the init the snippet above and repair mode's
        # re-initialization give (torch's calculate_gain("tanh") = 5/3 left 2 of 11 repaired pairs off their twins)
        return math.sqrt(2.0 / (fan_in + fan_out))
    return math.sqrt(1.0 / fan_in)


def _following_activation(mods: dict[str, dict], name: str) -> str | None:
    """The activation applied to a layer's output: the next hooked module if it is one, else what
    the next layer's input looks like (functional activations)."""
    order = sorted(mods, key=lambda n: mods[n]["order"])
    i = order.index(name)
    if i + 1 < len(order):
        nxt = mods[order[i + 1]]
        if nxt["kind"] in ("relu", "tanh", "sigmoid"):
            return nxt["kind"]
        if nxt["kind"] == "layer" and _ok(nxt.get("min_in")) and _ok(nxt.get("max_in")):
            lo, hi = nxt["min_in"], nxt["max_in"]
            if lo == 0 and _ok(nxt.get("dead_in")):
                return "relu"
            if -1 <= lo < 0 and hi <= 1:
                return "tanh"
            if 0 < lo and hi < 1:
                return "sigmoid"
    return None


@rule("poor-initialization")
def check_poor_init(ctx: Context) -> list[Finding]:
    samples = _samples(ctx)
    if not samples or samples[0]["step"] > 1:  # `nndoctor run` finds the model at its first backward pass
        return []
    mods = samples[0]["modules"]
    layers = sorted((n for n, m in mods.items() if m["kind"] == "layer" and m["type"] not in
                     ("LSTM", "GRU", "RNN")), key=lambda n: mods[n]["order"])
    hidden = [n for n in layers if mods[n].get("is_model_input", 1) == 0 and _ok(mods[n].get("rms_in_first"))]
    findings_ev: dict[str, Any] = {}
    summary = None
    severity = "warning"
    if len(hidden) >= 3:
        rms = np.array([max(mods[n]["rms_in_first"], 1e-30) for n in hidden])  # the very first batch
        dec = decades(rms[0], rms[-1]) if rms[0] > 0 else 0.0
        rho = spearman(np.arange(len(rms)), np.log10(rms))
        if abs(dec) >= DEPTH_DECADES and abs(rho) >= 0.8 and np.sign(rho) == np.sign(dec):
            way = msg("poor-initialization.collapses" if dec < 0 else "poor-initialization.blows-up")
            summary = msg("poor-initialization.depth", way=way, first=ctx.label(hidden[0]), rms_first=rms[0],
                          last=ctx.label(hidden[-1]), rms_last=rms[-1], decades=abs(dec), n=len(hidden))
            severity = "error" if abs(dec) >= DEPTH_DECADES_ERROR else "warning"
            findings_ev.update(input_rms={n: float(f"{mods[n]['rms_in_first']:.3g}") for n in hidden},
                               decades=round(dec, 2), rank_correlation=round(rho, 2))
    weights = {}
    acts = {}
    for n in layers:
        m = mods[n]
        act = _following_activation(mods, n)
        acts[n] = act
        if m.get("weight_std") is None or not m.get("fan_in"):
            continue
        rec = _recommended_std(act, m["fan_in"], m["fan_out"] or m["fan_in"])
        weights[n] = (m["weight_std"], rec)
    oversized = []
    order = sorted(mods, key=lambda k: mods[k]["order"])
    for n in hidden:
        if n not in weights or acts.get(n) not in ("tanh", "sigmoid"):
            continue
        std, rec = weights[n]
        nxt = mods[order[order.index(n) + 1]] if order.index(n) + 1 < len(order) else None
        sat = nxt.get("sat") if nxt is not None and nxt["kind"] in ("tanh", "sigmoid") else None
        if sat is None and nxt is not None and nxt["kind"] == "layer":
            # a functional tanh/sigmoid between two layers (one call site for all of them, in a loop): the
            # share of the next layer's input in the activation's flat tails is this layer's saturation
            sat = nxt.get(f"sat_in_{acts[n]}")
        if std >= WEIGHT_FACTOR * rec and sat is not None and _ok(sat) and sat >= SAT_WARN:
            oversized.append((n, std, rec, sat))
    if oversized and summary is None:
        n, std, rec, sat = oversized[0]
        summary = msg("poor-initialization.weights", layer=ctx.label(n), std=std, factor=std / rec,
                      init=_init_name(acts[n]), rec=rec, act=acts[n], sat=sat)
    if summary is None and len(hidden) >= 3:
        # the part of the signal that varies with the input (the layer inputs centered over the batch) can fade
        # through depth while a constant part, which the biases add, keeps the plain RMS up: 6 ReLU layers at
        # N(0, 0.01) take it from 2.6e-2 to 8e-9 while the RMS goes from 3e-2 to 4e-5 and back up at the last
        # layer. It is judged by the same bars, and only where the hidden layers' weights are WEIGHT_FACTOR
        # times smaller than the init their activation asks for (median layer): the cause the remedy undoes.
        # (PyTorch's default init, 0.41x He for a ReLU, fades the varying part by ~0.4 decades per layer too,
        # by design of its fan-in bound; a 12-layer net of it is left alone.)
        crms = [mods[n].get("crms_in_first") for n in hidden]
        ratios = [weights[n][0] / weights[n][1] for n in hidden if n in weights and acts.get(n) and weights[n][1] > 0]
        if all(_ok(c) for c in crms) and ratios and median(ratios) <= 1 / WEIGHT_FACTOR:
            c = np.array([max(v, 1e-30) for v in crms])
            cdec = decades(c[0], c[-1]) if c[0] > 0 else 0.0
            crho = spearman(np.arange(len(c)), np.log10(c))
            if cdec <= -DEPTH_DECADES and crho <= -0.8:
                main = max(set(a for a in acts.values() if a), key=list(acts.values()).count, default="relu")
                summary = msg("poor-initialization.depth-varying", first=ctx.label(hidden[0]), c_first=c[0],
                              last=ctx.label(hidden[-1]), c_last=c[-1], decades=abs(cdec), n=len(hidden),
                              factor=1 / median(ratios), init=_init_name(main))
                severity = "error" if abs(cdec) >= DEPTH_DECADES_ERROR else "warning"
                findings_ev.update(varying_input_rms={n: float(f"{v:.3g}") for n, v in zip(hidden, c)},
                                   decades=round(cdec, 2), rank_correlation=round(crho, 2),
                                   weight_std_below_recommended=round(1 / median(ratios), 2))
    if summary is None:
        return []
    act_counts: dict[str, int] = {}
    for a in acts.values():
        if a:
            act_counts[a] = act_counts.get(a, 0) + 1
    main_act = max(act_counts, key=act_counts.get) if act_counts else "relu"
    findings_ev.update(weight_std_vs_recommended={n: [float(f"{w[0]:.3g}"), float(f"{w[1]:.3g}")]
                                                  for n, w in list(weights.items())[:12]},
                       following_activation={n: a for n, a in acts.items() if a},
                       measured_at_step=samples[0]["step"],
                       # judged on the first sample only (the state at initialization): a record of the past, which a
                       # repair made since (a re-initialization for another finding) has changed; repair mode does
                       # not act on it then
                       evidence_last_step=samples[0]["step"])
    if oversized:
        findings_ev["oversized_layers"] = [o[0] for o in oversized]
    where = [o[0] for o in oversized] or hidden[:1] + hidden[-1:]
    return [POOR_INIT.finding(severity, summary, step=samples[0]["step"], where=where, evidence=findings_ev,
                              context=_init_context(main_act))]


def _init_name(act: str | None) -> str:
    return {"relu": "He", "tanh": "Xavier", "sigmoid": "Xavier"}.get(act or "", "LeCun")
