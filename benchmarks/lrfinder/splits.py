"""Is a problem's grid-best LR a property of the problem, or of the one validation split compare.py uses?

compare.py's ground truth averages 8 seeds (initialization and batch order) on *one* train/validation
split (a fixed random quarter held out). Its seed spread says nothing about which examples happened to
be held out. This script repeats the grid on other splits (problems.py's ``data(split=k)``: another
random quarter held out, same 8 seeds), near the split-0 grid-best (``--window`` grid steps either
side), and runs the real check-up on each split's own training set, so that:

* per split: the grid-best LR, and the check-up's suggestion (the race's winner) against it;
* pooled (cross-validated): the grid-best of the held-out loss averaged over all splits and seeds, its
  indistinguishable band (paired over split x seed, 2 standard errors, as in compare.py), and each
  split's suggestion against it.

    python benchmarks/lrfinder/splits.py [--only diabetes,wine] [--splits 6] [--window 6] [--markdown [--per-split]]

Without ``--only`` it runs all seven problems and ends with a summary table: the README's pre-registered
ground truth (6 splits x 8 seeds pooled; the window widened by ``--window`` grid steps on a side while the
pooled best sits at that side's edge and the grid goes on), each problem's race suggestion on split 0 (as
compare.py makes it) and the curve rules of split 0's curve against the pooled best.

The per-seed grids are cached in ``split_cache.json`` (split 0 is compare.py's ``grid_cache.json``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import compare  # noqa: E402
from problems import problems, train  # noqa: E402

GRID = compare.GRID
CACHE = Path(__file__).resolve().parent / "split_cache.json"


def split_grid(p, split: int, idx: list[int], seeds=compare.SEEDS) -> np.ndarray:
    """Held-out loss at the grid LRs ``idx`` on split ``split``, one row per seed (split 0: compare.py's
    cached grid)."""
    data = p.data(split=split)
    if split == 0:
        return compare.grid_search(p, data, seeds)[:, idx]
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    rows = []
    for s in seeds:
        row = []
        for i in idx:
            key = f"{p.name}|split={split}|lr={GRID[i]:.6g}|{p.steps}|{p.batch}|seed={s}"
            if key not in cache:
                v = train(p, float(GRID[i]), s, data=data)
                cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
                cache[key] = v if np.isfinite(v) else "inf"
                CACHE.write_text(json.dumps(cache, indent=1))
            row.append(float(cache[key]))
        rows.append(row)
    return np.array(rows)


def tied(losses: np.ndarray, ib: int) -> np.ndarray:
    """``losses``: (runs, LRs) held-out losses, paired across the LRs (inf: diverged). The mask of the LRs
    tied with column ``ib``: their mean paired difference from it is within two standard errors
    (sd / sqrt(runs)); a column with a diverged run is never tied."""
    d = losses - losses[:, ib:ib + 1]
    with np.errstate(invalid="ignore"):
        mean, se = d.mean(0), d.std(0, ddof=1) / np.sqrt(losses.shape[0])
    ok = np.isfinite(mean) & (mean <= 2 * se)
    ok[ib] = True
    return ok


def pooled_best(losses: np.ndarray) -> tuple[int, np.ndarray]:
    """``losses``: (runs, LRs), one row per (split, seed) run. The index of the pooled grid-best (the lowest
    mean over all runs; an LR with a diverged run has mean inf) and the mask of the LRs tied with it."""
    ib = int(np.argmin(losses.mean(0)))
    return ib, tied(losses, ib)


def _band(losses: np.ndarray, ib: int, lrs: np.ndarray) -> tuple[float, float]:
    ok = tied(losses, ib)
    return float(lrs[ok].min()), float(lrs[ok].max())


def window(ib0: int, lo: int, hi: int) -> list[int]:
    """Grid indices ``lo`` steps below to ``hi`` steps above ``ib0``, clipped to the grid."""
    return list(range(max(0, ib0 - lo), min(len(GRID), ib0 + hi + 1)))


def at_open_edge(ib: int, idx: list[int]) -> int:
    """-1 / +1 when the window position ``ib`` is the window's lower / upper edge and the grid goes on
    beyond it (the best may lie outside: widen); 0 otherwise."""
    if ib == 0 and idx[0] > 0:
        return -1
    if ib == len(idx) - 1 and idx[-1] < len(GRID) - 1:
        return 1
    return 0


def ground_truth(p, splits: int = 6, step: int = 6, seeds=compare.SEEDS, log=print) -> dict:
    """The pre-registered ground truth of ``p`` (README, "The pre-registered ground truth"): the grid LRs
    within ``step`` grid steps of the split-0 grid-best on ``splits`` held-out splits x ``seeds``, widened
    by ``step`` on a side while the pooled best sits at that open edge; the pooled best and its band, the
    band over splits (compare.cv_best on the split means) and each split's best."""
    ib0 = int(np.argmin(compare.grid_search(p, p.data(split=0)).mean(0)))
    lo = hi = step
    while True:
        idx = window(ib0, lo, hi)
        per = [split_grid(p, k, idx, seeds) for k in range(splits)]   # (seeds, LRs) each
        pooled = np.concatenate(per)
        ib, ok = pooled_best(pooled)
        edge = at_open_edge(ib, idx)
        if not edge:
            break
        log(f"  {p.name}: pooled best {GRID[idx[ib]]:.3g} at the window's {'lower' if edge < 0 else 'upper'} "
            f"edge: widening by {step} grid steps")
        lo, hi = (lo + step, hi) if edge < 0 else (lo, hi + step)
    lrs = GRID[idx]
    means = np.array([L.mean(0) for L in per])                          # (splits, LRs)
    icv, okcv = compare.cv_best(means)
    return {"lrs": lrs, "per_split": per, "loss": pooled.mean(0), "best": float(lrs[ib]),
            "band": (float(lrs[ok].min()), float(lrs[ok].max())),
            "cv_best": float(lrs[icv]), "cv_band": (float(lrs[okcv].min()), float(lrs[okcv].max())),
            "split_best": [float(lrs[int(np.argmin(m))]) for m in means], "runs": pooled.shape[0]}


def within3(v, ref) -> bool:
    return bool(v) and 1 / 3 <= v / ref <= 3


def bootstrap_within3(per_split: list[np.ndarray], lrs: np.ndarray, sugg: float, n: int = 2000,
                      seed: int = 0) -> float:
    """How firmly the verdict "``sugg`` is within 3x of the pooled grid-best" rests on the held-out splits:
    the share of ``n`` bootstrap resamples of the splits (drawn with replacement, each with all its seeds;
    the held-out set is the sampling unit) whose pooled grid-best is within 3x of ``sugg``."""
    rng = np.random.default_rng(seed)
    S = len(per_split)
    hits = 0
    for _ in range(n):
        pooled = np.concatenate([per_split[k] for k in rng.integers(0, S, S)])
        hits += within3(sugg, float(lrs[int(np.argmin(pooled.mean(0)))]))
    return hits / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=None, help="the problems whose names contain one of these comma-separated "
                                                 "strings (default: all seven, in the order given)")
    ap.add_argument("--splits", type=int, default=6)
    ap.add_argument("--window", type=int, default=6, help="grid steps either side of the split-0 grid-best "
                                                         "(and the widening step at an open edge)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--per-split", action="store_true", help="with --markdown: each problem's per-split table")
    ap.add_argument("--bootstrap", type=int, default=2000, help="resamples of the splits for the verdict's "
                                                                "stability (0: off)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    ps = problems()
    if a.only:
        ps = [q for w in a.only.split(",") for q in ps if w and w in q.name]
    summary = []
    for p in ps:
        t0 = time.perf_counter()
        gt = ground_truth(p, a.splits, a.window)
        lrs, ip = gt["lrs"], int(np.argmin(gt["loss"]))
        rows = []
        curve = {}
        for k in range(a.splits):
            rules, race, errors = compare.finder(p, p.data(split=k))
            if k == 0:
                curve = rules
            sugg = rules.get("race")
            L = gt["per_split"][k]
            m = L.mean(0)
            ib = int(np.argmin(m))
            rows.append({"split": k, "best": float(lrs[ib]), "band": _band(L, ib, lrs), "loss": m, "sugg": sugg})
            print(f"{p.name} split {k}: grid-best {lrs[ib]:.3g}, suggestion {sugg:.3g} ({sugg / lrs[ib]:.2f}x of the "
                  f"split's best, {sugg / gt['best']:.2f}x of the pooled best)" + (f" internal errors: {errors}" if errors else "")
                  + "; mean loss: " + " ".join(f"{lr:.2g}:{v:.4f}" for lr, v in zip(lrs, m)), flush=True)
        within = sum(within3(r["sugg"], r["best"]) for r in rows)
        within_pooled = sum(within3(r["sugg"], gt["best"]) for r in rows)
        boot = (bootstrap_within3(gt["per_split"], lrs, rows[0]["sugg"], a.bootstrap)
                if a.bootstrap and rows[0]["sugg"] else None)
        row = {"problem": p.name, "gt": gt, "rows": rows, "curve": curve, "within_pooled": within_pooled, "boot": boot,
               "seconds": time.perf_counter() - t0}
        summary.append(row)
        print(f"{p.name}: pooled over {a.splits} splits x {len(compare.SEEDS)} seeds: grid-best {gt['best']:.3g} "
              f"(band {gt['band'][0]:.3g}..{gt['band'][1]:.3g}; over splits {gt['cv_band'][0]:.3g}..{gt['cv_band'][1]:.3g}); "
              f"each split's best {', '.join(f'{v:.2g}' for v in gt['split_best'])}; race on split 0 "
              f"{rows[0]['sugg']:.3g} ({rows[0]['sugg'] / gt['best']:.2f}x); suggestions within 3x of their split's "
              f"best {within}/{a.splits}, of the pooled best {within_pooled}/{a.splits}"
              + (f"; race on split 0 within 3x of the pooled best of {boot:.0%} of {a.bootstrap} resamples of the splits"
                 if boot is not None else "") + f"  [{row['seconds']:.0f}s]", flush=True)
        if a.markdown and (a.per_split or len(ps) == 1):
            print()
            print("| split | grid-best LR (indistinguishable band) | suggestion (race) | / split's best | / pooled best | "
                  "mean held-out loss at the pooled best, at the split's best |")
            print("|---:|---|---:|---:|---:|---|")
            for r in rows:
                jb = int(np.argmin(r["loss"]))
                print(f"| {r['split']} | {r['best']:.2g} ({r['band'][0]:.2g}–{r['band'][1]:.2g}) | {r['sugg']:.2g} | "
                      f"{r['sugg'] / r['best']:.2f}x | {r['sugg'] / lrs[ip]:.2f}x | "
                      f"{r['loss'][ip]:.4f}, {r['loss'][jb]:.4f} |")
            print(f"| **pooled** | {lrs[ip]:.2g} ({gt['band'][0]:.2g}–{gt['band'][1]:.2g}) | | **{within}/{a.splits}** "
                  f"within 3x | **{within_pooled}/{a.splits}** within 3x | {gt['loss'][ip]:.4f} |")
            print()
    if len(summary) > 1 or a.markdown:
        rules = compare.RULES
        ok = {k: sum(within3(s["curve"].get(k), s["gt"]["best"]) for s in summary) for k in rules}
        print("within 3x of the pooled grid-best (suggestions on split 0): "
              + ", ".join(f"{k} {ok[k]}/{len(summary)}" for k in rules))
        print(f"each split's race suggestion within 3x of the pooled grid-best: "
              f"{sum(s['within_pooled'] for s in summary)}/{a.splits * len(summary)}")
        if a.markdown:
            print()
            print(f"| problem | pooled grid-best LR ({a.splits} splits × {len(compare.SEEDS)} seeds; band) | band over splits "
                  "| each split's best | nndoctor (race), split 0 | within 3x in resamples of the splits "
                  "| each split's race within 3x | curve rule lr_min/10 | "
                  "lag-free min/√10 | fastai valley | fastai min/10 | steepest |")
            print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for s in summary:
                gt, c = s["gt"], s["curve"]
                cells = [f"{c[k]:.2g} ({c[k] / gt['best']:.2f}x)" if c.get(k) else "–" for k in rules]
                print(f"| {s['problem']} | {gt['best']:.2g} ({gt['band'][0]:.2g}–{gt['band'][1]:.2g}) | "
                      f"{gt['cv_band'][0]:.2g}–{gt['cv_band'][1]:.2g} | {', '.join(f'{v:.2g}' for v in gt['split_best'])} | "
                      f"{cells[0]} | {'–' if s['boot'] is None else format(s['boot'], '.0%')} | {s['within_pooled']}/{a.splits} | "
                      + " | ".join(cells[1:]) + " |")
            print(f"| **within 3x of the pooled grid-best** | | | | **{ok['race']}/{len(summary)}** | | "
                  f"{sum(s['within_pooled'] for s in summary)}/{a.splits * len(summary)} | "
                  + " | ".join(f"{ok[k]}/{len(summary)}" for k in rules[1:]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
