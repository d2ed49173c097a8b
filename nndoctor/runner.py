"""``nndoctor run``: run an unmodified training script as __main__ and watch what it trains.

The script's own stdout, exit code and exceptions are unchanged; nndoctor's report goes to
stderr (and to --json). Models and optimizers are discovered at the first backward pass (every
module tree with trainable parameters and every optimizer alive then) and when an optimizer that
nndoctor has not seen steps.
"""
from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path

from .doctor import Doctor, _StopTraining
from .findings import Report


def run_script(script: str, args: list[str], *, json_path: str | None = None, max_steps: int | None = None,
               every: int = 20, quiet: bool = False, fix: bool = False) -> tuple[int, Report]:
    path = Path(script)
    if not path.exists():
        print(f"nndoctor run: no such script: {script}", file=sys.stderr)
        return 2, Report()
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(path)] + list(args)
    sys.path.insert(0, str(path.resolve().parent))
    doctor = Doctor(discover_models=True, every=every, repair=fix)
    if max_steps is not None:
        def stop(step: int) -> None:
            if step >= max_steps:
                raise _StopTraining()
        doctor.add_step_callback(stop)
    code, exc = 0, None
    doctor.start()
    try:
        runpy.run_path(str(path), run_name="__main__")
    except _StopTraining:
        doctor.notes.append(f"stopped the script after {max_steps} optimizer steps (--max-steps)")
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt as e:
        exc, code = e, 130
        traceback.print_exc()
    except BaseException as e:  # the script crashed: show it as Python would, still report
        exc, code = e, 1
        traceback.print_exc()
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        report = doctor.close(exc)
    if not quiet:
        sys.stdout.flush()
        report.render()
    if json_path:
        Path(json_path).write_text(report.to_json())
    if exc is not None and not quiet:
        print(f"nndoctor: the script raised {type(exc).__name__}; exit code {code}", file=sys.stderr)
    return code, report

