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

    python benchmarks/lrfinder/splits.py --only diabetes [--splits 6] [--window 6] [--markdown]

The per-seed grids are cached in ``split_cache.json`` (split 0 is compare.py's ``grid_cache.json``).
"""
from __future__ import annotations

import argparse
import json
import sys
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


def _band(losses: np.ndarray, ib: int, lrs: np.ndarray) -> tuple[float, float]:
    d = losses - losses[:, ib:ib + 1]
    with np.errstate(invalid="ignore"):
        mean, se = d.mean(0), d.std(0, ddof=1) / np.sqrt(losses.shape[0])
    ok = np.isfinite(mean) & (mean <= 2 * se)
    ok[ib] = True
    return float(lrs[ok].min()), float(lrs[ok].max())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", required=True, help="the problem whose name contains this")
    ap.add_argument("--splits", type=int, default=6)
    ap.add_argument("--window", type=int, default=6, help="grid steps either side of the split-0 grid-best")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    p = next(q for q in problems() if a.only in q.name)
    base = compare.grid_search(p, p.data(split=0)).mean(0)
    ib0 = int(np.argmin(base))
    idx = list(range(max(0, ib0 - a.window), min(len(GRID), ib0 + a.window + 1)))
    lrs = GRID[idx]
    rows, per = [], []
    for k in range(a.splits):
        L = split_grid(p, k, idx)
        per.append(L)
        m = L.mean(0)
        ib = int(np.argmin(m))
        rules, race, _ = compare.finder(p, p.data(split=k))
        sugg = rules.get("race")
        rows.append({"split": k, "best": float(lrs[ib]), "band": _band(L, ib, lrs), "edge": ib in (0, len(idx) - 1),
                     "loss": m, "sugg": sugg, "tied": (race or {}).get("tied", [])})
        print(f"split {k}: grid-best {lrs[ib]:.3g}" + (" (at the window's edge)" if rows[-1]["edge"] else "")
              + f", suggestion {sugg:.3g} ({sugg / lrs[ib]:.2f}x); mean loss: "
              + " ".join(f"{lr:.2g}:{v:.4f}" for lr, v in zip(lrs, m)), flush=True)
    pooled = np.concatenate(per)                     # (splits x seeds, LRs), paired by split and seed
    pm = pooled.mean(0)
    ip = int(np.argmin(pm))
    pband = _band(pooled, ip, lrs)
    within = sum(1 for r in rows if 1 / 3 <= r["sugg"] / r["best"] <= 3)
    within_pooled = sum(1 for r in rows if 1 / 3 <= r["sugg"] / lrs[ip] <= 3)
    print(f"pooled over {a.splits} splits x {len(compare.SEEDS)} seeds: grid-best {lrs[ip]:.3g} "
          f"(indistinguishable {pband[0]:.3g}..{pband[1]:.3g}); suggestions within 3x of their split's grid-best "
          f"{within}/{a.splits}, of the pooled grid-best {within_pooled}/{a.splits}")
    if a.markdown:
        print()
        print("| split | grid-best LR (indistinguishable band) | suggestion (race) | / split's best | / pooled best | "
              "mean held-out loss at the pooled best, at the split's best |")
        print("|---:|---|---:|---:|---:|---|")
        for r in rows:
            jb = int(np.argmin(r["loss"]))
            print(f"| {r['split']} | {r['best']:.2g} ({r['band'][0]:.2g}–{r['band'][1]:.2g}) | {r['sugg']:.2g} | "
                  f"{r['sugg'] / r['best']:.2f}x | {r['sugg'] / lrs[ip]:.2f}x | "
                  f"{r['loss'][ip]:.4f}, {r['loss'][jb]:.4f} |")
        print(f"| **pooled** | {lrs[ip]:.2g} ({pband[0]:.2g}–{pband[1]:.2g}) | | **{within}/{a.splits}** within 3x "
              f"| **{within_pooled}/{a.splits}** within 3x | {pm[ip]:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
