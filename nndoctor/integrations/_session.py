"""What the framework callbacks share: start a doctor on the framework's model and optimizers,
send each finding to the framework's logger as it is established, and at the end close the
doctor, merge the ranks' reports (rank 0 gets one report for the job) and print it."""
from __future__ import annotations

import logging
import sys
from typing import Callable

from ..doctor import Doctor
from ..findings import Finding, Report
from . import distributed


class Session:
    def __init__(self, *, every: int = 20, verbose: bool = True, logger: logging.Logger,
                 on_finding: Callable[[Finding], None] | None = None, json_path: str | None = None,
                 merge_ranks: bool = True) -> None:
        self.every = every
        self.verbose = verbose
        self.logger = logger
        self.user_on_finding = on_finding
        self.json_path = json_path
        self.merge_ranks = merge_ranks
        self.doctor: Doctor | None = None
        self.report: Report | None = None
        self.sinks: list[Callable[[Finding], None]] = []   # the framework's own loggers
        self._exchange: distributed.Exchange | None = None

    @property
    def active(self) -> bool:
        return self.doctor is not None

    def start(self, models, optimizers) -> Doctor | None:
        if self.doctor is not None:
            return self.doctor
        self.report = None
        self.doctor = Doctor(models, optimizers, every=self.every, on_finding=self._on_finding)
        self.doctor.start()
        if self.merge_ranks:
            self._exchange = distributed.Exchange.attach(self.doctor)
        return self.doctor

    def _on_finding(self, f: Finding) -> None:
        if f.severity in ("warning", "error"):
            self.logger.warning("nndoctor: %s [%s] %s", f.code, f.severity, f.summary)
        else:
            self.logger.info("nndoctor: %s [%s] %s", f.code, f.severity, f.summary)
        for sink in self.sinks:
            try:
                sink(f)
            except Exception as exc:  # a logger that fails must not stop training
                if self.doctor is not None:
                    self.doctor._internal_error("framework logger", exc)
        if self.user_on_finding is not None:
            self.user_on_finding(f)

    def close(self, exc: BaseException | None = None) -> Report | None:
        """Close the doctor; returns the report this process should show (None on ranks > 0 of a
        merged multi-process job)."""
        doctor, self.doctor = self.doctor, None
        if doctor is None:
            return self.report
        report = doctor.close(exc)
        ex, self._exchange = self._exchange, None
        if ex is not None:
            report = ex.merge(report, doctor)
        self.report = report
        if report is None:
            return None
        if self.json_path:
            from pathlib import Path
            Path(self.json_path).write_text(report.to_json())
        if self.verbose:
            sys.stdout.flush()
            report.render()
        return report

    def summary_metrics(self, report: Report | None) -> dict[str, float]:
        """Counts a metrics logger can plot: findings by severity."""
        if report is None:
            return {}
        out = {"nndoctor/errors": 0.0, "nndoctor/warnings": 0.0, "nndoctor/findings": float(len(report.findings))}
        for f in report.findings:
            if f.severity == "error":
                out["nndoctor/errors"] += 1
            elif f.severity == "warning":
                out["nndoctor/warnings"] += 1
        return out


def markdown(report: Report) -> str:
    """A short text form of a report for loggers that take text (TensorBoard's add_text...)."""
    if not report.findings:
        return f"nndoctor: no problem found ({report.steps} steps)"
    lines = [f"nndoctor: {len(report.findings)} finding(s) after {report.steps} steps", ""]
    for f in report.findings:
        lines.append(f"- **{f.code}** ({f.severity}, step {f.step}): {f.summary}")
        if f.remedies:
            lines.append(f"  - fix: {f.remedies[0].title}")
    return "\n".join(lines)




class SessionHandle:
    """What a framework callback shows the user: the running doctor, the report, ``close()`` and
    ``with`` (close after a run that raised where the framework has no hook for it)."""

    _session: Session

    @property
    def doctor(self) -> Doctor | None:
        """The running :class:`nndoctor.doctor.Doctor` (None outside training)."""
        return self._session.doctor

    @property
    def report(self) -> Report | None:
        """The report so far, or of the last run (rank 0's merged report in a multi-process job)."""
        if self._session.doctor is not None:
            return self._session.doctor.report()
        return self._session.report

    def close(self, exc: BaseException | None = None) -> Report | None:
        """Close the doctor (the callbacks do it when training ends)."""
        return self._session.close(exc)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.close(exc if isinstance(exc, BaseException) else None)
        return False
