"""Command line: ``nndoctor run | checkup | tune | report | compare | explain | list | demo | docs``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="nndoctor", description="Find out why a network's training fails.")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run an unmodified training script and diagnose it")
    r.add_argument("--json", metavar="PATH", help="write the JSON report here")
    r.add_argument("--max-steps", type=int, metavar="N", help="stop the script after N optimizer steps")
    r.add_argument("--stop-on", metavar="WHAT",
                   help="stop the script as soon as a finding is established: 'error', 'warning' (or worse), "
                        "or comma-separated codes; exit code 3")
    r.add_argument("--every", type=int, default=20, metavar="K",
                   help="move statistics to the host every K steps (default 20)")
    r.add_argument("--quiet", action="store_true", help="do not print the report")
    r.add_argument("--html", metavar="PATH", help="write a self-contained HTML report (findings and plots) here")
    r.add_argument("--run-dir", metavar="DIR", help="keep the run (report, signals, meta) in DIR for "
                   "`nndoctor report` / `nndoctor compare`")
    r.add_argument("--tensorboard", metavar="LOGDIR", help="write the signals and findings as TensorBoard events")
    r.add_argument("--live", action="store_true", help="show a live view (step, loss, lr, findings) on stderr")
    _lang_arg(r)
    r.add_argument("--fix", action="store_true",
                   help="repair mode: apply live remedies as findings appear, roll back what hurts")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)

    rp = sub.add_parser("report", help="re-render a run kept with --run-dir")
    rp.add_argument("run_dir")
    rp.add_argument("--html", metavar="PATH", help="write the HTML report here")
    rp.add_argument("--json", metavar="PATH", help="write the JSON report here")
    rp.add_argument("--tensorboard", metavar="LOGDIR", help="write TensorBoard events here")
    rp.add_argument("--quiet", action="store_true", help="do not print the report")
    _lang_arg(rp)

    c = sub.add_parser("compare", help="compare two runs kept with --run-dir")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--html", metavar="PATH", help="also write an HTML page with both loss curves")
    _lang_arg(c)

    ck = sub.add_parser("checkup", help="pre-flight check-up: run a script to its first backward pass, then test "
                                       "data, loss, init, gradient flow, LR and batch size on copies")
    ck.add_argument("--json", metavar="PATH", help="write the JSON report here")
    ck.add_argument("--quiet", action="store_true", help="do not print the report")
    ck.add_argument("--memory-limit", metavar="BYTES", help="memory cap for the batch-size finder (e.g. 2G)")
    ck.add_argument("--no-lr-test", action="store_true", help="skip the LR range test")
    ck.add_argument("--no-overfit", action="store_true", help="skip the one-batch overfit")
    ck.add_argument("--no-batch-size", action="store_true", help="skip the batch-size finder")
    ck.add_argument("script")
    ck.add_argument("args", nargs=argparse.REMAINDER)

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
    t.add_argument("--judge-every", type=int, default=10, metavar="J",
                   help="the trial's doctor judges every J steps (a fixed cadence: it prunes at the first "
                        "established error)")
    t.add_argument("--no-inject", action="store_true",
                   help="do not hand --param values to the script's optimizer (lr, momentum, ...) and "
                        "DataLoader (batch_size); only nndoctor.param and {name} templates")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--timeout", type=float, default=None, metavar="S", help="seconds per trial")
    t.add_argument("--show-output", action="store_true", help="let the trials print")
    t.add_argument("script")
    t.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments; {name} is replaced by the value")

    e = sub.add_parser("explain", help="what a diagnosis code means and how to fix it")
    e.add_argument("code")
    _lang_arg(e)

    sub.add_parser("list", help="list the diagnosis codes")

    d = sub.add_parser("demo", help="train a broken net on sklearn's digits, diagnose it, train the fix")
    d.add_argument("--steps", type=int, default=300)

    g = sub.add_parser("docs", help="write the diagnosis reference (docs/diagnoses.md) from the registry")
    g.add_argument("--out", default="docs/diagnoses.md")

    a = p.parse_args(argv)
    lang = getattr(a, "lang", None)
    if a.cmd == "run":
        from .runner import parse_stop_on, run_script

        try:
            parse_stop_on(a.stop_on)
        except ValueError as e:
            print(f"nndoctor run: {e}", file=sys.stderr)
            return 2

        code, _ = run_script(a.script, a.args, json_path=a.json, max_steps=a.max_steps, every=a.every,
                             quiet=a.quiet, html_path=a.html, run_dir=a.run_dir, live=a.live, lang=lang,
                             tensorboard=a.tensorboard, fix=a.fix, stop_on=a.stop_on)
        return code
    if a.cmd == "report":
        from .report.rundir import load_run
        from .runner import write_outputs

        try:
            report = load_run(a.run_dir)
        except (FileNotFoundError, ValueError) as exc:
            print(f"nndoctor report: {exc}", file=sys.stderr)
            return 2
        if not a.quiet:
            report.render(lang=lang)
        if a.json:
            from pathlib import Path

            Path(a.json).write_text(report.to_json())
        write_outputs(report, html_path=a.html, lang=lang, tensorboard=a.tensorboard, quiet=a.quiet)
        return 0
    if a.cmd == "compare":
        return _compare(a.a, a.b, a.html, lang)
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
                         quiet=not a.show_output, timeout=a.timeout, judge_every=a.judge_every,
                         inject=not a.no_inject)
        except (ValueError, FileNotFoundError) as exc:
            print(f"nndoctor tune: {exc}", file=sys.stderr)
            return 2
        print(summary(study))
        return 0
    if a.cmd == "explain":
        from .api import explain

        try:
            print(explain(a.code, lang=lang))
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


def _lang_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="language of the report: en or zh (default: $NNDOCTOR_LANG, else en)")


def _compare(dir_a: str, dir_b: str, html: str | None, lang: str | None) -> int:
    from pathlib import Path

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .i18n import t
    from .report.rundir import compare_rows, load_run

    try:
        a, b = load_run(dir_a), load_run(dir_b)
    except (FileNotFoundError, ValueError) as exc:
        print(f"nndoctor compare: {exc}", file=sys.stderr)
        return 2
    rows = compare_rows(a, b, lang)
    names = (Path(dir_a).name or dir_a, Path(dir_b).name or dir_b)
    if names[0] == names[1]:
        names = (dir_a, dir_b)
    tab = Table(title=t("compare_title", lang))
    tab.add_column("")
    tab.add_column("A: " + names[0])
    tab.add_column("B: " + names[1])
    tab.add_column("")
    style = {"appeared": "bold red", "cleared": "bold green", "persisting": "yellow"}
    for r in rows:
        status = r.get("status")
        tab.add_row(escape(str(r["label"])), escape(str(r["a"])), escape(str(r["b"])),
                    f"[{style[status]}]{escape(r['status_text'])}[/]" if status else "")
    Console(width=120).print(tab)
    if html:
        from .report.html import render_compare_page

        Path(html).write_text(render_compare_page(a, b, rows, names, lang=lang), encoding="utf-8")
        print(f"nndoctor: comparison written to {html}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
