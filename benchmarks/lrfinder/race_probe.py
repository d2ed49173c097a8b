"""What would the confirmation race see with more held-out data or without halving? (a probe, not a test)

For each problem (``--only``), runs the real check-up as compare.py does and, around its race, the same
candidates again *without* successive halving (every candidate trains to the last rung: 50 + 100 steps
when the FLOP budget allows) on 4 folds of the captured batches (fold 0 is the race's own split; the others
rotate the batches by a quarter, so that another quarter is held out). Prints, per rung, each candidate's held-out loss, its paired difference
from the rung's best and that difference's standard error over the held-out units, on the race's own
fold and pooled over the 4 folds.

    python benchmarks/lrfinder/race_probe.py --only diabetes
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import compare  # noqa: E402
from problems import problems  # noqa: E402

import nndoctor.preflight as pf  # noqa: E402
from nndoctor.preflight import lrfinder  # noqa: E402


def full_race(model, batches, loss_fn, opt, cands, rungs=2, **kw):
    """lr_race's training and judging with no candidate dropped: ``rungs`` rungs, doubling."""
    import copy

    train, heldout = lrfinder.split_heldout(batches)
    units = lrfinder.heldout_units(heldout)
    runs = [{"lr": c, "model": copy.deepcopy(model), "steps": 0, "dead": False} for c in cands]
    for r in runs:
        r["opt"] = lrfinder.fresh_optimizer(opt, r["model"], original=model, lr=r["lr"])
    out, step, total = [], kw.get("first_rung_steps", 25), 0
    for _ in range(rungs):
        total += step
        rung = {"steps": total, "loss": {}, "units": {}}
        for r in runs:
            lrfinder._train(r, train, loss_fn, total)
            rung["loss"][r["lr"]], rung["units"][r["lr"]] = ((math.inf, None) if r["dead"] else
                                                           lrfinder._heldout_loss(r["model"], heldout, loss_fn, units))
        out.append(rung)
        step *= 2
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", required=True)
    ap.add_argument("--folds", type=int, default=4)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    cap = {}
    real = lrfinder.lr_race

    def wrap(model, batches, loss_fn, opt, cands, **kw):
        cap["race"] = real(model, batches, loss_fn, opt, cands, **kw)
        k = max(1, len(batches) // 4)
        # fold 0: the race's own split (the last k batches held out); fold f: the batches rotated by f*k
        cap["folds"] = [full_race(model, batches[f * k:] + batches[:f * k], loss_fn, opt, cands, **kw)
                        for f in range(a.folds)]
        cap["cands"] = cands
        return cap["race"]

    pf.lr_race = wrap
    for p in problems():
        if a.only not in p.name:
            continue
        data = p.data()
        best = float(compare.GRID[int(np.argmin(compare.grid_search(p, data).mean(0)))])
        compare.finder(p, data)
        print(f"== {p.name}: grid-best {best:.3g}; the race's winner {cap['race'].winner:.3g}")
        for ri in range(len(cap["folds"][0])):
            for nf, label in ((1, "the race's fold"), (a.folds, f"{a.folds} folds")):
                fl = cap["folds"][:nf]
                loss = {c: float(np.mean([f[ri]["loss"][c] for f in fl])) for c in cap["cands"]}
                b = min(cap["cands"], key=lambda c: loss[c])
                cells = []
                for c in cap["cands"]:
                    us = [f[ri]["units"][c] for f in fl]
                    ub = [f[ri]["units"][b] for f in fl]
                    if any(u is None for u in us):
                        cells.append(f"{c:.3g}: diverged")
                        continue
                    d = np.concatenate(us) - np.concatenate(ub)
                    se = d.std(ddof=1) / math.sqrt(len(d))
                    cells.append(f"{c:.3g} ({c / best:.2f}x) {loss[c]:.4f} {d.mean():+.4f}±{se:.4f}")
                print(f"  {cap['folds'][0][ri]['steps']} steps, {label}: " + "; ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
