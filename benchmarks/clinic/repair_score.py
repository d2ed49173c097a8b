#!/usr/bin/env python3
"""Score repair mode on the clinic: each faulty program run with ``nndoctor run --fix`` against its
healthy twin (the same program with the fault fixed as a user would fix it).

Twins live in ``twins/`` under the faulty program's file name. Both print their final metric on a
line of the form::

    NNDOCTOR_METRIC name=value higher      # or: lower (e.g. a test loss)

(a faulty program written before repair mode was scored, which prints no such line, has its metric
read by ``metric_of.py``: from its own output, or by evaluating the model in its globals at the end).

For each pair the scorer runs, one after the other (interleaved, one at a time, the same machine):
the faulty program with ``--fix`` (repair mode), its twin plainly, and the faulty program plainly
(what the fault costs without repair). Runs are forked from one process that has imported torch,
sklearn and nndoctor (so the interpreter's start-up is not timed), with one thread each. It reports:

* metric: the repaired run's final metric against the twin's. *Within 5%*: for a higher-is-better
  metric ``repaired >= twin - 0.05 * |twin|``; for a lower-is-better one ``repaired <= twin + 0.05 *
  |twin|`` (doing better than the twin is within). The slack is at least one unit of the last digit the
  metrics were printed with (a val_mse printed 0.0011 against 0.0010 is as close as the printing can tell);
* time: the repaired run's wall time / the twin's wall time (medians over ``--reps``); the scored
  ratio. Also their CPU times (user + system, from ``wait4``) and that ratio: the children run one
  thread each, so on an idle machine the two ratios agree, and under other load the CPU ratio is the
  steadier one (wall times then include waiting for a core);
* what repair mode did (each remedy and its outcome, from the JSON report);
* with ``--twin-seeds K``, the twin's seed-to-seed spread: the twin is also run K-1 more times with
  every seed the program sets shifted by 1..K-1 (``torch.manual_seed``, ``random.seed``,
  ``numpy.random.seed``, ``numpy.random.default_rng`` are wrapped in the child; a
  ``torch.Generator().manual_seed`` for the data order and sklearn's ``random_state`` are not). A
  single twin run is one draw: where the twin's own seeds differ by more than 5%, "within 5% of the
  twin" is partly chance, and the extra column says whether the repaired run lies inside the twin's
  range over its seeds (widened by the same 5%). The scored verdict stays the seed-0 comparison.
* with ``--fix-seeds K`` as well, the repaired run's own seed-to-seed spread: the faulty program is also
  run with ``--fix`` K-1 more times, its seeds shifted the same way (a different initialization and data
  draw, so a different run for repair mode to diagnose and repair). The extra columns compare the
  median of the repaired runs over their seeds with the median of the twin's: whether repair mode
  reaches the twin *as a distribution*, which a single pair of draws cannot say (a miss against a
  lucky twin seed, or a hit by a lucky repaired seed). Informational: the scored verdict stays the
  seed-0 comparison.

A faulty program is *repairable* when its expected code has a live plan (``nndoctor.repair.plan``);
the programs whose code is report-only are listed separately, and so are repairable programs that
have no twin yet (none is left out silently).

Usage::

    python benchmarks/clinic/repair_score.py [-k SUBSTR] [--reps N] [--json OUT] [--markdown]
                                             [--check-report-only] [--results JSON] [--twin-seeds K]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
TWINS = HERE / "twins"
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(HERE))

from metric_of import EVALUATORS, from_output  # noqa: E402
from score import parse_header, shift_seeds  # noqa: E402

METRIC_RE = re.compile(r"NNDOCTOR_METRIC\s+(\w+)=(\S+)\s+(higher|lower)")
TOLERANCE = 0.05
TIME_TARGET = 1.3
SHARE_TARGET = 0.95
TIMEOUT_S = 300.0


def parse_metric(text: str) -> dict | None:
    found = METRIC_RE.findall(text or "")
    if not found:
        return None
    name, value, sense = found[-1]
    try:
        v = float(value)
    except ValueError:
        return None
    return {"name": name, "value": v, "higher_is_better": sense == "higher", "resolution": resolution(value)}


def resolution(text: str) -> float:
    """One unit of the last digit a metric was printed with ("0.0010": 1e-4; "2.5e-05": 1e-6; "12": 1)."""
    mant, _, exp = text.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    try:
        return 10.0 ** (int(exp or 0) - decimals)
    except ValueError:
        return 0.0


def within(repaired: float, twin: float, higher: bool, tol: float = TOLERANCE, res: float = 0.0) -> bool:
    """Is ``repaired`` within ``tol`` of ``twin`` -- or within one unit of the last digit printed (``res``): a
    val_mse printed as 0.0011 against 0.0010 is as close as the printing can tell, though 10% apart."""
    if repaired != repaired:  # NaN
        return False
    slack = max(tol * abs(twin), res)
    return repaired >= twin - slack if higher else repaired <= twin + slack


# --------------------------------------------------------------------------- forked runs
def _child(kind: str, path: str, out: str, report: str) -> None:
    code, evaluate = 1, None
    try:
        kind, _, offset = kind.partition("+")
        if offset:
            shift_seeds(int(offset))
        f = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(f, 1)
        os.dup2(f, 2)
        os.close(f)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        os.chdir(os.path.dirname(path))
        sys.argv = [path]
        import runpy

        evaluate = EVALUATORS.get(os.path.basename(path)) if kind != "twin" else None
        if evaluate is not None:
            runpy.run_path = _run_path_keeping_globals   # the script's globals, for the evaluator
        if kind == "fix":
            from nndoctor.runner import run_script

            code, _ = run_script(path, [], json_path=report, quiet=True, fix=True)
        else:
            sys.path.insert(0, os.path.dirname(path))
            runpy.run_path(path, run_name="__main__")
            code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
    finally:
        try:
            if evaluate is not None and _KEPT:
                try:
                    name, value, sense = evaluate(_KEPT)
                    print(f"NNDOCTOR_METRIC {name}={value:.4f} {sense}", flush=True)
                except Exception as e:  # noqa: BLE001
                    print(f"metric evaluation failed: {type(e).__name__}: {e}", flush=True)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


_KEPT: dict = {}


def _run_path_keeping_globals(path, init_globals=None, run_name=None):
    """``runpy.run_path`` for a script file whose globals stay readable after it ends or raises."""
    import types

    mod = types.ModuleType(run_name or "<run_path>")
    mod.__file__ = path
    _KEPT.clear()
    _KEPT.update(init_globals or {})
    mod.__dict__.update(_KEPT)
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = mod
    try:
        exec(compile(Path(path).read_bytes(), path, "exec"), mod.__dict__)
    finally:
        _KEPT.clear()
        _KEPT.update(mod.__dict__)
        if saved is not None:
            sys.modules["__main__"] = saved
    return mod.__dict__


def _zygote(jobs_file: str, out_file: str) -> int:
    import signal

    import torch
    import torch._dynamo  # noqa: F401  (each program's first optimizer would import it: seconds per run)
    import sklearn.datasets  # noqa: F401
    import nndoctor.runner  # noqa: F401
    # what a --fix run imports lazily (the catalogue, repair mode, the report's writers): the twin's
    # libraries are imported here too, so neither side's timed run pays for imports (which under
    # PYTHONDONTWRITEBYTECODE are compiled from source again in every child)
    import nndoctor.diagnoses  # noqa: F401
    import nndoctor.messages  # noqa: F401
    import nndoctor.remedies  # noqa: F401
    import nndoctor.repair.engine  # noqa: F401
    import nndoctor.report.rundir  # noqa: F401
    import nndoctor.report.series  # noqa: F401

    torch.set_num_threads(1)
    jobs = json.loads(Path(jobs_file).read_text())
    results = []
    with tempfile.TemporaryDirectory(prefix="nndoctor-repair-") as tmp:
        for i, (kind, path) in enumerate(jobs):
            out, report = os.path.join(tmp, f"{i}.out"), os.path.join(tmp, f"{i}.json")
            t0 = time.perf_counter()
            pid = os.fork()
            if pid == 0:
                _child(kind, path, out, report)
            killed = False
            while True:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    break
                if time.perf_counter() - t0 > TIMEOUT_S and not killed:
                    os.kill(pid, signal.SIGKILL)
                    killed = True
                time.sleep(0.01)
            wall = time.perf_counter() - t0
            text = Path(out).read_text(errors="replace") if os.path.exists(out) else ""
            if not kind.startswith("twin") and not METRIC_RE.search(text):
                text += "\n" + (from_output(Path(path).name, text) or "")
            rep = json.loads(Path(report).read_text()) if os.path.exists(report) else None
            results.append({"kind": kind, "path": path, "wall_s": round(wall, 3), "killed": killed,
                            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                            "returncode": os.waitstatus_to_exitcode(status), "metric": parse_metric(text),
                            "tail": text[-1500:], "report": rep})
            print(f"[{i + 1}/{len(jobs)}] {kind:5} {Path(path).name}: {wall:.1f} s", file=sys.stderr, flush=True)
    Path(out_file).write_text(json.dumps(results))
    return 0


def run_jobs(jobs: list[tuple[str, str]]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="nndoctor-repair-z-") as tmp:
        jf, of = os.path.join(tmp, "jobs.json"), os.path.join(tmp, "out.json")
        Path(jf).write_text(json.dumps(jobs))
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--zygote", jf, of], env=env, check=True)
        return json.loads(Path(of).read_text())


# --------------------------------------------------------------------------- the score
def classify(pattern: str | None = None) -> dict:
    """Faulty programs split into: pairs (repairable, with a twin), repairable without a twin yet,
    and report-only (their code has no live repair)."""
    from nndoctor.findings import Finding
    from nndoctor.repair import REPORT_ONLY, plan

    pairs, no_twin, report_only = [], [], []
    for p in sorted(PROGRAMS.glob("faulty_*.py")):
        if pattern and not any(k in p.name for k in pattern.split(",")):
            continue
        codes = parse_header(p)["expect"]
        live = [c for c in codes if plan(Finding(code=c, severity="error", summary=""))]
        if not live:
            report_only.append({"program": p.name, "codes": codes,
                                "why": "; ".join(REPORT_ONLY.get(c, "no live plan") for c in codes)})
        elif (TWINS / p.name).exists():
            pairs.append({"program": p.name, "codes": codes})
        else:
            no_twin.append({"program": p.name, "codes": codes})
    return {"pairs": pairs, "no_twin": no_twin, "report_only": report_only}


def score(pattern: str | None = None, reps: int = 1, check_report_only: bool = False,
          twin_seeds: int = 1, fix_seeds: int = 1) -> dict:
    cls = classify(pattern)
    jobs: list[tuple[str, str]] = []
    # a pair's runs are adjacent in time, its twin's and its repaired run's seeds interleaved: the machine's
    # speed drifts over a run of the benchmark (minutes), and a ratio of two times measured minutes apart
    # would carry that drift
    for rep in range(reps):
        for pr in cls["pairs"]:
            fix, twin = str(PROGRAMS / pr["program"]), str(TWINS / pr["program"])
            jobs += [("fix", fix), ("twin", twin), ("plain", fix)]
            for k in range(1, max(twin_seeds, fix_seeds) if rep == 0 else 1):
                jobs += ([(f"twin+{k}", twin)] if k < twin_seeds else []) + \
                        ([(f"fix+{k}", fix)] if k < fix_seeds else [])
    if check_report_only:
        jobs += [("fix", str(PROGRAMS / r["program"])) for r in cls["report_only"]]
    results = run_jobs(jobs) if jobs else []
    by: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        kind = r["kind"].split("+")[0] + "+" if "+" in r["kind"] else r["kind"]
        by.setdefault((kind, Path(r["path"]).name), []).append(r)
    rows = []
    for pr in cls["pairs"]:
        name = pr["program"]
        fix, twin, plain = by.get(("fix", name), []), by.get(("twin", name), []), by.get(("plain", name), [])
        row = {"program": name, "codes": pr["codes"]}
        m_fix = [r["metric"] for r in fix if r["metric"]]
        m_twin = [r["metric"] for r in twin if r["metric"]]
        m_plain = [r["metric"] for r in plain if r["metric"]]
        row["fix_s"] = statistics.median(r["wall_s"] for r in fix) if fix else None
        row["twin_s"] = statistics.median(r["wall_s"] for r in twin) if twin else None
        row["time_ratio"] = round(row["fix_s"] / row["twin_s"], 3) if row["fix_s"] and row["twin_s"] else None
        # CPU time (user + system) of the one-thread child: what the run costs, nearly free of the
        # waiting that other load on the machine adds to wall times (a check on them; see the docstring)
        fc, tc = [r.get("cpu_s") for r in fix], [r.get("cpu_s") for r in twin]
        if fc and tc and None not in fc + tc and statistics.median(tc) > 0:
            row["cpu_ratio"] = round(statistics.median(fc) / statistics.median(tc), 3)
        if m_fix and m_twin:
            higher = m_twin[0]["higher_is_better"]
            row["metric"] = m_twin[0]["name"]
            row["higher_is_better"] = higher
            row["repaired"] = statistics.median(m["value"] for m in m_fix)
            row["twin"] = statistics.median(m["value"] for m in m_twin)
            row["unrepaired"] = statistics.median(m["value"] for m in m_plain) if m_plain else None
            # (the coarser of the two printings' last digits: a difference below it cannot be read)
            res = row["resolution"] = max(m.get("resolution", 0.0) for m in m_fix[:1] + m_twin[:1])
            row["within_5pct"] = within(row["repaired"], row["twin"], higher, res=res)
            seeds = [row["twin"]] + [m["value"] for r in by.get(("twin+", name), []) if (m := r["metric"])]
            if len(seeds) > 1:
                row["twin_seeds"] = seeds
                worst = min(seeds) if higher else max(seeds)
                row["within_twin_range"] = within(row["repaired"], worst, higher, res=res)
            fseeds = [row["repaired"]] + [m["value"] for r in by.get(("fix+", name), []) if (m := r["metric"])]
            if len(fseeds) > 1:
                row["fix_seeds"] = fseeds
                fin = [v for v in fseeds if v == v]
                # a NaN run counts as the worst value of the lot (median of the finite ones otherwise flatters)
                fin += [(-float("inf") if higher else float("inf"))] * (len(fseeds) - len(fin))
                row["fix_median"] = statistics.median(fin)
                row["twin_median"] = statistics.median(seeds)
                row["medians_within"] = within(row["fix_median"], row["twin_median"], higher, res=res)
        else:
            row["within_5pct"] = False
            row["error"] = "no NNDOCTOR_METRIC line: " + (fix[0]["tail"][-300:] if fix and not m_fix else
                                                          twin[0]["tail"][-300:] if twin else "not run")
        rep = fix[0]["report"] if fix else None
        row["repairs"] = [{"code": a.get("code"), "remedy": a.get("remedy"), "step": a.get("step"),
                           "outcome": a.get("outcome")} for a in ((rep or {}).get("repairs") or [])]
        row["internal_errors"] = (rep or {}).get("internal_errors", [])
        rows.append(row)
    checked = []
    if check_report_only:
        for r in cls["report_only"]:
            res = by.get(("fix", r["program"]), [])
            rep = res[0]["report"] if res else None
            outcomes = [(a.get("code"), a.get("outcome"), a.get("remedy")) for a in ((rep or {}).get("repairs") or [])]
            faked = [o for o in outcomes if o[0] in r["codes"] and o[1] not in ("report only", None)]
            checked.append({**r, "outcomes": outcomes, "faked": faked})
    n = len(rows)
    ok = sum(1 for r in rows if r["within_5pct"])
    ratios = [r["time_ratio"] for r in rows if r.get("time_ratio")]
    spread = [r for r in rows if "within_twin_range" in r]
    summary = {"pairs": n, "within_5pct": ok, "share_within": round(ok / n, 3) if n else None,
               "twin_seeds": twin_seeds,
               "within_twin_range": sum(1 for r in spread if r["within_twin_range"]) if spread else None,
               "fix_seeds": fix_seeds,
               "medians_within": sum(1 for r in rows if r.get("medians_within")) if any("fix_seeds" in r for r in rows)
               else None,
               "median_time_ratio": round(statistics.median(ratios), 3) if ratios else None,
               "median_cpu_ratio": round(statistics.median(c), 3)
               if (c := [r["cpu_ratio"] for r in rows if r.get("cpu_ratio")]) else None,
               "targets": {"share_within": SHARE_TARGET, "median_time_ratio": TIME_TARGET}}
    return {"summary": summary, "rows": rows, "no_twin": cls["no_twin"], "report_only": cls["report_only"],
            "report_only_checked": checked}


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def markdown(res: dict) -> str:
    s = res["summary"]
    seeds = any("twin_seeds" in r for r in res["rows"])
    fseeds = any("fix_seeds" in r for r in res["rows"])
    out = ["| program | metric | unrepaired | repaired | twin | within 5% | time ratio | CPU ratio | what repair did |"
           + (" twin over seeds (min–max) | inside it (±5%) |" if seeds else "")
           + (" repaired over seeds (min–median–max) | twin's median | medians within 5% |" if fseeds else ""),
           "|---|---|---:|---:|---:|:-:|---:|---:|---|" + ("---:|:-:|" if seeds else "") + ("---:|---:|:-:|" if fseeds else "")]
    for r in res["rows"]:
        did = "; ".join(f"{a['remedy'] or a['code']} → {a['outcome']}" for a in r["repairs"]) or "nothing"
        name = r["program"].removeprefix("faulty_").removesuffix(".py")
        metric = f"{r.get('metric', '?')} ({'↑' if r.get('higher_is_better', True) else '↓'})"
        out.append(f"| `{name}` | {metric} | {_fmt(r.get('unrepaired'))} | {_fmt(r.get('repaired'))} | "
                   f"{_fmt(r.get('twin'))} | {'yes' if r['within_5pct'] else '**no**'} | "
                   f"{_fmt(r.get('time_ratio'))}x | {_fmt(r.get('cpu_ratio'))}x | {did} |"
                   + ((f" {_fmt(min(r['twin_seeds']))}–{_fmt(max(r['twin_seeds']))} | "
                       f"{'yes' if r['within_twin_range'] else 'no'} |" if "twin_seeds" in r else " — | — |")
                      if seeds else "")
                   + ((f" {_fmt(min(r['fix_seeds']))}–{_fmt(r['fix_median'])}–{_fmt(max(r['fix_seeds']))} | "
                       f"{_fmt(r['twin_median'])} | {'yes' if r['medians_within'] else '**no**'} |"
                       if "fix_seeds" in r else " — | — | — |") if fseeds else ""))
    out.append("")
    out.append(f"**{s['within_5pct']} of {s['pairs']} repairable programs end within 5% of their twin's metric "
               f"({(s['share_within'] or 0):.1%}; target ≥ {SHARE_TARGET:.0%}); median time ratio "
               f"{_fmt(s['median_time_ratio'])}x (target ≤ {TIME_TARGET}x).** Median CPU-time ratio "
               f"{_fmt(s.get('median_cpu_ratio'))}x.")
    if s.get("within_twin_range") is not None:
        out.append(f"Against the twin's range over {s['twin_seeds']} seeds (widened by 5%): "
                   f"{s['within_twin_range']} of {sum(1 for r in res['rows'] if 'within_twin_range' in r)}.")
    if s.get("medians_within") is not None:
        out.append(f"Repaired runs over {s['fix_seeds']} seeds against the twin over its seeds, median against "
                   f"median within 5%: {s['medians_within']} of {sum(1 for r in res['rows'] if 'fix_seeds' in r)}.")
    if res["no_twin"]:
        out.append("")
        out.append(f"Repairable, no twin yet ({len(res['no_twin'])}): " +
                   ", ".join(f"`{r['program'].removeprefix('faulty_').removesuffix('.py')}`" for r in res["no_twin"]))
    if res["report_only"]:
        codes = sorted({c for r in res["report_only"] for c in r["codes"]})
        out.append("")
        out.append(f"Report-only ({len(res['report_only'])} programs; codes {', '.join(f'`{c}`' for c in codes)}): "
                   "the fix is a code change, which repair mode reports and does not fake.")
    if res["report_only_checked"]:
        faked = [r for r in res["report_only_checked"] if r["faked"]]
        out.append(f"Checked with `--fix`: {len(res['report_only_checked'])} report-only programs, "
                   f"{len(faked)} with a live action on their expected code.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--zygote"]:
        return _zygote(argv[1], argv[2])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", dest="pattern", help="only the programs whose name contains SUBSTR (several: a,b,c)")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--twin-seeds", type=int, default=1, metavar="K",
                    help="also run each twin with its seeds shifted by 1..K-1 (the twin's own spread)")
    ap.add_argument("--fix-seeds", type=int, default=1, metavar="K",
                    help="also run each faulty program with --fix with its seeds shifted by 1..K-1 (the "
                         "repaired run's own spread; compared median to median with the twin's seeds)")
    ap.add_argument("--json")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--results", metavar="JSON", help="re-print the results saved by an earlier --json run")
    ap.add_argument("--check-report-only", action="store_true",
                    help="also run the report-only programs with --fix and check nothing is faked")
    ap.add_argument("--dir", default=None, metavar="DIR",
                    help="score the pairs of another folder (DIR/programs/faulty_*.py, DIR/twins/<same name>): "
                         "a held-out set")
    a = ap.parse_args(argv)
    if a.dir:
        global PROGRAMS, TWINS
        PROGRAMS, TWINS = Path(a.dir).resolve() / "programs", Path(a.dir).resolve() / "twins"
    res = json.loads(Path(a.results).read_text()) if a.results else score(a.pattern, a.reps, a.check_report_only,
                                                                                  a.twin_seeds, a.fix_seeds)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    if a.markdown:
        print(markdown(res))
    else:
        for r in res["rows"]:
            did = "; ".join(f"{x['remedy'] or x['code']}->{x['outcome']}" for x in r["repairs"]) or "nothing"
            print(f"{r['program']:62} {r.get('metric', '?'):>9} unrep {_fmt(r.get('unrepaired')):>7} "
                  f"fix {_fmt(r.get('repaired')):>7} twin {_fmt(r.get('twin')):>7} "
                  f"{'OK ' if r['within_5pct'] else 'MISS'} t {_fmt(r.get('time_ratio'))}x  {did}"
                  + (f"  ERROR {r['error'][:120]}" if r.get("error") else "")
                  + (f"  INTERNAL {r['internal_errors'][:1]}" if r.get("internal_errors") else ""))
        print(json.dumps(res["summary"]))
        if res["no_twin"]:
            print("repairable without a twin:", ", ".join(r["program"] for r in res["no_twin"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
