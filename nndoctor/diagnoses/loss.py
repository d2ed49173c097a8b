"""Loss function problems (损失函数选择错误): a loss that does not fit the task or the model's outputs,
and predictions and targets that broadcast silently.

The rules read ``facts["loss_calls"]`` (one description per loss function and call site: shapes,
the op that produced the prediction, value summaries of prediction and target; see
probes/loss.py), ``facts["loss_broadcasts"]`` (hand-written losses) and ``facts["exception"]``.
"""
from __future__ import annotations

import math
import re
from typing import Any

from ..findings import Finding
from . import Context
from .registry import Diagnosis, register, rule
from .stats import sig4

LOSS_MISMATCH = register(Diagnosis(
    code="loss-mismatch",
    title="The loss does not fit the task or the model's outputs",
    family="loss",
    guide="损失函数选择错误",
    what="The loss function is not the one the task and the model's outputs call for: CrossEntropyLoss "
         "fed probabilities (softmax applied twice), NLLLoss fed raw scores, BCEWithLogitsLoss fed a "
         "sigmoid's output, BCELoss fed values that are not a sigmoid's output, a regression loss on "
         "class labels, cross-entropy on multi-hot (multi-label) targets, or a one-unit softmax.",
    why="Each loss assumes a form of prediction and target (the guide's table: binary -> binary "
        "cross-entropy, multi-class -> categorical cross-entropy, regression -> MSE). Feeding it "
        "something else squashes the gradients, bounds the loss away from its optimum, or optimizes "
        "a different task.",
    evidence=("the loss function and its call site", "inferred task (binary, multi-class, multi-label, "
              "regression)", "prediction shape and the op that produced it", "prediction and target value ranges",
              "the specific mismatch"),
    remedies=("ce-on-logits", "bce-with-logits", "cross-entropy", "nll-after-log-softmax", "multilabel-bce",
              "two-logits-or-bce", "regression-loss"),
    traps=("NLLLoss after log_softmax, CrossEntropyLoss on logits, BCEWithLogitsLoss for multi-label targets",
           "soft-label / label-smoothed cross-entropy and KL distillation (targets are distributions: rows sum to 1)",
           "regression on integer-valued targets (e.g. counts or prices in whole units): only targets that look "
           "like class indices (exactly 0..K-1, K <= 20) or binary labels are called class labels",
           "a Brier-style MSE on softmax outputs is reported as a warning, never an error"),
    thresholds=("exact tests, no tuned numbers: the op that produced the prediction (read from its autograd "
                "node), rows summing to 1 within 1e-3, values inside [0, 1], integer-valued targets",),
))

SHAPE_MISMATCH = register(Diagnosis(
    code="target-shape-mismatch",
    title="Prediction and target shapes differ and broadcast silently",
    family="loss",
    guide="损失函数选择错误 / 代码实现常见问题",
    what="The loss combines a prediction and a target of different shapes that broadcast to a bigger "
         "tensor, e.g. an [N, 1] output against an [N] target gives an [N, N] matrix of every "
         "prediction against every target.",
    why="Broadcasting is silent: the loss is a number either way, but it no longer compares each "
        "prediction with its own target, so the model learns (at best) the mean target.",
    evidence=("prediction shape", "target shape", "broadcast shape", "the loss and its call site"),
    remedies=("match-shapes",),
    traps=("pairwise losses that broadcast two model outputs on purpose ([N,1,D] - [1,N,D]): both sides "
           "come from the model, so they are not a prediction against a target",
           "a per-class weight or mask broadcast over the batch (the result is not bigger than the prediction)"),
    thresholds=("error when the broadcast result has more elements than both the prediction and the target "
                "(the [N,N] case); warning when only the target is broadcast over extra output columns",),
))


def _task(d: dict[str, Any]) -> str:
    fam = d["family"]
    if fam in ("class", "nll"):
        if d["target_shape"] == d["pred_shape"] and d["target_binary"] and _gt(d["target_rowsum_max"], 1.0):
            return "multi-label"
        return "multi-class" if d["n_classes"] != 2 else "binary (2 logits)"
    if fam in ("bce", "bce_logits"):
        return "multi-label" if d["n_classes"] > 1 and _gt(d["target_rowsum_max"], 1.0) else "binary"
    if d["target_binary"]:
        return "binary labels" if d["n_classes"] <= 1 else "one-hot classes"
    return "regression"


def _gt(v, x) -> bool:
    return v is not None and isinstance(v, float) and math.isfinite(v) and v > x


def _near(v, x, tol=1e-3) -> bool:
    return v is not None and isinstance(v, float) and math.isfinite(v) and abs(v - x) <= tol


def _is_probability(d: dict) -> bool:
    return (d["producer"] in ("Softmax", "Sigmoid")
            or (d["pred_min"] >= 0 and d["pred_max"] <= 1 and _near(d["pred_rowsum_min"], 1) and
                _near(d["pred_rowsum_max"], 1)))


def _mismatch(d: dict) -> tuple[str, str, list[str]] | None:
    """(severity, what is wrong, remedy ids) for one loss call, or None."""
    fam, prod = d["family"], d["producer"]
    ps, ts = d["pred_shape"], d["target_shape"]
    if fam == "class":
        if len(ps) >= 2 and ps[1] == 1:
            return ("error", "cross-entropy over a single output unit: softmax over one class is always 1, so "
                             "the loss is always 0 and nothing is learned", ["two-logits-or-bce"])
        if ts == ps and d["target_dtype"].startswith("float"):
            if d["target_binary"] and _gt(d["target_rowsum_max"], 1.0 + 1e-3):
                return ("error", "cross-entropy with multi-hot targets (several labels per example): softmax makes "
                                 "the labels compete; multi-label needs one sigmoid per label", ["multilabel-bce"])
            if d["target_min"] < 0 or not (_near(d["target_rowsum_min"], 1, 1e-2) and _near(d["target_rowsum_max"], 1, 1e-2)):
                return ("error", "cross-entropy with float targets that are not class probabilities (rows do not "
                                 "sum to 1): regression targets need a regression loss", ["regression-loss", "cross-entropy"])
        if _is_probability(d):
            how = f"the output of a {prod.lower()}" if prod in ("Softmax", "Sigmoid") else "probabilities (rows sum to 1)"
            return ("warning", f"CrossEntropyLoss is given {how}, but it applies log_softmax itself: the softmax "
                               "is applied twice, which squashes the logits and the gradients", ["ce-on-logits"])
    if fam == "nll":
        if len(ps) >= 2 and ps[1] == 1:
            return ("error", "NLL over a single output unit: the loss cannot teach anything", ["two-logits-or-bce"])
        if prod in ("Softmax", "Sigmoid") or _is_probability(d):
            return ("error", "NLLLoss is given probabilities, not log-probabilities: it then minimizes -p (bounded, "
                             "with tiny gradients)", ["nll-after-log-softmax"])
        if prod not in ("LogSoftmax", "Log", "LogSigmoid") and _gt(d["pred_max"], 1e-6):
            return ("error", f"NLLLoss is given raw scores (produced by {prod or 'a leaf'}, max {d['pred_max']:.3g} > 0): "
                             "NLL expects log-probabilities, so the loss is unbounded below and the scores grow "
                             "without limit", ["nll-after-log-softmax", "cross-entropy"])
    if prod in ("Softmax", "LogSoftmax") and (d.get("softmax_size") == 1 or
                                                (fam in ("bce", "bce_logits", "regression") and ps and ps[-1] == 1)):
        return ("error", "a softmax over a single output unit is always 1 (its log always 0): the prediction is "
                         "constant and its gradient is zero", ["two-logits-or-bce"])
    if fam == "bce":
        if _gt(d["target_max"], 1.0) or d["target_min"] < 0:
            return ("error", f"binary cross-entropy with targets outside [0, 1] ({d['target_min']:.3g} to "
                             f"{d['target_max']:.3g}): class indices need CrossEntropyLoss", ["cross-entropy"])
        if prod in ("Clamp", "Clip", "ClampMin", "ClampMax", "Hardtanh", "Hardsigmoid", "Addmm", "Mm", "Linear",
                    "Add", "Convolution", "Squeeze"):
            return ("warning", f"BCELoss is given values produced by {prod}, not by a sigmoid: use "
                               "BCEWithLogitsLoss on the raw outputs (clamping kills the gradient outside [0, 1])",
                    ["bce-with-logits"])
    if fam == "bce_logits":
        if prod in ("Sigmoid", "Softmax"):
            return ("error", f"BCEWithLogitsLoss is given the output of a {prod.lower()}: it applies a sigmoid itself, "
                             "so the sigmoid is applied twice and predictions are confined to [0.5, 0.73]",
                    ["bce-with-logits"])
        if _gt(d["target_max"], 1.0) or d["target_min"] < 0:
            return ("error", f"BCEWithLogitsLoss with targets outside [0, 1] ({d['target_min']:.3g} to "
                             f"{d['target_max']:.3g}): class indices need CrossEntropyLoss", ["cross-entropy"])
    if fam == "kl":
        if prod in ("Softmax", "Sigmoid") or _gt(d["pred_max"], 1e-6):
            return ("error", "kl_div's input must be log-probabilities (log_softmax), not probabilities or raw "
                             "scores", ["nll-after-log-softmax"])
    if fam == "regression" and d["target_integral"]:
        one_col = len(ps) <= 1 or (len(ps) >= 2 and ps[-1] == 1)
        if d["target_binary"] and not one_col and ts == ps and _near(d["target_rowsum_min"], 1) \
                and _near(d["target_rowsum_max"], 1):
            return ("warning", f"a regression loss ({d['fn']}) on one-hot class targets: single-label "
                               "classification calls for CrossEntropyLoss on logits", ["cross-entropy"])
        if d["target_binary"] and one_col and d["target_unique"] == 2:
            return ("warning", f"a regression loss ({d['fn']}) on binary 0/1 labels: binary classification calls "
                               "for BCEWithLogitsLoss on a logit", ["bce-with-logits"])
        k = d["target_unique"]
        if one_col and 3 <= k <= 20 and d["target_min"] == 0 and d["target_max"] == k - 1:
            return ("warning", f"a regression loss ({d['fn']}) on what look like class indices 0..{k - 1}: "
                               "predicting a class as a number imposes an order and distances between "
                               "classes; use CrossEntropyLoss with one logit per class", ["cross-entropy"])
    return None


@rule("loss-mismatch")
def check_loss_mismatch(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for key, d in ctx.facts.get("loss_calls", {}).items():
        if not d.get("train"):
            continue
        m = _mismatch(d)
        if m is None:
            continue
        severity, what, remedies = m
        out.append(LOSS_MISMATCH.finding(
            severity, f"Loss mismatch at `{d['site']}`: {what}.", step=d.get("step"), where=[d["site"]],
            evidence={"loss": d["fn"], "call_site": d["site"], "inferred_task": _task(d),
                      "prediction_shape": d["pred_shape"], "prediction_from": d["producer"] or "(leaf)",
                      "prediction_range": [sig4(d["pred_min"]), sig4(d["pred_max"])],
                      "target_shape": d["target_shape"], "target_dtype": d["target_dtype"],
                      "target_range": [sig4(d["target_min"]), sig4(d["target_max"])],
                      "target_distinct_values": d["target_unique"]},
            remedy_ids=remedies, key=key))
    exc = ctx.facts.get("exception")
    if exc:
        msg = exc.get("message", "")
        hit = None
        if re.search(r"Target -?\d+ is out of bounds", msg):
            hit = "a class index in the targets is >= the number of output units (or negative): labels and " \
                  "the output layer disagree on the number of classes"
        elif "should be between 0 and 1" in msg:
            hit = "binary_cross_entropy was given values outside [0, 1] (raw scores): use BCEWithLogitsLoss"
        if hit:
            out.append(LOSS_MISMATCH.finding(
                "error", f"The run died in the loss: {hit}.", step=exc.get("step"), where=[],
                evidence={"exception": f"{exc['type']}: {msg[:300]}"},
                remedy_ids=["bce-with-logits" if "between 0 and 1" in msg else "cross-entropy"], key="exception"))
    return out


@rule("target-shape-mismatch")
def check_shape_mismatch(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for key, d in ctx.facts.get("loss_calls", {}).items():
        if not d.get("train") or d["family"] not in ("regression", "bce", "bce_logits", "margin", "kl"):
            continue
        ps, ts, bs = d["pred_shape"], d["target_shape"], d.get("broadcast_shape")
        if ps == ts or bs is None:
            continue
        n_p, n_t, n_b = math.prod(ps), math.prod(ts), math.prod(bs)
        if n_b > n_p and n_b > n_t:
            severity, what = "error", (f"prediction {ps} and target {ts} broadcast to {bs}: every prediction is "
                                       f"compared with every target")
        elif n_b == n_p and n_t < n_p:
            severity, what = "warning", (f"target {ts} is broadcast over the prediction {ps}: one target value is "
                                         f"repeated over several outputs")
        else:
            continue
        out.append(SHAPE_MISMATCH.finding(
            severity, f"Shape mismatch in {d['fn']} at `{d['site']}`: {what}.", step=d.get("step"), where=[d["site"]],
            evidence={"loss": d["fn"], "prediction_shape": ps, "target_shape": ts, "broadcast_shape": bs,
                      "call_site": d["site"]},
            context={"fix_line": _fix_line(ps, ts)}, key=key))
    for b in ctx.facts.get("loss_broadcasts", [])[:1]:
        out.append(SHAPE_MISMATCH.finding(
            "error", f"Shape mismatch in the loss at `{b['site']}`: the prediction {b['pred_shape']} is combined "
                     f"({b['op']}) with a target of another shape into {b['result_shape']}, so every prediction is "
                     f"compared with every target.", step=None, where=[b["site"]],
            evidence={"operation": b["op"], "prediction_shape": b["pred_shape"], "result_shape": b["result_shape"],
                      "call_site": b["site"]},
            context={"fix_line": _fix_line(b["pred_shape"], b["pred_shape"][:1])}, key=f"graph@{b['site']}"))
    exc = ctx.facts.get("exception")
    if exc and ("different to the input size" in exc.get("message", "")
                or "multi-target not supported" in exc.get("message", "")):
        out.append(SHAPE_MISMATCH.finding(
            "error", "The run died in the loss: prediction and target shapes differ.", step=exc.get("step"),
            where=[], evidence={"exception": f"{exc['type']}: {exc['message'][:300]}"}, key="exception"))
    return out


def _fix_line(ps: list[int], ts: list[int]) -> str:
    if len(ps) == len(ts) + 1 and ps[-1] == 1:
        return "loss = loss_fn(pred.squeeze(-1), y)   # prediction [N, 1] -> [N], like the target"
    if len(ts) == len(ps) + 1 and ts[-1] == 1:
        return "loss = loss_fn(pred, y.squeeze(-1))   # target [N, 1] -> [N], like the prediction"
    return "loss = loss_fn(pred.view_as(y), y)     # make both the same shape"
