"""`nndoctor checkup` on the clinic's programs: wall and CPU time per program (the whole command: the script
up to its first backward passes, then the check-up), the machine's load average when it started, the
codes found, and false alarms (a warning or error on a healthy program).

    python benchmarks/checkup/clinic.py [--healthy] [--one-per-code] [--markdown] [PROGRAM ...]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "benchmarks" / "clinic" / "programs"


def run(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        js = Path(tmp) / "r.json"
        load = os.getloadavg()[0]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "nndoctor", "checkup", "--quiet", "--json", str(js), str(path)],
                           capture_output=True, text=True, timeout=600, cwd=path.parent,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        d = json.loads(js.read_text()) if js.exists() else {}
    fs = d.get("findings", [])
    t = d.get("checkup", {}).get("timings_s", {})
    return {"program": path.name, "rc": p.returncode, "wall_s": round(wall, 1),
            "cpu_s": round(ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime, 1), "load": round(load, 2),
            "checkup_s": t.get("total"), "script_s": t.get("script_until_first_backward"),
            "parts_s": {k: v for k, v in t.items() if k not in ("total", "script_until_first_backward")},
            "problems": sorted({f["code"] + ":" + f["severity"] for f in fs if f["severity"] in ("error", "warning")}),
            "internal_errors": d.get("internal_errors", []), "notes": d.get("notes", []),
            "stderr": p.stderr[-500:] if not d else ""}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--healthy", action="store_true")
    ap.add_argument("--one-per-code", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("programs", nargs="*")
    a = ap.parse_args(argv)
    # a path, or a clinic program's name (with or without .py)
    paths = [Path(p).resolve() if Path(p).exists() else PROGRAMS / (p if p.endswith(".py") else p + ".py")
             for p in a.programs]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"no such program: {', '.join(missing)}", file=sys.stderr)
        return 2
    if a.healthy:
        paths += sorted(PROGRAMS.glob("healthy_*.py"))
    if a.one_per_code:
        seen = set()
        for p in sorted(PROGRAMS.glob("faulty_*.py")):
            code = p.name.split("_")[1]
            if code not in seen:
                seen.add(code)
                paths.append(p)
    rows = []
    for p in paths:
        r = run(p)
        rows.append(r)
        print(json.dumps(r), flush=True)
    healthy = [r for r in rows if r["program"].startswith("healthy")]
    fa = [r for r in healthy if r["problems"]]
    failed = [r["program"] for r in rows if r["checkup_s"] is None]
    if failed:
        print(f"the check-up did not run on: {', '.join(failed)}", file=sys.stderr)
    walls = sorted(r["wall_s"] for r in rows)
    print(f"programs {len(rows)}; healthy {len(healthy)} with a warning/error: {len(fa)}; "
          f"wall time median {walls[len(walls) // 2] if walls else 0}s, max {walls[-1] if walls else 0}s; "
          f"over 30 s: {sum(w > 30 for w in walls)}")
    if a.markdown:
        print("\n| program | load at start | wall s | CPU s | check-up s | script part s | found (warning/error) |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for r in rows:
            print(f"| {r['program'].removesuffix('.py')} | {r['load']} | {r['wall_s']} | {r['cpu_s']} | {r['checkup_s']} | "
                  f"{r['script_s']} | {', '.join('`' + c + '`' for c in r['problems']) or '–'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
