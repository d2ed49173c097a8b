"""How good is the check-up's suggested learning rate?

Ground truth, per problem (benchmarks/lrfinder/problems.py: the clinic's kinds of models and data):
the **grid-best LR** is the LR of a log grid (25 values 1e-5..10, a factor 1.78 apart) whose held-out
loss after K constant-LR steps (the problem's ``steps``: 150, or 100 for the GRU and the transformer),
averaged over 8 seeds (model init and batch order), is lowest. Because several LRs are often within
noise of each other, the table also gives the **indistinguishable band**: the grid LRs whose mean
held-out loss is not worse than the best's by more than two standard errors of the paired (same-seed)
difference.

The check-up under test is the real one: ``nndoctor.checkup`` on a fresh model with the problem's
optimizer and a shuffled loader of the training set (the first 16 batches, as ``nndoctor checkup``
captures), no overfit or batch-size parts. Its suggestion (``race``) is the winner of the confirmation
race around the range test's curve rule (``robust``); fastai's valley, fastai's min/10, the
steepest slope (torch-lr-finder / Lightning) and the lag-free min/sqrt(10) are read off the same curve.
The table gives each suggestion, its factor from the grid-best LR (>1: above) and its regret: the
grid's mean held-out loss at the grid LR nearest the suggestion, relative to the best's.

**Cross-validated ground truth** (``--cv-splits K``, default 4; 0: off). The 8 seeds vary the
initialization and the batch order, never *which* examples are held out (a fixed random quarter), so
the grid-best above is partly a property of that one held-out quarter (on diabetes it moves 17x
between quarters: splits.py). The second table repeats the grid on K-1 more random quarters held out
(problems.py's ``data(split=k)``; ``--cv-seeds`` seeds each, 4 by default; split 0 keeps its 8), on
the grid LRs within 6 grid steps (32x) of the split-0 grid-best, and takes the **cross-validated
grid-best**: the LR whose held-out loss, averaged over the splits (each split's mean over its seeds,
every split weighted alike, as in K-fold cross-validation), is lowest. Its band: the LRs whose
split-averaged loss is within two standard errors of the best's, the standard error of the mean
paired (same split) difference over the K splits, i.e. counting the held-out set as a sample. The
same check-up suggestions (made on split 0's training set) are compared with it.

    python benchmarks/lrfinder/compare.py [--markdown] [--only NAME] [--cv-splits 4] [--cv-seeds 4]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from problems import loader, problems, train  # noqa: E402

import nndoctor  # noqa: E402

GRID = np.logspace(-5, 1, 25)
RULES = ["race", "robust", "lagfree_sqrt10", "fastai_valley", "fastai_min_over_10", "steepest"]
CACHE = Path(__file__).resolve().parent / "grid_cache.json"


SEEDS = tuple(range(8))


def grid_search(p, data, seeds=SEEDS):
    """Held-out loss after ``p.steps`` steps at each grid LR, one row per seed (cached per seed)."""
    import json
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    rows = []
    for s in seeds:
        key = f"{p.name}|{GRID[0]:g}..{GRID[-1]:g}x{len(GRID)}|{p.steps}|{p.batch}|seed={s}"
        if key not in cache:
            vals = [train(p, float(lr), s, data=data) for lr in GRID]
            cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
            cache[key] = [v if np.isfinite(v) else "inf" for v in vals]
            CACHE.write_text(json.dumps(cache, indent=1))
        rows.append([float(v) for v in cache[key]])
    return np.array(rows)


def finder(p, data):
    """The check-up's LR part on a fresh model: its rules dict (curve rules and the race's winner)."""
    Xtr, ytr, _, _ = data
    torch.manual_seed(0)
    model = p.make_model()
    opt = p.opt_class(model.parameters(), lr=1e-3, **p.opt_kwargs)
    rep = nndoctor.checkup(model, loader(Xtr, ytr, p.batch, 0), p.loss_fn, opt, overfit=False, batch_size=False,
                           max_batches=16)
    lr = rep.checkup.get("lr_range_test") or {}
    return dict(lr.get("rules", {})), rep.checkup.get("lr_race"), rep.internal_errors


def band(losses: np.ndarray, ib: int) -> np.ndarray:
    """Grid LRs not distinguishable from the best: mean paired difference <= 2 standard errors."""
    d = losses - losses[:, ib:ib + 1]
    n = losses.shape[0]
    with np.errstate(invalid="ignore"):
        mean, se = d.mean(0), d.std(0, ddof=1) / np.sqrt(n)
    ok = np.isfinite(mean) & (mean <= 2 * se)
    ok[ib] = True
    return GRID[ok]


def cv_best(per_split: np.ndarray) -> tuple[int, np.ndarray]:
    """``per_split``: (splits, LRs) held-out losses (each split's mean over its seeds). The index of the
    cross-validated best (lowest mean over the splits) and the mask of the LRs tied with it: the mean
    paired (same split) difference from the best within two standard errors, over the splits."""
    m = per_split.mean(0)
    ib = int(np.argmin(m))
    d = per_split - per_split[:, ib:ib + 1]
    with np.errstate(invalid="ignore"):
        mean, se = d.mean(0), d.std(0, ddof=1) / np.sqrt(per_split.shape[0])
    ok = np.isfinite(mean) & (mean <= 2 * se)
    ok[ib] = True
    return ib, ok


def cross_validated(p, splits_: int, seeds: int) -> dict | None:
    """The cross-validated grid-best of ``p`` (see the module docstring): the window's LRs, each split's
    mean held-out loss at them, the best, its band (lowest and highest LR), and whether the best sits at
    the window's edge. None when ``splits_`` < 2."""
    if splits_ < 2:
        return None
    import splits as sp   # (splits.py imports this module: imported here, not at the top)

    base = grid_search(p, p.data(split=0)).mean(0)
    ib0 = int(np.argmin(base))
    idx = list(range(max(0, ib0 - 6), min(len(GRID), ib0 + 7)))
    lrs = GRID[idx]
    per_split = np.array([sp.split_grid(p, k, idx, seeds=SEEDS if k == 0 else tuple(range(seeds))).mean(0)
                          for k in range(splits_)])               # (splits, LRs): each split's seed mean
    m = per_split.mean(0)
    ib, ok = cv_best(per_split)
    return {"lrs": lrs, "loss": m, "best": float(lrs[ib]), "band": (float(lrs[ok].min()), float(lrs[ok].max())),
            "edge": (ib == 0 and idx[0] > 0) or (ib == len(idx) - 1 and idx[-1] < len(GRID) - 1),
            "split_best": [float(lrs[int(np.argmin(r))]) for r in per_split]}


def _pct(v: float) -> str:
    return "diverged" if not math.isfinite(v) else f"+{v:.0%}" if v >= 0.005 else "+0%"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default=None)
    ap.add_argument("--cv-splits", type=int, default=4, help="held-out splits of the cross-validated grid (0: off)")
    ap.add_argument("--cv-seeds", type=int, default=4, help="seeds per split after the first (split 0 keeps 8)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for p in problems():
        if a.only and a.only not in p.name:
            continue
        t0 = time.perf_counter()
        data = p.data()
        per_seed = grid_search(p, data)
        losses = per_seed.mean(0)
        ib = int(np.argmin(losses))
        best = float(GRID[ib])
        near = band(per_seed, ib)
        rules, race, errors = finder(p, data)
        cv = cross_validated(p, a.cv_splits, a.cv_seeds)
        row = {"problem": p.name, "grid_best": best, "near": (float(near.min()), float(near.max())),
               "best_loss": float(losses[ib]), "seconds": time.perf_counter() - t0, "race_detail": race, "cv": cv}
        for k in RULES:
            v = rules.get(k)
            row[k] = v
            row[k + "_x"] = (v / best) if v else math.nan
            # regret: the grid's mean held-out loss at the grid LR nearest the suggestion, over the best
            row[k + "_regret"] = (float(losses[int(np.abs(np.log(GRID) - math.log(v)).argmin())] / losses[ib] - 1)
                                  if v else math.nan)
            if cv:
                row[k + "_cvx"] = (v / cv["best"]) if v else math.nan
                inside = v and cv["lrs"][0] / 1.34 <= v <= cv["lrs"][-1] * 1.34   # within half a grid step
                row[k + "_cvregret"] = (float(cv["loss"][int(np.abs(np.log(cv["lrs"]) - math.log(v)).argmin())]
                                              / cv["loss"].min() - 1) if inside else None)
        rows.append(row)
        print(f"{p.name}: grid-best {best:.3g} (loss {losses[ib]:.4g}; indistinguishable: {near.min():.3g}..{near.max():.3g})"
              + "".join(f"  {k} {row[k]:.3g} ({row[k + '_x']:.2f}x)" if row[k] else f"  {k} -" for k in RULES)
              + f"  [{row['seconds']:.0f}s]" + (f" internal errors: {errors}" if errors else ""), flush=True)
        if race:
            print("    race: " + "; ".join(f"{r['steps']} steps: " + ", ".join(
                f"{k} {v}" + (f" (+-{r['se'][k]})" if r.get("se", {}).get(k) not in (None, 0, 0.0) else "")
                for k, v in r["heldout"].items()) for r in race.get("rungs", []))
                + f"  [{race.get('heldout_examples')} held-out examples in {race.get('heldout_units')} units"
                + (f"; tied with the winner: {race['tied']}" if race.get("tied") else "") + "]", flush=True)
        if cv:
            print(f"    cross-validated ({a.cv_splits} splits): grid-best {cv['best']:.3g} (indistinguishable: "
                  f"{cv['band'][0]:.3g}..{cv['band'][1]:.3g}{'; at the window edge' if cv['edge'] else ''}); "
                  f"each split's best: {', '.join(f'{v:.2g}' for v in cv['split_best'])}; race {row['race_cvx']:.2f}x",
                  flush=True)
    ok = {k: sum(1 for r in rows if r[k] and 1 / 3 <= r[k + "_x"] <= 3) for k in RULES}
    inband = {k: sum(1 for r in rows if r[k] and r["near"][0] / 3 ** 0.5 <= r[k] <= r["near"][1] * 3 ** 0.5)
            for k in RULES}
    # within 3x of an LR statistically tied with the best (any LR of the indistinguishable band)
    tied3 = {k: sum(1 for r in rows if r[k] and r["near"][0] / 3 <= r[k] <= r["near"][1] * 3) for k in RULES}
    print("within 3x of grid-best: " + ", ".join(f"{k} {ok[k]}/{len(rows)}" for k in RULES))
    print("within 3x of an LR tied with the best: " + ", ".join(f"{k} {tied3[k]}/{len(rows)}" for k in RULES))
    print("inside the indistinguishable band (+- half a grid step): " + ", ".join(f"{k} {inband[k]}/{len(rows)}" for k in RULES))
    if a.markdown:
        print()
        print("| problem | grid-best LR (indistinguishable band) | nndoctor (race) | curve rule lr_min/10 | lag-free min/√10 | "
              "fastai valley | fastai min/10 | steepest |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            cells = [f"{r[k]:.2g} ({r[k + '_x']:.2f}x, {_pct(r[k + '_regret'])})" if r[k] else "–" for k in RULES]
            print(f"| {r['problem']} | {r['grid_best']:.2g} ({r['near'][0]:.2g}–{r['near'][1]:.2g}) | " + " | ".join(cells) + " |")
        print("| **within 3x of grid-best** | | " + " | ".join(f"{ok[k]}/{len(rows)}" for k in RULES) + " |")
        print("| **median regret** | | " + " | ".join(
            _pct(float(np.median([r[k + "_regret"] for r in rows if r[k]]))) for k in RULES) + " |")
        print("| **inside the indistinguishable band** | | " + " | ".join(f"{inband[k]}/{len(rows)}" for k in RULES) + " |")
        print("| **within 3x of an LR of the band** | | " + " | ".join(f"{tied3[k]}/{len(rows)}" for k in RULES) + " |")
    cvrows = [r for r in rows if r["cv"]]
    if cvrows:
        okcv = {k: sum(1 for r in cvrows if r[k] and 1 / 3 <= r[k + "_cvx"] <= 3) for k in RULES}
        bandcv = {k: sum(1 for r in cvrows if r[k] and r["cv"]["band"][0] / 3 ** 0.5 <= r[k] <= r["cv"]["band"][1] * 3 ** 0.5)
                  for k in RULES}
        tied3cv = {k: sum(1 for r in cvrows if r[k] and r["cv"]["band"][0] / 3 <= r[k] <= r["cv"]["band"][1] * 3)
                   for k in RULES}
        print(f"cross-validated ({a.cv_splits} splits): within 3x of an LR tied with the best: "
              + ", ".join(f"{k} {tied3cv[k]}/{len(cvrows)}" for k in RULES))
        print(f"cross-validated ({a.cv_splits} splits): within 3x of the grid-best: "
              + ", ".join(f"{k} {okcv[k]}/{len(cvrows)}" for k in RULES))
        print("inside its indistinguishable band (+- half a grid step): "
              + ", ".join(f"{k} {bandcv[k]}/{len(cvrows)}" for k in RULES))
        if a.markdown:
            print()
            print(f"| problem | cross-validated grid-best LR ({a.cv_splits} splits; band) | each split's best | nndoctor (race) | "
                  "curve rule lr_min/10 | lag-free min/√10 | fastai valley | fastai min/10 | steepest |")
            print("|---|---|---|---:|---:|---:|---:|---:|---:|")
            for r in cvrows:
                cv = r["cv"]
                cells = [(f"{r[k + '_cvx']:.2f}x, " + (_pct(r[k + '_cvregret']) if r[k + '_cvregret'] is not None
                                                       else "outside the window")) if r[k] else "–" for k in RULES]
                print(f"| {r['problem']} | {cv['best']:.2g} ({cv['band'][0]:.2g}–{cv['band'][1]:.2g})"
                      + (" (window edge)" if cv["edge"] else "") + " | "
                      + ", ".join(f"{v:.2g}" for v in cv["split_best"]) + " | " + " | ".join(cells) + " |")
            print("| **within 3x of the cross-validated grid-best** | | | " + " | ".join(f"{okcv[k]}/{len(cvrows)}" for k in RULES) + " |")
            print("| **median regret** | | | " + " | ".join(
                _pct(float(np.median([r[k + "_cvregret"] for r in cvrows if r[k] and r[k + "_cvregret"] is not None])))
                for k in RULES) + " |")
            print("| **inside the indistinguishable band** | | | " + " | ".join(f"{bandcv[k]}/{len(cvrows)}" for k in RULES) + " |")
            print("| **within 3x of an LR of the band** | | | " + " | ".join(f"{tied3cv[k]}/{len(cvrows)}" for k in RULES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
