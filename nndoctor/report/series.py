"""The numbers a report's plots show, exported from the signal store as plain lists.

Reads only host-side data (the store is filled at the flush cadence), so exporting never syncs a
device. Everything is bounded: a series is cut into at most ``max_points`` bins (a loss bin keeps
its mean, a gradient-norm bin its largest value, so a spike stays visible), and at most
``MAX_LAYERS`` layers are kept. Per-parameter numbers are combined per module (layer):
‖g_module‖ = sqrt(Σ ‖g_p‖²), and the update/weight ratio is ‖Δw_module‖ / ‖w_module‖.

The x axis is the optimizer step (as a Finding's ``step``); a run that never stepped uses the
backward pass, as findings do then (``x`` says which).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

MAX_LAYERS = 96


def _clean(a) -> list:
    """Floats JSON and SVG can hold: non-finite values become None."""
    arr = np.asarray(a, dtype=float).ravel()
    out = arr.tolist()
    for i in np.flatnonzero(~np.isfinite(arr)).tolist():
        out[i] = None
    return out


def _bins(n: int, max_points: int) -> np.ndarray:
    """The first row of each of ``max_points`` equal-count bins of ``n > max_points`` rows (increasing:
    a bin is at least one row wide)."""
    return np.linspace(0, n, max_points + 1).astype(int)[:-1]


def bin_series(x: np.ndarray, y: np.ndarray, max_points: int, how: str = "mean") -> tuple[np.ndarray, np.ndarray]:
    """Thin (x, y) to at most ``max_points`` points: equal-count bins keep their last x and the mean
    (or max) of their finite values; a bin with no finite value keeps NaN (a gap in the curve), or inf
    when it holds one (a diverged stretch). One reduction per quantity over all bins."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    if n <= max_points:
        return x, y
    starts = _bins(n, max_points)
    xs = x[np.append(starts[1:], n) - 1]
    fin = np.isfinite(y)
    count = np.add.reduceat(fin.astype(np.int64), starts)
    if how == "max":
        vals = np.maximum.reduceat(np.where(fin, y, -np.inf), starts)
    else:
        vals = np.add.reduceat(np.where(fin, y, 0.0), starts) / np.maximum(count, 1)
    ys = np.where(count > 0, vals, np.nan)
    inf = np.add.reduceat(np.isinf(y).astype(np.int64), starts) > 0
    ys[(count == 0) & inf] = np.inf
    return xs, ys


def bin_matrix(x: np.ndarray, m: np.ndarray, max_points: int, how: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """Thin the columns of ``m`` (layers x steps) like :func:`bin_series`, per row: the max (or mean) of
    each bin's non-NaN values, NaN for a bin with none."""
    n = m.shape[1]
    if n <= max_points:
        return np.asarray(x, dtype=float), m
    starts = _bins(n, max_points)
    xs = np.asarray(x, dtype=float)[np.append(starts[1:], n) - 1]
    have = ~np.isnan(m)
    count = np.add.reduceat(have.astype(np.int64), starts, axis=1)
    with np.errstate(all="ignore"):
        if how == "max":
            vals = np.fmax.reduceat(m, starts, axis=1)      # (fmax skips NaN, as nanmax does)
        else:
            vals = np.add.reduceat(np.where(have, m, 0.0), starts, axis=1) / np.maximum(count, 1)
    return xs, np.where(count > 0, vals, np.nan)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *a):
        self._w.__exit__(*a)


def export(store, params: list, max_points: int = 400) -> dict[str, Any]:
    """The series for the report's plots (inf/NaN in a diverged run's series stay silent)."""
    with np.errstate(all="ignore"), _quiet():
        return _export(store, params, max_points)


def _export(store, params: list, max_points: int = 400) -> dict[str, Any]:
    facts = store.facts
    stepped = any(o.get("steps", 0) > 0 for o in facts.get("optimizers", []))
    out: dict[str, Any] = {"x": "step" if stepped else "backward pass", "max_points": max_points}
    # --- loss (recorded per backward pass) on the optimizer-step axis
    to_x = _backward_to_step(store) if stepped else (lambda b: np.asarray(b, dtype=float))
    if "loss" in store:
        bw, v = store["loss"].steps, store["loss"].array()
        fin = v[np.isfinite(v)]
        tail = fin[-max(1, min(len(fin) // 10, 50)):] if len(fin) else fin
        out["loss_summary"] = {
            "first": float(fin[0]) if len(fin) else None,
            "final": float(np.mean(tail)) if len(tail) else None,
            "best": float(fin.min()) if len(fin) else None,
            "points": int(store["loss"].total), "non_finite": int((~np.isfinite(v)).sum())}
        xs, ys = bin_series(to_x(bw), v, max_points)
        out["loss"] = {"step": _clean(xs), "value": _clean(ys)}
    # --- validation losses, learning rates
    sites = facts.get("val_sites", {})
    out["val_loss"] = {}
    for name in sorted(n for n in store.series if n.startswith("val_loss/")):
        s = store[name]
        idx = name.split("/", 1)[1]
        xs, ys = bin_series(s.steps, s.array(), max_points)
        out["val_loss"][sites.get(idx, f"validation {idx}")] = {"step": _clean(xs), "value": _clean(ys)}
    opt_names = {str(o["key"]): o.get("name", f"optimizer {o['key']}") for o in facts.get("optimizers", [])}
    out["lr"] = {}
    for name in sorted(n for n in store.series if n.startswith("lr/")):
        s = store[name]
        key = name.split("/", 1)[1]
        xs, ys = bin_series(s.steps, s.array(), max_points)
        out["lr"][opt_names.get(key, key)] = {"step": _clean(xs), "value": _clean(ys)}
    # --- per-layer gradient norms and update/weight ratios
    order = facts.get("module_order", {})
    grad_rows: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}    # module -> [(steps, sum of squares)]
    ratio_rows: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for o in facts.get("optimizers", []):
        key, positions = o["key"], list(o.get("positions", []))
        mods = [params[i].module if 0 <= i < len(params) else None for i in positions]
        if f"grad_norm/{key}" in store:
            s = store[f"grad_norm/{key}"]
            for m, (st, v) in _per_module(s.steps, s.array(fill=-1.0), mods).items():
                grad_rows.setdefault(m, []).append((st, np.sqrt(v)))
        if f"param_norm/{key}" in store and f"update_norm/{key}" in store:
            ps, us = store[f"param_norm/{key}"], store[f"update_norm/{key}"]
            if len(ps) == len(us) and np.array_equal(ps.steps, us.steps):
                p_acc = _per_module(ps.steps, ps.array(fill=-1.0), mods)
                u_acc = _per_module(us.steps, us.array(fill=-1.0), mods)
                for m, (st, p2) in p_acc.items():
                    if m in u_acc and np.array_equal(u_acc[m][0], st):
                        ok = p2 > 0
                        ratio_rows.setdefault(m, []).append((st[ok], np.sqrt(u_acc[m][1][ok] / p2[ok])))
    out["grad_norm"] = _matrix(grad_rows, order, max_points, how="max")
    out["update_ratio"] = _matrix(ratio_rows, order, max_points, how="max")
    # --- activation samples: dead share (ReLU-like) and saturated share (sigmoid/tanh), per layer
    dead: dict[str, dict[int, float]] = {}
    sat: dict[str, dict[int, float]] = {}
    act_order: dict[str, int] = {}
    for sample in facts.get("act_samples", []):
        step = int(sample.get("step", 0))
        # a layer's input seen dead stands for a functional F.relu: shown only when no ReLU module
        # was seen (else it repeats the module's row), and never for the model's own input
        functional = not any(d.get("kind") == "relu" for d in sample.get("modules", {}).values())
        for mod, d in sample.get("modules", {}).items():
            act_order.setdefault(mod, int(d.get("order", len(act_order))) if _finite(d.get("order")) else len(act_order))
            kind = d.get("kind")
            if kind == "relu" and _finite(d.get("dead")):
                dead.setdefault(mod, {})[step] = float(d["dead"])
            elif kind in ("sigmoid", "tanh") and _finite(d.get("sat")):
                sat.setdefault(mod, {})[step] = float(d["sat"])
            elif kind == "layer" and functional and not d.get("is_model_input"):
                if _finite(d.get("dead_in")) and d.get("dead_in", 0) > 0:
                    dead.setdefault(f"{mod} (input)", {})[step] = float(d["dead_in"])
                    act_order.setdefault(f"{mod} (input)", act_order[mod])
    out["dead"] = _matrix(_as_arrays(dead), act_order, max_points, how="max")
    out["saturated"] = _matrix(_as_arrays(sat), act_order, max_points, how="max")
    return out


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _as_arrays(rows: dict[str, dict[int, float]]) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    return {m: [(np.array(list(r), dtype=float), np.array(list(r.values()), dtype=float))] for m, r in rows.items()}


def _per_module(steps, arr: np.ndarray, mods: list) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per module: (steps where any of its parameters had a value, Σ of their squared norms).
    A negative entry means "no gradient" for that parameter at that step. One matrix product."""
    if arr.ndim != 2 or not len(steps):
        return {}
    width = min(arr.shape[1], len(mods))
    names = sorted({mods[j] for j in range(width) if mods[j] is not None})
    if not names:
        return {}
    col = {m: i for i, m in enumerate(names)}
    member = np.zeros((width, len(names)))
    for j in range(width):
        if mods[j] is not None:
            member[j, col[mods[j]]] = 1.0
    a = arr[:, :width]
    have = a >= 0
    with np.errstate(all="ignore"):
        tot = np.where(have, a, 0.0) ** 2 @ member
    present = (have.astype(float) @ member) > 0
    steps = np.asarray(steps, dtype=float)
    return {m or "(model)": (steps[present[:, i]], tot[present[:, i], i]) for m, i in col.items()}


def _matrix(rows: dict[str, list[tuple[np.ndarray, np.ndarray]]], order: dict[str, int], max_points: int,
            how: str) -> dict[str, Any]:
    """{layers, step, value[layer][column]}; layers in forward order, at most MAX_LAYERS."""
    rows = {m: r for m, r in rows.items() if any(len(st) for st, _ in r)}
    if not rows:
        return {"layers": [], "step": [], "value": [], "layers_total": 0}
    names = sorted(rows, key=lambda m: (order.get(m, 1 << 30), m))
    total = len(names)
    if total > MAX_LAYERS:  # evenly spaced through depth, the first and last kept
        keep = np.unique(np.linspace(0, total - 1, MAX_LAYERS).round().astype(int))
        names = [names[i] for i in keep]
    steps = np.unique(np.concatenate([st for m in names for st, _ in rows[m]]))
    m = np.full((len(names), len(steps)), np.nan)
    for i, name in enumerate(names):
        for st, v in rows[name]:
            m[i, np.searchsorted(steps, st)] = v
    xs, m = bin_matrix(steps, m, max_points, how=how)
    return {"layers": names, "step": _clean(xs), "value": [_clean(r) for r in m], "layers_total": total}


def _backward_to_step(store):
    """Backward-pass index -> optimizer step, from the (step, backward passes so far) pairs recorded at
    the sample steps (piecewise linear between them)."""
    if "backward_at_step" not in store:
        return lambda b: np.asarray(b, dtype=float)
    s = store["backward_at_step"]
    steps, bws = s.steps.astype(float), s.array().astype(float)
    order = np.argsort(bws, kind="stable")
    bws, steps = bws[order], steps[order]
    if len(bws) < 2:
        return lambda b: np.asarray(b, dtype=float) - (bws[0] - steps[0] if len(bws) else 0.0)
    rate = (steps[-1] - steps[0]) / max(bws[-1] - bws[0], 1.0)

    def f(b):
        b = np.asarray(b, dtype=float)
        y = np.interp(b, bws, steps)
        after = b > bws[-1]
        y[after] = steps[-1] + (b[after] - bws[-1]) * (rate if rate > 0 else 1.0)
        return y
    return f
