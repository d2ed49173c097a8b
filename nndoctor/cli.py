"""Command line: ``nndoctor run | checkup | tune | explain | list | demo | docs``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="nndoctor", description="Find out why a network's training fails.")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run an unmodified training script and diagnose it")
    r.add_argument("--json", metavar="PATH", help="write the JSON report here")
    r.add_argument("--max-steps", type=int, metavar="N", help="stop the script after N optimizer steps")
    r.add_argument("--every", type=int, default=20, metavar="K",
                   help="move statistics to the host every K steps (default 20)")
    r.add_argument("--quiet", action="store_true", help="do not print the report")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)

    c = sub.add_parser("checkup", help="pre-flight check-up: run a script to its first backward pass, then test "
                                       "data, loss, init, gradient flow, LR and batch size on copies")
    c.add_argument("--json", metavar="PATH", help="write the JSON report here")
    c.add_argument("--quiet", action="store_true", help="do not print the report")
    c.add_argument("--memory-limit", metavar="BYTES", help="memory cap for the batch-size finder (e.g. 2G)")
    c.add_argument("--no-lr-test", action="store_true", help="skip the LR range test")
    c.add_argument("--no-overfit", action="store_true", help="skip the one-batch overfit")
    c.add_argument("--no-batch-size", action="store_true", help="skip the batch-size finder")
    c.add_argument("script")
    c.add_argument("args", nargs=argparse.REMAINDER)

    t = sub.add_parser("tune", help="search hyperparameters (grid/random/TPE on Optuna), the doctor pruning broken "
                                    "trials")
    t.add_argument("--param", action="append", default=[], metavar="NAME=KIND:ARGS",
                   help="lr=loguniform:1e-5:1e-1 | x=uniform:0:1 | n=int:16:256[:log] | bs=choice:16,32,64")
    t.add_argument("--sampler", choices=("grid", "random", "tpe"), default="tpe")
    t.add_argument("--pruner", choices=("doctor", "median", "doctor+median", "none"), default="doctor")
    t.add_argument("--n-trials", type=int, default=None, help="default: 20 (grid: the whole grid)")
    t.add_argument("--grid-points", type=int, default=5, help="values per continuous parameter in a grid")
    t.add_argument("--storage", default="sqlite:///nndoctor-tune.db",
                   help="Optuna storage URL (default: a local SQLite file; postgresql://... to share a study)")
    t.add_argument("--study-name", default=None, help="default: the script's name")
    t.add_argument("--direction", choices=("minimize", "maximize"), default="minimize")
    t.add_argument("--max-steps", type=int, default=None, metavar="N", help="stop each trial after N optimizer steps")
    t.add_argument("--report-every", type=int, default=20, metavar="K",
                   help="steps per intermediate value (the mean training loss of the window)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--timeout", type=float, default=None, metavar="S", help="seconds per trial")
    t.add_argument("--show-output", action="store_true", help="let the trials print")
    t.add_argument("script")
    t.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments; {name} is replaced by the value")

    e = sub.add_parser("explain", help="what a diagnosis code means and how to fix it")
    e.add_argument("code")

    sub.add_parser("list", help="list the diagnosis codes")

    d = sub.add_parser("demo", help="train a broken net on sklearn's digits, diagnose it, train the fix")
    d.add_argument("--steps", type=int, default=300)

    g = sub.add_parser("docs", help="write the diagnosis reference (docs/diagnoses.md) from the registry")
    g.add_argument("--out", default="docs/diagnoses.md")

    a = p.parse_args(argv)
    if a.cmd == "run":
        from .runner import run_script

        code, _ = run_script(a.script, a.args, json_path=a.json, max_steps=a.max_steps, every=a.every,
                             quiet=a.quiet)
        return code
    if a.cmd == "checkup":
        from .preflight.capture import run_checkup_cli

        return run_checkup_cli(a.script, a.args, json_path=a.json, quiet=a.quiet, memory_limit=a.memory_limit,
                               lr_test=not a.no_lr_test, overfit=not a.no_overfit, batch_size=not a.no_batch_size)
    if a.cmd == "tune":
        from .tuning.study import summary, tune

        try:
            study = tune(a.script, a.args, a.param, n_trials=a.n_trials, sampler=a.sampler, pruner=a.pruner,
                         storage=a.storage, study_name=a.study_name, direction=a.direction, seed=a.seed,
                         max_steps=a.max_steps, report_every=a.report_every, grid_points=a.grid_points,
                         quiet=not a.show_output, timeout=a.timeout)
        except (ValueError, FileNotFoundError) as exc:
            print(f"nndoctor tune: {exc}", file=sys.stderr)
            return 2
        print(summary(study))
        return 0
    if a.cmd == "explain":
        from .api import explain

        try:
            print(explain(a.code))
        except KeyError as exc:
            print(exc.args[0], file=sys.stderr)
            return 2
        return 0
    if a.cmd == "list":
        from .diagnoses import REGISTRY

        for code, d in REGISTRY.items():
            print(f"{code:28} {d.family:10} {d.title}")
        return 0
    if a.cmd == "demo":
        from .demo import main as demo_main

        return demo_main(steps=a.steps)
    if a.cmd == "docs":
        from .docs import write_reference

        path = write_reference(a.out)
        print(f"wrote {path}")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
