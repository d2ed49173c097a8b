"""``nndoctor run``: run an unmodified training script as __main__ and watch what it trains.

The script's own stdout, exit code and exceptions are unchanged; nndoctor's report goes to
stderr (and to --json). Under ``torchrun`` each rank watches itself and rank 0 shows one report
for the job (see ``integrations/distributed.py``). Models and optimizers are discovered at the first backward pass (every
module tree with trainable parameters and every optimizer alive then) and when an optimizer that
nndoctor has not seen steps.
"""
from __future__ import annotations

import gc
import os
import runpy
import sys
import time
import traceback
from pathlib import Path

from .doctor import Doctor, _StopTraining
from .findings import Report
from .integrations import distributed


STOPPED_ON_FINDING = 3
_LEVEL = {"info": 0, "warning": 1, "error": 2}


def parse_stop_on(spec: str | list[str] | None) -> tuple[set[str], int | None]:
    """``"error"`` / ``"warning"`` / ``"code1,code2"`` (or a list) -> (codes, lowest severity level)."""
    from .diagnoses import REGISTRY

    if not spec:
        return set(), None
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec) if n.strip()]
    codes, level = set(), None
    for n in names:
        if n in ("error", "warning"):
            level = _LEVEL[n] if level is None else min(level, _LEVEL[n])
        elif n in REGISTRY:
            codes.add(n)
        else:
            raise ValueError(f"--stop-on: {n!r} is neither a severity (error, warning) nor a diagnosis code "
                             f"(`nndoctor list`)")
    return codes, level


def _freeze_heap() -> bool:
    """Move every object alive before the script runs (torch's, nndoctor's, the imports') out of the
    cyclic collector's generations, so finding what the script builds (``probes.model.discover``: every
    module and optimizer alive; the names the script gives them: ``gc.get_referrers``) walks only the
    objects the script created, not the few hundred thousand torch's import leaves: ~0.1 s at the first
    backward pass of every run (more in a forked process, where touching them copies their pages).
    ``gc.unfreeze()`` after the script restores the generations; nothing is frozen when something else
    (a pre-fork server) already did, so that freeze is left as it was. The script's own objects are
    collected as usual. (A script that calls ``gc.freeze()`` itself before its first backward pass hides
    its model from discovery; then nndoctor finds no model and says so.)"""
    if not gc.isenabled() or gc.get_freeze_count():
        return False
    gc.freeze()
    return True


def run_script(script: str, args: list[str], *, json_path: str | None = None, max_steps: int | None = None,
               every: int = 20, quiet: bool = False, html_path: str | None = None, run_dir: str | None = None,
               live: bool = False, lang: str | None = None, tensorboard: str | None = None,
               fix: bool = False, stop_on: str | list[str] | None = None) -> tuple[int, Report]:
    """Run ``script`` as ``__main__`` under a Doctor; return (exit code, report).

    ``stop_on`` (``--stop-on``): end the script as soon as a finding is established whose code is
    listed, or whose severity is at least a listed severity (``error``, ``warning``) — a doomed run
    stops early and the exit code is :data:`STOPPED_ON_FINDING`. Unknown names raise ValueError.
    """
    stop_codes, stop_level = parse_stop_on(stop_on)
    path = Path(script)
    if not path.exists():
        print(f"nndoctor run: no such script: {script}", file=sys.stderr)
        return 2, Report()
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    saved_cwd = os.getcwd()   # the script may chdir: nndoctor's own outputs (--json...) stay where asked
    sys.argv = [str(path)] + list(args)
    sys.path.insert(0, str(path.resolve().parent))
    doctor = Doctor(discover_models=True, every=every, repair=fix)
    doctor.lang = lang
    from .report.rundir import versions

    doctor.run_meta.update(script=str(path), argv=list(args), cwd=str(Path.cwd()), **versions())
    if live:
        from .report.live import LiveView

        LiveView(lang=lang).attach(doctor)
    if max_steps is not None:
        def stop(step: int) -> None:
            if step >= max_steps:
                raise _StopTraining()
        doctor.add_step_callback(stop)
    stopped_on: list = []
    if stop_codes or stop_level is not None:
        def stop_on_finding(step: int) -> None:  # established findings only: no extra evaluation
            hit = [f for f in list(doctor._findings.values()) if f.severity != "info" and (
                f.code in stop_codes or (stop_level is not None and _LEVEL[f.severity] >= stop_level))]
            if hit:
                stopped_on.extend(hit)
                raise _StopTraining()
        doctor.add_step_callback(stop_on_finding)
    code, exc = 0, None
    doctor.start()
    exchange = None
    if distributed.rank_world()[1] > 1:  # torchrun: one report for the job, from rank 0
        exchange = distributed.Exchange.attach(doctor)
    frozen = _freeze_heap()   # undone in the finally below
    try:
        # __file__ absolute, as ``python script.py`` sets it (3.9+): a script that chdirs and then reads
        # files next to itself through __file__ works the same under nndoctor
        runpy.run_path(str(path.resolve()), run_name="__main__")
    except _StopTraining:
        if stopped_on:
            f = stopped_on[0]
            doctor.notes.append(f"stopped the script at step {doctor.step} on `{f.code}` ({f.severity}) (--stop-on)")
            code = STOPPED_ON_FINDING
        else:
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
        try:
            os.chdir(saved_cwd)
        except OSError:  # the folder was removed by the script: outputs go where the script left us
            pass
        if frozen:
            gc.unfreeze()
        report = doctor.close(exc)
    if exchange is not None:
        merged = exchange.merge(report, doctor)
        if merged is None:  # a rank > 0: its report went to rank 0
            return code, report
        if merged is not report:  # the plots and run facts are rank 0's
            merged.signals, merged.meta, merged.lang = report.signals, report.meta, report.lang
        report = merged
    report.meta.update(exit_code=code, wall_s=round(time.time() - report.meta.get("started", time.time()), 3))
    if not quiet:
        sys.stdout.flush()
        report.render(lang=lang)
    if json_path:
        Path(json_path).write_text(report.to_json())
    write_outputs(report, html_path=html_path, run_dir=run_dir, lang=lang, tensorboard=tensorboard, quiet=quiet)
    if exc is not None and not quiet:
        print(f"nndoctor: the script raised {type(exc).__name__}; exit code {code}", file=sys.stderr)
    return code, report



def write_outputs(report: Report, *, html_path: str | None = None, run_dir: str | None = None,
                  lang: str | None = None, tensorboard: str | None = None, quiet: bool = False) -> None:
    """The files a user asked for: an HTML page, a run folder, TensorBoard events."""
    if run_dir:
        from .report.rundir import save_run

        save_run(run_dir, report)
        if not quiet:
            print(f"nndoctor: run kept in {run_dir} (`nndoctor report {run_dir}`)", file=sys.stderr)
    if html_path:
        report.save_html(html_path, lang=lang)
        if not quiet:
            print(f"nndoctor: HTML report written to {html_path}", file=sys.stderr)
    if tensorboard:
        from .report.tensorboard import write_tensorboard

        write_tensorboard(report, tensorboard)
        if not quiet:
            print(f"nndoctor: TensorBoard events written to {tensorboard}", file=sys.stderr)
