"""Code problems (代码实现常见问题): the optimizer never steps, gradients never reset, the graph is
cut, parameters left out of the optimizer."""
from __future__ import annotations

import os
import re

import numpy as np

from ..findings import Finding
from ..messages import join, msg
from . import Context
from .registry import Diagnosis, register, rule
from .stats import rows_at_same_steps

STEP_MISSING = register(Diagnosis(
    code="optimizer-step-missing",
    title="Gradients are computed but the parameters never change",
    family="code",
    guide="梯度未更新或更新错误: 确保优化器(optimizer.step())被调用",
    what="Backward passes run, gradients are non-zero, but no parameter changes: optimizer.step() is "
         "never called, the learning rate is 0, or a manual update writes to a new tensor instead of "
         "the parameter (`p = p - lr * p.grad`).",
    why="Without an update the model never learns: the loss stays flat however long it runs.",
    evidence=("backward passes", "optimizer steps seen", "parameters unchanged", "gradient resets between "
              "backward passes", "learning rates"),
    remedies=("call-step", "use-optimizer", "nonzero-lr", "zero-grad"),
    traps=("gradient accumulation (step every k backward passes): parameters change every k passes",
           "a manual in-place update (p -= lr * p.grad) with no optimizer: parameters change, so it is fine",
           "LR warmup from 0: only the first step has lr 0",
           "a schedule that decayed the LR to ~1e-20 of its start (a per-epoch scheduler stepped per batch): "
           "step() is applied and its update rounds away; that is learning-rate-too-low's finding",
           "a deliberately frozen model: it has no gradients"),
    thresholds=("no step and gradients reset between >= 2 backward passes with parameters unchanged: "
                "resetting gradients without a step is never gradient accumulation",
                "no step, no reset: after 64 backward passes (longer than any common accumulation) or "
                "at the end of the run",
                "steps seen: the last 3 sampled updates are exactly zero for every parameter with a "
                "non-zero gradient, unless the LR explains it: the last update that moved the weights, "
                "scaled by the LR's fall since, is below float32's 2^-24 relative resolution"),
))

NOT_ZEROED = register(Diagnosis(
    code="gradient-not-zeroed",
    title="Gradients accumulate across optimizer steps (zero_grad() never reaches them)",
    family="code",
    guide="梯度未更新或更新错误",
    what="Between consecutive optimizer steps the parameters' .grad is never reset (set to None or "
         "zeroed), so every step applies the sum of all past gradients.",
    why="PyTorch adds each backward pass's gradient to .grad; without zero_grad() the update direction "
        "is dominated by stale gradients and grows every step, so training oscillates or diverges.",
    evidence=("step intervals checked", "intervals with a reset", "gradient norm growth"),
    remedies=("zero-grad", "zero-grad-right-object"),
    traps=("gradient accumulation: zero_grad() every k backward passes, right after each step, is correct",),
    thresholds=("3 consecutive step intervals with no reset of a probe parameter's .grad (checked "
                "exactly: None, a new tensor, or an in-place write between steps); gradient "
                "accumulation resets once per optimizer step, so it never has such an interval",
                "without any optimizer step (a hand-written update): the same test on the intervals between "
                "backward passes in which the probe parameter itself was written in place; intervals "
                "without an update (accumulation) are not counted"),
))

BROKEN_FLOW = register(Diagnosis(
    code="broken-gradient-flow",
    title="Parameters in the optimizer receive no gradient: the graph is cut",
    family="code",
    guide="反向传播断链",
    what="Parameters that the optimizer trains and that require grad are not reachable from the "
         "loss's autograd graph: a .detach(), a .numpy()/.item() round-trip, torch.tensor(...) "
         "re-wrapping, or torch.no_grad() cut them off.",
    why="Autograd only differentiates through recorded tensor operations; anything computed outside "
        "the graph is a constant, so the layers before the cut never learn.",
    evidence=("the modules/parameters cut off", "how each was cut (no_grad / output not in the graph / "
              "unused)", "suspect lines in forward()", "loss graph leaves"),
    remedies=("remove-detach", "remove-no-grad", "freeze-explicitly"),
    traps=("frozen params (requires_grad=False)",
           "a target network evaluated under no_grad and not in any optimizer",
           "a GAN's fake.detach() for the discriminator step: reachability is the union over all "
           "losses of the first steps",
           "modules unused in the observed forward passes by design (conditional branch): info only",
           "truncated backpropagation through time: a state detached between passes is not a cut (a module's "
           "detached output counts as evidence only within the pass that made it)"),
    thresholds=("none: reachability is exact (a graph walk of every loss in the first steps)",
                "tensors of no module that an optimizer holds (a script without nn.Module) and that no backward "
                "pass reaches: an error when they are >= 50% of the elements the optimizers train (nothing "
                "else tells a cut from an unused tensor there: no module hook ran), else a warning",),
))

NOT_OPTIMIZED = register(Diagnosis(
    code="parameter-not-optimized",
    title="Parameters receive gradients but belong to no optimizer",
    family="code",
    guide="梯度未更新或更新错误",
    what="Parameters require grad and get gradients from the loss, but no optimizer holds them, so "
         "they never learn. Typical causes: layers kept in a Python list (invisible to "
         "model.parameters()), an optimizer built from part of the model, a layer added after the "
         "optimizer was created, a free nn.Parameter beside the model (a learned noise scale) left out of "
         "an optimizer built from model.parameters(), a model rebuilt (k-fold) after its optimizer.",
    why="optimizer.step() only updates the parameters it was given.",
    evidence=("the parameters and their share of the model", "whether they are registered in the "
              "model", "the optimizers' parameter counts"),
    remedies=("module-list", "optimizer-all-params", "create-optimizer-after-model", "freeze-explicitly"),
    traps=("a target network not in the graph of the loss", "frozen params (requires_grad=False)",
           "a frozen teacher/perceptual network in eval() mode that still requires grad: info only "
           "(wasted compute)",
           "gradual unfreezing with add_param_group; a GAN that turns requires_grad off and on at every step",
           "a free nn.Parameter the script updates by hand (its version changes during the analysis window)"),
    thresholds=("none: membership is exact; decided after every optimizer has stepped twice, again for each "
                "new training phase (a new optimizer, or a set of trainable parameters larger than any seen: "
                "a backbone unfrozen, a head added, counted every `every` steps)",
                "a separate module that no optimizer holds is an error/warning only in train mode: eval() "
                "declares it inference-only"),
))


# ---------------------------------------------------------------------------- step missing
# A float32 weight w keeps its value under an update smaller than half its ulp, ~|w| * 2^-24.
FP32_RESOLUTION = 2.0 ** -24


def _update_rounds_away(ctx: Context, ov) -> bool:
    """step() is applied but its update is rounded away: the LR has fallen so far (a schedule stepped too
    often) that the last sampled update that did change the weights, scaled by the LR's fall since, is
    below float32's resolution of the weights. Judged on the parameter with the largest relative update
    (if even its update rounds away, all do); only when an earlier update did change the weights."""
    lr_now = max(ov.lrs) if ov.lrs else 0.0
    if not (lr_now > 0) or not len(ov.upd_steps):
        return False
    s = ctx.store[f"lr/{ov.key}"]
    lr_steps, lr_vals = np.asarray(s.steps), s.array()
    if not len(lr_steps):
        return False
    P, U = ov.param, ov.update
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where((P > 0) & (U > 0) & np.isfinite(P) & np.isfinite(U), U / np.where(P > 0, P, 1), 0.0)
    moved = np.nonzero(R.max(axis=1) > 0)[0] if R.size else np.zeros(0, dtype=int)
    if not len(moved):
        return False
    r = moved[-1]
    k = int(np.searchsorted(lr_steps, ov.upd_steps[r], side="right")) - 1
    lr_then = float(lr_vals[k]) if k >= 0 else float("nan")
    if not (lr_then > 0):
        return False
    return float(R[r].max()) * lr_now / lr_then < FP32_RESOLUTION


@rule("optimizer-step-missing")
def check_step_missing(ctx: Context) -> list[Finding]:
    out = []
    amp = ctx.facts.get("amp") or {}
    if ctx.step == 0 and ctx.n_backward >= 2 and not amp.get("skipped"):
        # (GradScaler.step() was called and skipped the step for Inf/NaN: non-finite's business)
        f = _no_step_at_all(ctx)
        if f is not None:
            out.append(f)
    reached = set(ctx.facts.get("graph", {}).get("reached", []))
    for ov in ctx.optimizers():
        f = _gradients_gone_at_step(ctx, ov, reached)
        if f is not None:
            out.append(f)
            continue
        if len(ov.upd_steps) < 3:
            continue
        last = ov.upd_steps[-3:]
        hit, rows = rows_at_same_steps(last, ov.grad_steps)
        row_of = dict(zip(hit.tolist(), rows.tolist()))
        zero = []
        for m in range(len(last)):
            mm = len(ov.upd_steps) - 3 + m
            r = row_of.get(m)
            if r is None:
                zero.append(False)
                continue
            g, u = ov.grad[r], ov.update[mm]
            live = (g > 0) & np.isfinite(g) & (u >= 0)
            zero.append(bool(live.any()) and bool((u[live] == 0).all()))
        if all(zero):
            lrs = ov.lrs
            all_zero_lr = bool(lrs) and all(lr == 0 for lr in lrs)
            if not all_zero_lr and _update_rounds_away(ctx, ov):
                continue   # the step is not missing: the LR is (learning-rate-too-low says so)
            summary = msg("optimizer-step-missing.no-change-lr0" if all_zero_lr else
                          "optimizer-step-missing.no-change", optimizer=ov.name)
            ids = ["nonzero-lr", "call-step"] if all_zero_lr else ["nonzero-lr", "call-step", "use-optimizer"]
            out.append(STEP_MISSING.finding(
                "error", summary, step=int(ov.upd_steps[-1]), where=[ov.name],
                evidence={"optimizer": ov.name, "optimizer_steps": ov.steps, "learning_rates": lrs,
                          "sampled_updates_all_zero": 3},
                remedy_ids=ids, key=ov.name))
    return out


def _gradients_gone_at_step(ctx: Context, ov, reached: set[int]) -> Finding | None:
    """The loss reaches the optimizer's parameters, but step() keeps finding no gradient: they are
    reset between backward() and step() (e.g. zero_grad() placed after backward())."""
    cols = [j for j, i in enumerate(ov.positions) if i in reached]
    if not cols or len(ov.grad) < 3 or ctx.n_backward < 3:
        return None
    last = ov.grad[-3:][:, cols]
    if (last > 0).any() or not np.isfinite(last).all():
        return None
    return STEP_MISSING.finding(
        "error", msg("optimizer-step-missing.gradients-gone", optimizer=ov.name),
        step=int(ov.grad_steps[-1]), where=[ov.name],
        evidence={"optimizer": ov.name, "optimizer_steps": ov.steps, "steps_without_gradient": 3,
                  "parameters_reached_by_loss": len(cols)},
        remedy_ids=["call-step", "zero-grad"], key=ov.name)


def _no_step_at_all(ctx: Context) -> Finding | None:
    if ctx.facts.get("weights_rebound"):
        return None   # the script makes new weight tensors at each update: the ones watched are its first
    s = ctx.store["param_norm_bw"]
    if len(s) < 2:
        return None
    P = s.array()
    if not np.array_equal(P, np.repeat(P[:1], len(P), axis=0), equal_nan=True):
        return None  # parameters change without an optimizer step we saw: a manual update that works
    n_resets = int(ctx.facts.get("bw_resets", 0))
    if not ((n_resets >= 2 and ctx.n_backward >= 3) or ctx.n_backward >= 64 or (ctx.closing and ctx.n_backward >= 4)):
        return None
    known = ctx.facts.get("optimizers", [])
    summary = (msg("optimizer-step-missing.never-reset", backward=ctx.n_backward, resets=n_resets) if n_resets
               else msg("optimizer-step-missing.never", backward=ctx.n_backward))
    ids = ["call-step", "use-optimizer"] if known else ["use-optimizer", "call-step"]
    return STEP_MISSING.finding(
        "error", summary, step=ctx.n_backward, where=[],
        evidence={"backward_passes": ctx.n_backward, "optimizer_steps": 0, "parameters_changed": False,
                  "gradient_resets_between_backward_passes": n_resets,
                  "optimizers_known": [o["name"] for o in known]},
        remedy_ids=ids)


# ---------------------------------------------------------------------------- not zeroed
@rule("gradient-not-zeroed")
def check_not_zeroed(ctx: Context) -> list[Finding]:
    out = []
    for ov in ctx.optimizers():
        iv = ov.intervals
        if not ov.has_probe or len(iv) < 3:
            continue
        at = _first_run_without_reset(iv)
        if at is None:
            continue
        G = ov.grad
        tot = np.sqrt((np.where(G > 0, G, 0) ** 2).sum(axis=1)) if len(G) else np.zeros(0)
        tot = tot[np.isfinite(tot)]
        never = not any(iv)
        summary = (msg("gradient-not-zeroed.never", optimizer=ov.name) if never else
                   msg("gradient-not-zeroed.some", optimizer=ov.name, missed=len(iv) - sum(iv), intervals=len(iv)))
        out.append(NOT_ZEROED.finding(
            "error", summary, step=at + 2, where=[ov.name],
            evidence={"optimizer": ov.name, "intervals_checked": len(iv), "intervals_with_reset": int(sum(iv)),
                      "grad_norm_first": float(tot[0]) if len(tot) else None,
                      "grad_norm_last": float(tot[-1]) if len(tot) else None}))
    if not any(o.steps > 0 for o in ctx.optimizers()) and not ctx.facts.get("weights_rebound"):
        # no optimizer steps: a hand-written update (`p -= lr * p.grad` under no_grad) is the step. The
        # intervals between backward passes in which the probe parameter was written in place, each with
        # whether its .grad was reset; the same test as for an optimizer's step intervals
        iv = ctx.facts.get("manual_update_intervals", [])
        at = _first_run_without_reset(iv)
        if at is not None:
            out.append(NOT_ZEROED.finding(
                "error", msg("gradient-not-zeroed.manual", missed=len(iv) - sum(iv), intervals=len(iv)),
                step=ctx.n_backward, where=[],
                evidence={"optimizer": None, "manual_update_intervals_checked": len(iv),
                          "intervals_with_reset": int(sum(iv))}))
    return out


def _first_run_without_reset(iv: list[bool], run_len: int = 3) -> int | None:
    """The index at which ``run_len`` consecutive intervals without a .grad reset are first complete."""
    run = 0
    for k, reset in enumerate(iv):
        run = 0 if reset else run + 1
        if run >= run_len:
            return k
    return None


# ---------------------------------------------------------------------------- graph cut
_SUSPECT = re.compile(r"\.detach\(|\.numpy\(|\.item\(|\.tolist\(|torch\.tensor\(|torch\.as_tensor\(|"
                      r"torch\.from_numpy\(|no_grad|inference_mode|\.data\b|\bnp\.|numpy\.")


def _suspect_lines(g: dict, names: list[str]) -> list[str]:
    sources = g.get("forward_sources", {})
    hits = []
    for cls, (path, start, lines) in sources.items():
        for k, line in enumerate(lines):
            code = line.split("#", 1)[0]
            if _SUSPECT.search(code):
                hits.append(f"{os.path.basename(path)}:{start + k}: {line.strip()}")
    # prefer lines that mention a cut module's attribute name
    leafs = {n.rsplit(".", 1)[-1] for n in names}
    hits.sort(key=lambda h: not any(re.search(rf"\b{re.escape(l)}\b", h) for l in leafs))
    return hits[:4]


@rule("broken-gradient-flow")
def check_broken_flow(ctx: Context) -> list[Finding] | None:
    phases = ctx.facts.get("graphs")
    if not phases:
        return None  # no analysis window has closed yet
    out: list[Finding] = []
    for g in phases:
        out += _broken_flow_in(ctx, g)
    return out


def _got_gradient_later(ctx: Context, params: list[int], after_step: int) -> bool:
    """Did these parameters receive gradients at some optimizer step after ``after_step``?
    (A module frozen by no_grad/detach for the first epochs and trained afterwards.)"""
    want = set(params)
    for ov in ctx.optimizers():
        cols = [j for j, i in enumerate(ov.positions) if i in want]
        if not cols or not len(ov.grad):
            continue
        later = ov.grad[ov.grad_steps > after_step][:, cols]
        if len(later) and ((later > 0) | ~np.isfinite(later)).any():
            return True
    return False


def _broken_flow_in(ctx: Context, g: dict) -> list[Finding]:
    out: list[Finding] = []
    if g.get("no_history"):
        out.append(BROKEN_FLOW.finding(
            "error", msg("broken-gradient-flow.no-history"),
            step=ctx.step, where=[], evidence={"losses_without_history": g["no_history"],
                                               "backward_call": _site(g)},
            remedy_ids=["remove-detach", "remove-no-grad"]))
    optimized, reached, rg = set(g["optimized"]), set(g["reached"]), set(g["requires_grad"])
    out += _loose_cut(ctx, g, optimized, reached, rg)
    cut = sorted(i for i in optimized & rg if i not in reached and i < len(ctx.params)
                 and ctx.params[i].root >= 0)
    if not cut or g["walks"] == 0:
        return out
    calls = g["module_calls"]
    by_module: dict[str, list[int]] = {}
    for i in cut:
        by_module.setdefault(ctx.params[i].module, []).append(i)
    nograd, detached, unused, odd = [], [], [], []
    for m in sorted(by_module, key=lambda m: calls.get(m, {}).get("order", 1 << 30)):
        c = calls.get(m)
        if c is None:
            # a module that never ran may still be a child of one that ran under no_grad
            parent = _ran_ancestor(m, calls)
            if parent is not None and calls[parent]["grad_calls"] == 0:
                nograd.append(m)
            elif parent is not None and not calls[parent]["reached"]:
                detached.append(m)
            else:
                unused.append(m)
        elif c["grad_calls"] == 0 and c["nograd_calls"] > 0:
            nograd.append(m)
        elif not c["reached"]:
            detached.append(m)
        else:
            odd.append(m)
    n_cut_params = sum(ctx.params[i].numel for i in cut)
    n_opt_params = sum(ctx.params[i].numel for i in optimized & rg if i < len(ctx.params))
    all_cut = n_cut_params == n_opt_params
    roots = set(g.get("roots", []))
    cut_set = set(cut)
    nograd, detached = _collapse(nograd, ctx, cut_set, roots), _collapse(detached, ctx, cut_set, roots)
    base_ev = {"cut_parameters": [ctx.params[i].name for i in cut][:20], "cut_numel": n_cut_params,
               "trainable_numel_in_optimizers": n_opt_params, "losses_walked": g["walks"],
               "backward_call": _site(g)}
    # cut only for a while (frozen by no_grad/detach during the first epochs, trained later): info
    later = _got_gradient_later(ctx, cut, g.get("end_step", 0))
    if later:
        base_ev["received_gradients_after_step"] = g.get("end_step", 0)
    if nograd:
        out.append(BROKEN_FLOW.finding(
            "info" if later else "error",
            msg("broken-gradient-flow.no-grad-one" if len(nograd) == 1 else "broken-gradient-flow.no-grad-many",
                modules=_list(nograd)),
            step=ctx.step, where=nograd, evidence={**base_ev, "suspect_lines": _suspect_lines(g, nograd)},
            remedy_ids=["remove-no-grad", "freeze-explicitly"], context={"cut_after": nograd[0].rsplit(".", 1)[-1],
                                                                         "module": nograd[0]}))
    if detached:
        first_cut = min(calls.get(d, {}).get("order", 1 << 30) for d in detached)
        downstream = [m for m, c in calls.items() if c["input_detached_calls"] and c["reached"]
                      and c["order"] > first_cut and m not in roots
                      and not any(d.startswith(m + ".") for d in detached)]
        # evidence of a cut: a later module is fed a value without history, or nothing trained
        # reaches the loss at all. Without it, an output computed but not (yet) used by the loss
        # (an auxiliary head switched on later) is a design choice: info, like an unused branch.
        cut_evidence = bool(downstream or all_cut or g.get("plain_leaves"))
        severity = "error" if cut_evidence and not later else "info"
        how = [msg("broken-gradient-flow.downstream", module=downstream[0])] if downstream else []
        if all_cut and g.get("plain_leaves"):
            how.append(msg("broken-gradient-flow.new-leaf"))
        out.append(BROKEN_FLOW.finding(
            severity, (msg("broken-gradient-flow.cut-one" if len(detached) == 1 else "broken-gradient-flow.cut-many",
                           modules=_list(detached), how=join(how, "")) if cut_evidence else
                       msg("broken-gradient-flow.unused-output-one" if len(detached) == 1
                           else "broken-gradient-flow.unused-output-many", modules=_list(detached), walks=g['walks'])),
            step=ctx.step, where=detached,
            evidence={**base_ev, "downstream_modules_with_detached_input": downstream[:5],
                      "plain_leaf_tensors_in_loss_graph": g.get("plain_leaves", 0),
                      "suspect_lines": _suspect_lines(g, detached)},
            remedy_ids=["remove-detach", "freeze-explicitly"],
            context={"cut_after": detached[-1].rsplit(".", 1)[-1], "module": detached[0]}))
    if odd:
        out.append(BROKEN_FLOW.finding(
            "warning", msg("broken-gradient-flow.unused-parameters", modules=_list(odd)),
            step=ctx.step, where=odd, evidence={**base_ev, "suspect_lines": _suspect_lines(g, odd)},
            remedy_ids=["freeze-explicitly", "remove-detach"], context={"module": odd[0]}))
    if unused:
        out.append(BROKEN_FLOW.finding(
            "info", msg("broken-gradient-flow.did-not-run-one" if len(unused) == 1
                        else "broken-gradient-flow.did-not-run-many", modules=_list(unused), walks=g['walks']),
            step=ctx.step, where=unused, evidence={"unused_numel": sum(ctx.params[i].numel for m in unused
                                                                       for i in by_module[m])},
            remedy_ids=["freeze-explicitly"], context={"module": unused[0]}))
    return out


def _loose_cut(ctx: Context, g: dict, optimized: set[int], reached: set[int], rg: set[int]) -> list[Finding]:
    """In a script without nn.Module: tensors (``W1 = torch.randn(64, 32, requires_grad=True)``) that an optimizer
    holds and that require grad, which no backward pass of the analysis window reached: no module hook says whether they ran,
    so the finding is what the graph shows -- they get no gradient. An error when they are most of what the
    optimizers train (a forward that sends its hidden layer through numpy, ``np.clip(z1.detach().numpy(), 0,
    6)``, leaves only the last layer learning), else a warning (one tensor left out of the forward)."""
    if any(p.root >= 0 for p in ctx.params):
        # with a model, an optimizer's tensors of no module that nothing reaches are the model's old ones (a
        # layer replaced, or re-parametrized by weight_norm, after the optimizer was built): parameter-not-
        # optimized's evidence, which names the new ones; not a cut
        return []
    cut = sorted(i for i in optimized & rg if i not in reached and i < len(ctx.params) and ctx.params[i].root < 0)
    if not cut or g["walks"] == 0 or _got_gradient_later(ctx, cut, g.get("end_step", 0)):
        return []
    n_cut = sum(ctx.params[i].numel for i in cut)
    n_opt = sum(ctx.params[i].numel for i in optimized & rg if i < len(ctx.params))
    names = [ctx.params[i].name for i in cut]
    share = n_cut / max(1, n_opt)
    return [BROKEN_FLOW.finding(
        "error" if share >= 0.5 else "warning",
        msg("broken-gradient-flow.loose-cut", tensors=_list(names), walks=g["walks"], share=share),
        step=ctx.step, where=names[:5],
        evidence={"cut_parameters": names[:20], "cut_numel": n_cut, "trainable_numel_in_optimizers": n_opt,
                  "losses_walked": g["walks"], "backward_call": _site(g)},
        remedy_ids=["remove-detach", "freeze-explicitly"], context={"module": names[0]})]


def _collapse(mods: list[str], ctx: Context, cut: set[int], roots: set[str]) -> list[str]:
    """Name the outermost module whose trainable parameters are all cut (``encoder`` rather than
    ``encoder.0`` and ``encoder.2``), never a whole model."""
    if not mods:
        return mods
    trainable: dict[str, list[int]] = {}
    for p in ctx.params:
        if p.requires_grad and p.root >= 0:
            parts = p.module.split(".") if p.module else []
            for k in range(1, len(parts) + 1):
                trainable.setdefault(".".join(parts[:k]), []).append(p.index)
    out: list[str] = []
    for m in mods:
        best = m
        parts = m.split(".")
        for k in range(len(parts) - 1, 0, -1):
            anc = ".".join(parts[:k])
            if anc in roots or not trainable.get(anc) or not set(trainable[anc]) <= cut:
                break
            best = anc
        if best not in out and not any(best.startswith(o + ".") for o in out):
            out = [o for o in out if not o.startswith(best + ".")] + [best]
    return out


def _ran_ancestor(m: str, calls: dict) -> str | None:
    parts = m.split(".")
    for k in range(len(parts) - 1, 0, -1):
        anc = ".".join(parts[:k])
        if anc in calls:
            return anc
    return None


def _site(g: dict) -> str | None:
    sites = g.get("sites") or []
    if not sites:
        return None
    path, line, src = sites[0]
    return f"{os.path.basename(path)}:{line}: {src}"


def _list(names: list[str], n: int = 3):
    shown = ", ".join(f"`{x}`" for x in names[:n])
    return msg("list-and-more", shown=shown, more=len(names) - n) if len(names) > n else shown


# ---------------------------------------------------------------------------- not optimized
@rule("parameter-not-optimized")
def check_not_optimized(ctx: Context) -> list[Finding] | None:
    phases = ctx.facts.get("graphs")
    if not phases:
        return None
    out: list[Finding] = []
    for g in phases:
        out += _not_optimized_in(ctx, g)
    return out


def _not_optimized_in(ctx: Context, g: dict) -> list[Finding]:
    ops = ctx.facts.get("optimizers", [])
    if not ops or max(o["steps"] for o in ops) < 1:
        return []
    optimized, reached = set(g["optimized"]), set(g["reached"])
    unopt = [i for i in sorted(reached) if i not in optimized and i < len(ctx.params)
             and ctx.params[i].requires_grad and ctx.params[i].root >= 0]
    out = []
    now_in = {i for o in ops for i in o["positions"]}
    stray = [i for i in g.get("stray", []) if i < len(ctx.params) and i not in now_in]
    if stray:
        # nn.Parameters of no module (a learned noise scale beside the model) that the loss reaches, and that no
        # optimizer holds or anything updates by hand
        names = [ctx.params[i].name for i in stray]
        out.append(NOT_OPTIMIZED.finding(
            "warning", msg("parameter-not-optimized.stray", params=_list(names)), step=ctx.step, where=names[:5],
            evidence={"parameters": names[:20], "numel": sum(ctx.params[i].numel for i in stray),
                      "optimizers": {o["name"]: len(o["positions"]) for o in ops}},
            remedy_ids=["optimizer-all-params", "freeze-explicitly"], context={"module": names[0]}))
    if g.get("explicit"):
        trained = {p.root for p in ctx.params if p.root >= 0}
    else:
        trained = {ctx.params[i].root for i in optimized if i < len(ctx.params) and ctx.params[i].root >= 0}
    # parameters that joined an optimizer later (gradual unfreezing with add_param_group)
    now_optimized = {i for o in ops for i in o["positions"]}
    joined_later = [i for i in unopt if i in now_optimized]
    unopt = [i for i in unopt if i not in now_optimized]
    unreg = [i for i in unopt if not ctx.params[i].registered and ctx.params[i].root in trained]
    reg = [i for i in unopt if ctx.params[i].registered and ctx.params[i].root in trained]
    aux = [i for i in unopt if ctx.params[i].root not in trained]
    total = {}
    for p in ctx.params:
        if p.requires_grad and p.root >= 0:
            total[p.root] = total.get(p.root, 0) + p.numel

    def modules(ix):
        seen = []
        for i in ix:
            m = ctx.params[i].module or ctx.params[i].name
            if m not in seen:
                seen.append(m)
        return seen

    def ev(ix):
        numel = sum(ctx.params[i].numel for i in ix)
        root = ctx.params[ix[0]].root
        return {"parameters": [ctx.params[i].name for i in ix][:20], "numel": numel,
                "share_of_model": round(numel / max(1, total.get(root, numel)), 4),
                "optimizers": {o["name"]: len(o["positions"]) for o in ops}}

    if joined_later:
        ms = modules(joined_later)
        out.append(NOT_OPTIMIZED.finding(
            "info", msg("parameter-not-optimized.joined-later", modules=_list(ms), step=g.get('end_step')),
            step=ctx.step, where=ms, evidence=ev(joined_later), remedy_ids=["freeze-explicitly"],
            context={"module": ms[0]}))
    if unreg:
        ms = modules(unreg)
        out.append(NOT_OPTIMIZED.finding(
            "error", msg("parameter-not-optimized.unregistered-one" if len(ms) == 1
                         else "parameter-not-optimized.unregistered-many", modules=_list(ms)),
            step=ctx.step, where=ms, evidence={**ev(unreg), "registered": False},
            remedy_ids=["module-list", "optimizer-all-params"]))
    if reg:
        ms = modules(reg)
        e = ev(reg)
        none_optimized = not any(ctx.params[i].root == ctx.params[reg[0]].root for i in optimized
                                 if i < len(ctx.params))
        severity = "error" if none_optimized or e["share_of_model"] > 0.5 else "warning"
        summary = (msg("parameter-not-optimized.none") if none_optimized else
                   msg("parameter-not-optimized.some", modules=_list(ms), share=e['share_of_model']))
        out.append(NOT_OPTIMIZED.finding(
            severity, summary, step=ctx.step, where=ms, evidence=e,
            remedy_ids=["optimizer-all-params", "create-optimizer-after-model", "freeze-explicitly"],
            context={"module": ms[0]}))
    if aux:
        # A model no optimizer trains, yet the loss sends it gradients. In eval() mode it is declared
        # inference-only (a frozen teacher or perceptual net that still requires grad): wasted
        # compute, info. In train mode (the default nobody switched off) it looks like a part that
        # was meant to learn, e.g. an adapter built beside the model and left out of the optimizer.
        training = g.get("root_training", [])
        roots = sorted({ctx.params[i].root for i in aux})
        meant = [r for r in roots if r < len(training) and training[r]]
        for severity, group in (("warning", [i for i in aux if ctx.params[i].root in meant]),
                                ("info", [i for i in aux if ctx.params[i].root not in meant])):
            if not group:
                continue
            ms = modules(group)
            summary = (msg("parameter-not-optimized.aux-train", modules=_list(ms)) if severity == "warning" else
                       msg("parameter-not-optimized.aux-eval", modules=_list(ms)))
            out.append(NOT_OPTIMIZED.finding(
                severity, summary, step=ctx.step, where=ms[:5], evidence=ev(group),
                remedy_ids=["optimizer-all-params", "freeze-explicitly"] if severity == "warning"
                else ["freeze-explicitly"], context={"module": ms[0]}))
    return out
