"""Command line: ``nndoctor run | explain | list | demo | docs``."""
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
    r.add_argument("--fix", action="store_true",
                   help="repair mode: apply live remedies as findings appear, roll back what hurts")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)

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
                             quiet=a.quiet, fix=a.fix)
        return code
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
