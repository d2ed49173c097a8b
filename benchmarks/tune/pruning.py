"""How many trial-steps does the doctor's pruning save, at what best result? A controlled comparison.

For each problem, each seed draws ONE sequence of trial configurations (Optuna's RandomSampler with
that seed: its draws depend on the seed and the number of draws only, never on the trials'
results or on pruning), and the same sequence is run under four pruners: none, Optuna's
MedianPruner, the doctor pruner (a trial stops at its first `error` finding) and doctor+median. The
script checks that every pruner saw the same configurations, in the same order.

Problems: two scripts of benchmarks/tune/ that read their hyperparameters with nndoctor.param and
report a validation loss, and unmodified programs of the clinic (benchmarks/clinic/programs/, not
edited: their optimizer's lr/momentum and their DataLoader's batch_size are set by the trial, see
nndoctor/tuning/overrides.py), whose search spaces reach into the region where they fail (diverge,
go non-finite, die, do not learn).

Reported per problem and pruner, over the seeds: total optimizer steps of all trials (mean and
range), the steps saved against no pruner, pruned and failed trials, the best value, whether it is
the no-pruner run's best, and "winner pruned": trials pruned whose configuration was the best of
the no-pruner run (a pruned winner is a false alarm that cost the study its result; must be 0).

    python benchmarks/tune/pruning.py [--trials 10] [--seeds 0,1,2] [--only NAME] [--json out.json]
    python benchmarks/tune/pruning.py --table out1.json out2.json     # the markdown table
    python benchmarks/tune/pruning.py ... --reuse earlier.json       # none/median rows from an earlier run
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small models, many trials: one thread each
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLINIC = ROOT / "benchmarks" / "clinic" / "programs"
sys.path.insert(0, str(ROOT))

PRUNERS = ("none", "median", "doctor", "doctor+median")

# name: (script, search space, max steps per trial)
PROBLEMS = {
    "mlp_digits": (HERE / "mlp_digits.py", ["lr=loguniform:1e-4:10", "optimizer=choice:sgd,adam"], None),
    "mlp_diabetes": (HERE / "mlp_diabetes.py",
                     ["lr=loguniform:1e-4:3", "width=choice:32,64,128", "optimizer=choice:sgd,adam"], None),
    # clinic programs, unmodified: the trial sets their optimizer's lr/momentum, their DataLoader's batch_size
    "clinic cnn_sgd (lr-too-high)": (CLINIC / "faulty_learning-rate-too-high_cnn_sgd_no_batchnorm.py",
                                      ["lr=loguniform:1e-3:1", "batch_size=choice:16,32,64"], 160),
    "clinic resnet_lr_mlp (dead-relu)": (CLINIC / "faulty_dead-relu_resnet_lr_on_plain_mlp.py",
                                         ["lr=loguniform:1e-3:1", "momentum=uniform:0:0.95"], 160),
    "clinic raw_breast_cancer (unnormalized)": (CLINIC / "faulty_unnormalized-input_raw_breast_cancer_sgd.py",
                                                ["lr=loguniform:1e-6:1e-1", "momentum=choice:0.0,0.9"], 160),
    "clinic mlp_adam_digits (healthy)": (CLINIC / "healthy_mlp_adam_digits.py",
                                         ["lr=loguniform:1e-4:1", "batch_size=choice:16,32,64,128"], 160),
}


def _reused(rows: list[dict], name: str, seed: int, pruner: str):
    """The trials of an earlier run's row (``--reuse``), as the few attributes this script reads."""
    import optuna
    from types import SimpleNamespace

    for r in rows:
        if r["problem"] == name and r["seed"] == seed and r["pruner"] == pruner and r.get("trial_rows"):
            ts = [SimpleNamespace(number=t["n"], state=optuna.trial.TrialState[t["state"]], value=t["value"],
                                  params=c, user_attrs={"steps": t["steps"], "pruned_step": t["pruned_step"],
                                                        "diagnosed": t["errors"], "pruned_reason": t["pruned_reason"]})
                  for t, c in zip(r["trial_rows"], r["configs"])]
            return ts, r["seconds"]
    return None


def run_problem(name: str, trials: int, seeds: list[int], report_every: int, tmp: str, save=None,
                reuse: tuple[list[dict], tuple[str, ...]] = ([], ())) -> list[dict]:
    import optuna

    from nndoctor.tuning.study import tune

    script, space, max_steps = PROBLEMS[name]
    rows = []
    for seed in seeds:
        runs = {}
        for pruner in PRUNERS:
            if pruner in reuse[1]:
                old = _reused(reuse[0], name, seed, pruner)
                if old is None:
                    raise SystemExit(f"--reuse: no {pruner} row for {name} seed {seed}")
                runs[pruner] = old
                continue
            t0 = time.perf_counter()
            study = tune(str(script), [], space, n_trials=trials, sampler="random", pruner=pruner, seed=seed,
                         storage=f"sqlite:///{tmp}/{abs(hash(name))}-{seed}-{pruner}.db", study_name="bench",
                         report_every=report_every, max_steps=max_steps)
            runs[pruner] = (study.trials, time.perf_counter() - t0)
        configs = {p: [t.params for t in ts] for p, (ts, _) in runs.items()}
        assert all(c == configs["none"] for c in configs.values()), f"{name}: the pruners saw different trials"
        base = runs["none"][0]
        done = [t for t in base if t.state == optuna.trial.TrialState.COMPLETE]
        winner = min(done, key=lambda t: t.value).number if done else None
        for pruner, (ts, secs) in runs.items():
            ok = [t for t in ts if t.state == optuna.trial.TrialState.COMPLETE]
            pruned = [t for t in ts if t.state == optuna.trial.TrialState.PRUNED]
            best = min((t.value for t in ok), default=float("nan"))
            base_best = min((t.value for t in done), default=float("nan"))
            # the no-pruner run's rank (1 = best) of each pruned configuration; failed ones rank last
            order = sorted(base, key=lambda t: (t.value is None, t.value if t.value is not None else 0))
            rank = {t.number: i + 1 for i, t in enumerate(order)}
            rows.append({
                "problem": name, "seed": seed, "pruner": pruner, "trials": len(ts),
                "steps": sum(t.user_attrs.get("steps", 0) for t in ts),
                "pruned": len(pruned), "failed": sum(t.state == optuna.trial.TrialState.FAIL for t in ts),
                "pruned_by_doctor": sum(str(t.user_attrs.get("pruned_reason", "")).startswith("doctor") for t in ts),
                "best": best, "same_best": best == base_best or (best != best and base_best != base_best),
                "winner_pruned": sum(t.number == winner for t in pruned),
                "best_rank_pruned": min((rank[t.number] for t in pruned), default=None),
                "reasons": sorted({str(t.user_attrs.get("pruned_reason", "")).split(":")[1].strip()
                                   for t in pruned if str(t.user_attrs.get("pruned_reason", "")).startswith("doctor")}),
                "pruned_at": [(t.user_attrs.get("pruned_step"), base[t.number].user_attrs.get("steps"))
                              for t in pruned],
                "seconds": round(secs, 1), "configs": configs[pruner],
                **({"reused": True} if pruner in reuse[1] else {}),
                # per trial, for the "broken trials" table: its steps, state, value and the doctor's
                # error verdicts (diagnosed at the end, or the reason it was pruned)
                "trial_rows": [{"n": t.number, "state": t.state.name, "steps": t.user_attrs.get("steps", 0),
                                "value": t.value, "pruned_step": t.user_attrs.get("pruned_step"),
                                "errors": list(t.user_attrs.get("diagnosed", [])),
                                "pruned_reason": str(t.user_attrs.get("pruned_reason", ""))[:200]} for t in ts],
            })
            r = rows[-1]
            print(f"{name} seed {seed} {pruner}: steps {r['steps']}, pruned {r['pruned']} "
                  f"(doctor {r['pruned_by_doctor']}), failed {r['failed']}, best {best:.4g}, same best "
                  f"{r['same_best']}, winner pruned {r['winner_pruned']}, best rank pruned {r['best_rank_pruned']} "
                  f"[{secs:.0f}s] {r['reasons']}", flush=True)
        if save is not None:  # after each seed: a stopped run keeps what it finished
            save(rows)
    return rows


def table(rows: list[dict]) -> str:
    out = ["| problem | pruner | trial-steps (mean, range) | saved vs none | pruned (by doctor) | failed | "
           "best value | same best | winner pruned | best no-pruner rank among pruned |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    problems = list(dict.fromkeys(r["problem"] for r in rows))
    for prob in problems:
        seeds = sorted({r["seed"] for r in rows if r["problem"] == prob})
        base = {r["seed"]: r["steps"] for r in rows if r["problem"] == prob and r["pruner"] == "none"}
        for pruner in PRUNERS:
            rs = [r for r in rows if r["problem"] == prob and r["pruner"] == pruner]
            if not rs:
                continue
            steps = [r["steps"] for r in rs]
            saved = [1 - r["steps"] / base[r["seed"]] for r in rs if base.get(r["seed"])]
            sv = "–" if pruner == "none" else (f"{statistics.mean(saved):.0%} ({min(saved):.0%}–{max(saved):.0%})"
                                               if saved else "-")
            bests = [r["best"] for r in rs]
            ranks = [r["best_rank_pruned"] for r in rs if r["best_rank_pruned"] is not None]
            out.append(
                f"| {prob} ({len(seeds)}×{rs[0]['trials']}) | {pruner} | {statistics.mean(steps):.0f} "
                f"({min(steps)}–{max(steps)}) | {sv} | {sum(r['pruned'] for r in rs)} "
                f"({sum(r['pruned_by_doctor'] for r in rs)}) | {sum(r['failed'] for r in rs)} | "
                f"{statistics.mean(bests):.4g} | {sum(r['same_best'] for r in rs)}/{len(rs)} | "
                f"{sum(r['winner_pruned'] for r in rs)} | {min(ranks) if ranks else '–'} |")
    return "\n".join(out)


def broken_table(rows: list[dict]) -> str:
    """The same runs seen from the trials each pruner stopped. "Broken" trials: an ``error`` verdict at
    the end of their no-pruner run, no finite value there, or pruned by the doctor; the cells are the
    share of the no-pruner run's steps, on broken / on the other trials, that each pruner cut; the last
    column: (the doctor's pruning step, the trial's full length) x how often. Rows without per-trial
    detail (``trial_rows``, added to the rows on 2026-11-26 at 20:40) are left out."""
    from collections import Counter
    out = ["| problem | seeds | broken trials | their steps | median: cut broken / other | doctor | doctor+median "
           "| doctor pruned at (step, of) × n |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for prob in dict.fromkeys(r["problem"] for r in rows):
        by = {(r["seed"], r["pruner"]): r for r in rows if r["problem"] == prob and r.get("trial_rows")}
        seeds = sorted({s for s, p in by if all((s, q) in by for q in PRUNERS)})
        if not seeds:
            continue
        n_broken = n_trials = broken_steps = 0
        cut = {p: [0, 0, 0, 0] for p in PRUNERS[1:]}   # broken cut, broken total, other cut, other total
        at: Counter = Counter()
        for s in seeds:
            base = {t["n"]: t for t in by[(s, "none")]["trial_rows"]}
            doc = {t["n"]: t for t in by[(s, "doctor")]["trial_rows"]}
            broken = {n for n, t in base.items() if t["errors"] or t["state"] == "FAIL"}
            broken |= {n for n, t in doc.items() if t["pruned_reason"].startswith("doctor")}
            n_broken += len(broken)
            n_trials += len(base)
            broken_steps += sum(base[n]["steps"] for n in broken)
            for p in PRUNERS[1:]:
                mine = {t["n"]: t for t in by[(s, p)]["trial_rows"]}
                for n, t in base.items():
                    k = 0 if n in broken else 2
                    cut[p][k] += t["steps"] - mine[n]["steps"]
                    cut[p][k + 1] += t["steps"]
            at.update((t["pruned_step"], base[n]["steps"]) for n, t in doc.items()
                      if t["pruned_reason"].startswith("doctor"))

        def pct(c):
            return (f"{c[0] / c[1]:.0%}" if c[1] else "–") + " / " + (f"{c[2] / c[3]:.0%}" if c[3] else "–")
        out.append(f"| {prob} | {len(seeds)} | {n_broken}/{n_trials} | {broken_steps} | {pct(cut['median'])} | "
                   f"{pct(cut['doctor'])} | {pct(cut['doctor+median'])} | "
                   + (", ".join(f"({a}, {b}) × {k}" for (a, b), k in sorted(at.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or 0))) or "–") + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--report-every", type=int, default=20)
    ap.add_argument("--only", default=None, help="problems whose name contains this (comma-separated)")
    ap.add_argument("--json", default=None, help="write the rows here")
    ap.add_argument("--reuse", default=None, metavar="FILE",
                    help="take the rows of the pruners --reuse-pruners names (default none,median: they never "
                         "consult the doctor, so a change to the doctor pruner cannot change them) from this "
                         "earlier JSON instead of re-running them; the configurations are still checked")
    ap.add_argument("--reuse-pruners", default="none,median")
    ap.add_argument("--table", nargs="*", default=None, help="print the markdown tables of these JSON files")
    a = ap.parse_args(argv)
    if a.table is not None:
        rows = [r for f in a.table for r in json.loads(Path(f).read_text())]
        print(table(rows))
        print()
        print(broken_table(rows))
        return 0
    import sklearn.datasets  # noqa: F401  (imported once, before the trials fork)
    import torch  # noqa: F401

    seeds = [int(s) for s in a.seeds.split(",")]
    names = [n for n in PROBLEMS if not a.only or any(o in n for o in a.only.split(","))]
    reuse = (json.loads(Path(a.reuse).read_text()), tuple(a.reuse_pruners.split(","))) if a.reuse else ([], ())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        def save(new):
            if a.json:
                Path(a.json).write_text(json.dumps(rows + new, indent=1, default=str))

        for name in names:
            rows += run_problem(name, a.trials, seeds, a.report_every, tmp, save, reuse)
    print()
    print(table(rows))
    print()
    print(broken_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
