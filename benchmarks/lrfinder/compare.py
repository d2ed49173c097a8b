"""How good is the check-up's suggested learning rate?

For each problem (benchmarks/lrfinder/problems.py: the clinic's kinds of models and data), a grid
search finds the best constant LR (held-out loss after K steps, mean of 2 seeds, on a log grid of
25 values 1e-5..10, i.e. a factor 1.78 apart); the LR range test runs once on the same training
data with the problem's optimizer, and each rule reads its suggestion off the same curve:
nndoctor's robust rule, fastai's valley, fastai's min/10, the steepest slope (torch-lr-finder /
Lightning). The table gives each suggestion and its factor from the grid-best LR (>1: above).

    python benchmarks/lrfinder/compare.py [--markdown] [--only NAME]
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

from nndoctor.preflight.lrfinder import lr_range_test  # noqa: E402

GRID = np.logspace(-5, 1, 25)
RULES = ["robust", "lagfree_sqrt10", "fastai_valley", "fastai_min_over_10", "steepest"]
CACHE = Path(__file__).resolve().parent / "grid_cache.json"


def grid_search(p, data, seeds=(0, 1)):
    import json
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    key = f"{p.name}|{GRID[0]:g}..{GRID[-1]:g}x{len(GRID)}|{p.steps}|{p.batch}|{list(seeds)}"
    if key in cache:
        return np.array([float(v) for v in cache[key]])
    out = []
    for lr in GRID:
        vals = [train(p, float(lr), s, data=data) for s in seeds]
        out.append(float(np.mean(vals)))
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    cache[key] = [v if np.isfinite(v) else "inf" for v in out]
    CACHE.write_text(json.dumps(cache, indent=1))
    return np.array(out)


def finder(p, data):
    Xtr, ytr, _, _ = data
    torch.manual_seed(0)
    model = p.make_model()
    opt = p.opt_class(model.parameters(), lr=1e-3, **p.opt_kwargs)
    return lr_range_test(model, loader(Xtr, ytr, p.batch, 0), p.loss_fn, opt, max_batches=100)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for p in problems():
        if a.only and a.only not in p.name:
            continue
        t0 = time.perf_counter()
        data = p.data()
        losses = grid_search(p, data)
        ib = int(np.argmin(losses))
        best = float(GRID[ib])
        near = GRID[losses <= losses[ib] * 1.1 + 1e-3]
        r = finder(p, data)
        row = {"problem": p.name, "grid_best": best, "near": (float(near.min()), float(near.max())),
               "best_loss": float(losses[ib]), "seconds": time.perf_counter() - t0}
        for k in RULES:
            v = r.rules.get(k)
            row[k] = v
            row[k + "_x"] = (v / best) if v else math.nan
        rows.append(row)
        print(f"{p.name}: grid-best {best:.3g} (loss {losses[ib]:.4g}; within 10%: {near.min():.3g}..{near.max():.3g})"
              + "".join(f"  {k} {row[k]:.3g} ({row[k + '_x']:.2f}x)" if row[k] else f"  {k} -" for k in RULES)
              + f"  [{row['seconds']:.0f}s]", flush=True)
    ok = {k: sum(1 for r in rows if r[k] and 1 / 3 <= r[k + "_x"] <= 3) for k in RULES}
    band = {k: sum(1 for r in rows if r[k] and r["near"][0] / 3 ** 0.5 <= r[k] <= r["near"][1] * 3 ** 0.5)
            for k in RULES}
    print("within 3x of grid-best: " + ", ".join(f"{k} {ok[k]}/{len(rows)}" for k in RULES))
    print("inside the within-10% band (+- half a grid step): " + ", ".join(f"{k} {band[k]}/{len(rows)}" for k in RULES))
    if a.markdown:
        print()
        print("| problem | grid-best LR (loss within 10%) | nndoctor robust | lag-free min/√10 | fastai valley | "
              "fastai min/10 | steepest |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for r in rows:
            cells = [f"{r[k]:.2g} ({r[k + '_x']:.2f}x)" if r[k] else "–" for k in RULES]
            print(f"| {r['problem']} | {r['grid_best']:.2g} ({r['near'][0]:.2g}–{r['near'][1]:.2g}) | " + " | ".join(cells) + " |")
        print("| **within 3x of grid-best** | | " + " | ".join(f"{ok[k]}/{len(rows)}" for k in RULES) + " |")
        print("| **inside the 10% band** | | " + " | ".join(f"{band[k]}/{len(rows)}" for k in RULES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
