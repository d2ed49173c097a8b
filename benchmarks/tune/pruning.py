"""How many trial-steps does the doctor's pruning save, at what best result?

For each problem (benchmarks/tune/mlp_*.py, scripts that read their hyperparameters with
nndoctor.param and report the validation loss with nndoctor.report_metric), the same TPE sampler
and seed run N trials three times: no pruner, Optuna's MedianPruner, and the doctor pruner (a trial
is stopped at its first `error` finding). Reported: total optimizer steps over all trials, pruned
trials, the best value, and the steps saved against no pruning.

    python benchmarks/tune/pruning.py [--trials 16] [--markdown]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small models, many trials: one thread each
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import sklearn.datasets  # noqa: E402,F401  (imported once, before the trials fork)
import torch  # noqa: E402,F401

from nndoctor.tuning.study import tune  # noqa: E402

PROBLEMS = {
    "mlp_digits.py": ["lr=loguniform:1e-4:10", "optimizer=choice:sgd,adam"],
    "mlp_diabetes.py": ["lr=loguniform:1e-4:3", "width=choice:32,64,128", "optimizer=choice:sgd,adam"],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default=None)
    a = ap.parse_args(argv)
    import optuna

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for script, space in PROBLEMS.items():
            if a.only and a.only not in script:
                continue
            for pruner in ("none", "median", "doctor"):
                t0 = time.perf_counter()
                study = tune(str(HERE / script), [], space, n_trials=a.trials, sampler="tpe", pruner=pruner,
                             storage=f"sqlite:///{tmp}/{script}-{pruner}.db", study_name="bench", seed=0,
                             report_every=25)
                ts = study.trials
                steps = sum(t.user_attrs.get("steps", 0) for t in ts)
                pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in ts)
                failed = sum(t.state == optuna.trial.TrialState.FAIL for t in ts)
                done = [t for t in ts if t.state == optuna.trial.TrialState.COMPLETE]
                best = min(t.value for t in done) if done else float("nan")
                rows.append({"problem": script, "pruner": pruner, "steps": steps, "pruned": pruned, "failed": failed,
                             "best": best, "seconds": time.perf_counter() - t0,
                             "reasons": sorted({(t.user_attrs.get("pruned_reason") or "").split(":")[1].strip()
                                                for t in ts if t.user_attrs.get("pruned_reason", "").startswith("doctor")})})
                r = rows[-1]
                print(f"{script} {pruner}: steps {steps}, pruned {pruned}, failed {failed}, best {best:.4g} "
                      f"[{r['seconds']:.0f}s] {r['reasons']}", flush=True)
    if a.markdown:
        print()
        print("| problem | pruner | trial-steps | saved vs none | pruned | failed | best value |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for r in rows:
            base = next(x for x in rows if x["problem"] == r["problem"] and x["pruner"] == "none")["steps"]
            saved = f"{1 - r['steps'] / base:.0%}" if base else "-"
            print(f"| {r['problem']} | {r['pruner']} | {r['steps']} | {saved} | {r['pruned']} | {r['failed']} | "
                  f"{r['best']:.4g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
