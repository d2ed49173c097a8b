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
from ..messages import Msg
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
           "like class indices (exactly 0..K-1, K <= 20) or binary labels are called class labels, and never "
           "under PoissonNLLLoss, whose targets are counts by definition (claims 0..2 per policy)",
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
            return ("error", Msg("loss-mismatch.ce-one-unit"), ["two-logits-or-bce"])
        if ts == ps and d["target_dtype"].startswith("float"):
            if d["target_binary"] and _gt(d["target_rowsum_max"], 1.0 + 1e-3):
                return ("error", Msg("loss-mismatch.ce-multi-hot"), ["multilabel-bce"])
            if d["target_min"] < 0 or not (_near(d["target_rowsum_min"], 1, 1e-2) and _near(d["target_rowsum_max"], 1, 1e-2)):
                return ("error", Msg("loss-mismatch.ce-float-targets"), ["regression-loss", "cross-entropy"])
        if _is_probability(d):
            how = (Msg("loss-mismatch.output-of", fn=prod.lower()) if prod in ("Softmax", "Sigmoid")
                   else Msg("loss-mismatch.probabilities"))
            return ("warning", Msg("loss-mismatch.ce-on-probabilities", how=how), ["ce-on-logits"])
    if fam == "nll":
        if len(ps) >= 2 and ps[1] == 1:
            return ("error", Msg("loss-mismatch.nll-one-unit"), ["two-logits-or-bce"])
        if prod in ("Softmax", "Sigmoid") or _is_probability(d):
            return ("error", Msg("loss-mismatch.nll-on-probabilities"), ["nll-after-log-softmax"])
        if prod not in ("LogSoftmax", "Log", "LogSigmoid") and _gt(d["pred_max"], 1e-6):
            return ("error", Msg("loss-mismatch.nll-on-scores", producer=prod or Msg("loss-mismatch.a-leaf"),
                                 max=d['pred_max']), ["nll-after-log-softmax", "cross-entropy"])
    if prod in ("Softmax", "LogSoftmax") and (d.get("softmax_size") == 1 or
                                                (fam in ("bce", "bce_logits", "regression") and ps and ps[-1] == 1)):
        return ("error", Msg("loss-mismatch.softmax-one-unit"), ["two-logits-or-bce"])
    if fam == "bce":
        if _gt(d["target_max"], 1.0) or d["target_min"] < 0:
            return ("error", Msg("loss-mismatch.bce-targets", low=d['target_min'], high=d['target_max']),
                    ["cross-entropy"])
        if prod in ("Clamp", "Clip", "ClampMin", "ClampMax", "Hardtanh", "Hardsigmoid", "Addmm", "Mm", "Linear",
                    "Add", "Convolution", "Squeeze"):
            return ("warning", Msg("loss-mismatch.bce-not-sigmoid", producer=prod), ["bce-with-logits"])
    if fam == "bce_logits":
        if prod in ("Sigmoid", "Softmax"):
            return ("error", Msg("loss-mismatch.bce-logits-on-probabilities", fn=prod.lower()), ["bce-with-logits"])
        if _gt(d["target_max"], 1.0) or d["target_min"] < 0:
            return ("error", Msg("loss-mismatch.bce-logits-targets", low=d['target_min'], high=d['target_max']),
                    ["cross-entropy"])
    if fam == "kl":
        if prod in ("Softmax", "Sigmoid") or _gt(d["pred_max"], 1e-6):
            return ("error", Msg("loss-mismatch.kl-input"), ["nll-after-log-softmax"])
    if fam == "regression" and d["target_integral"] and d["fn"] != "poisson_nll_loss":
        # (Poisson NLL is the likelihood of counts: integer targets, 0/1 or 0..K, are what it models)
        one_col = len(ps) <= 1 or (len(ps) >= 2 and ps[-1] == 1)
        if d["target_binary"] and not one_col and ts == ps and _near(d["target_rowsum_min"], 1) \
                and _near(d["target_rowsum_max"], 1):
            return ("warning", Msg("loss-mismatch.regression-one-hot", fn=d['fn']), ["cross-entropy"])
        if d["target_binary"] and one_col and d["target_unique"] == 2:
            return ("warning", Msg("loss-mismatch.regression-binary", fn=d['fn']), ["bce-with-logits"])
        k = d["target_unique"]
        if one_col and 3 <= k <= 20 and d["target_min"] == 0 and d["target_max"] == k - 1:
            return ("warning", Msg("loss-mismatch.regression-indices", fn=d['fn'], last=k - 1), ["cross-entropy"])
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
            severity, Msg("loss-mismatch", site=d['site'], what=what), step=d.get("step"), where=[d["site"]],
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
            hit = Msg("loss-mismatch.index-out-of-bounds")
        elif "should be between 0 and 1" in msg:
            hit = Msg("loss-mismatch.bce-out-of-range")
        if hit:
            out.append(LOSS_MISMATCH.finding(
                "error", Msg("loss-mismatch.died", what=hit), step=exc.get("step"), where=[],
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
            severity, what = "error", Msg("target-shape-mismatch.broadcast", pred=ps, target=ts, shape=bs)
        elif n_b == n_p and n_t < n_p:
            severity, what = "warning", Msg("target-shape-mismatch.target-repeated", pred=ps, target=ts)
        else:
            continue
        out.append(SHAPE_MISMATCH.finding(
            severity, Msg("target-shape-mismatch", fn=d['fn'], site=d['site'], what=what), step=d.get("step"), where=[d["site"]],
            evidence={"loss": d["fn"], "prediction_shape": ps, "target_shape": ts, "broadcast_shape": bs,
                      "call_site": d["site"]},
            context={"fix_line": _fix_line(ps, ts)}, key=key))
    for b in ctx.facts.get("loss_broadcasts", [])[:1]:
        out.append(SHAPE_MISMATCH.finding(
            "error", Msg("target-shape-mismatch.graph", site=b['site'], pred=b['pred_shape'], op=b['op'],
                         shape=b['result_shape']), step=None, where=[b["site"]],
            evidence={"operation": b["op"], "prediction_shape": b["pred_shape"], "result_shape": b["result_shape"],
                      "call_site": b["site"]},
            context={"fix_line": _fix_line(b["pred_shape"], b["pred_shape"][:1])}, key=f"graph@{b['site']}"))
    exc = ctx.facts.get("exception")
    if exc and ("different to the input size" in exc.get("message", "")
                or "multi-target not supported" in exc.get("message", "")):
        out.append(SHAPE_MISMATCH.finding(
            "error", Msg("target-shape-mismatch.died"), step=exc.get("step"),
            where=[], evidence={"exception": f"{exc['type']}: {exc['message'][:300]}"}, key="exception"))
    return out


def _fix_line(ps: list[int], ts: list[int]) -> str:
    if len(ps) == len(ts) + 1 and ps[-1] == 1:
        return "loss = loss_fn(pred.squeeze(-1), y)   # prediction [N, 1] -> [N], like the target"
    if len(ts) == len(ps) + 1 and ts[-1] == 1:
        return "loss = loss_fn(pred, y.squeeze(-1))   # target [N, 1] -> [N], like the prediction"
    return "loss = loss_fn(pred.view_as(y), y)     # make both the same shape"
