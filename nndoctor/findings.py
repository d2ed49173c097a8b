"""What nndoctor tells a user: findings, their remedies, and the report that holds them.

Plain data, no torch: everything here can be serialised, compared and rendered.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
SCHEMA = "nndoctor.report/1"


@dataclass
class Remedy:
    """One ranked way to fix a finding: a title and a copy-pasteable PyTorch snippet."""

    id: str
    title: str
    snippet: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "snippet": self.snippet}


@dataclass
class Finding:
    """A diagnosis established on a run.

    ``step`` is the training step (optimizer step; backward pass when no optimizer step was ever
    seen) at which the finding was first established. ``where`` names modules/parameters.
    ``evidence`` holds the numbers a user can check; ``remedies`` are ranked, best first.
    """

    code: str
    severity: str
    summary: str
    step: int | None = None
    where: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    remedies: list[Remedy] = field(default_factory=list)
    detail: str = ""  # a longer explanation, optional
    key: str | None = field(default=None, compare=False, repr=False)  # identity across re-evaluations
    # the summary as a message (nndoctor.messages): an id and plain parameters, so a report shows it in
    # the user's language; ``summary`` is the English rendering and stays the contract
    message: str | None = field(default=None, compare=False, repr=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITY_RANK:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def summary_in(self, lang: str | None = None) -> str:
        """The summary in ``lang`` (``en``/``zh``; None: $NNDOCTOR_LANG); English where no translation fits."""
        from .i18n import get_lang
        from .messages import summary_in

        return summary_in(self, get_lang(lang))

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self.severity]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "step": self.step,
            "where": list(self.where),
            "summary": self.summary,
            "evidence": _jsonable(self.evidence),
            "remedies": [r.to_dict() for r in self.remedies],
            **({"detail": self.detail} if self.detail else {}),
            **({"message": self.message, "params": _jsonable(self.params)} if self.message else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        return cls(
            code=d["code"],
            severity=d["severity"],
            summary=d.get("summary", ""),
            step=d.get("step"),
            where=list(d.get("where", [])),
            evidence=dict(d.get("evidence", {})),
            remedies=[Remedy(**r) for r in d.get("remedies", [])],
            detail=d.get("detail", ""),
            message=d.get("message"),
            params=dict(d.get("params") or {}),
        )


def _jsonable(value: Any) -> Any:
    """Numbers that JSON can hold: NaN/Inf become strings, numpy scalars become Python ones."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class Report:
    """The outcome of a watched run (or a check-up): findings, most severe first."""

    findings: list[Finding] = field(default_factory=list)
    steps: int = 0
    backward_passes: int = 0
    notes: list[str] = field(default_factory=list)  # messages about the watch itself
    internal_errors: list[str] = field(default_factory=list)
    # the numbers the plots show (see Doctor.export_signals; plain lists, bounded), and facts about
    # the run (script, argv, versions, times); neither is part of the JSON schema
    signals: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    meta: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    lang: str | None = field(default=None, compare=False, repr=False)  # "en"/"zh"; None: $NNDOCTOR_LANG
    checkup: dict[str, Any] = field(default_factory=dict)  # a check-up's measurements (LR, batch, ...)
    repairs: list[dict[str, Any]] | None = None   # repair mode: what was tried (None: mode off)

    def __post_init__(self) -> None:
        self.findings = sorted(self.findings, key=lambda f: (f.rank, f.step if f.step is not None else 1 << 62))

    # -- queries ---------------------------------------------------------------------------
    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def problems(self) -> list[Finding]:
        """Findings of severity error or warning (what a healthy run must not have)."""
        return [f for f in self.findings if f.severity in ("error", "warning")]

    @property
    def healthy(self) -> bool:
        return not self.problems()

    def get(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def __contains__(self, code: object) -> bool:
        return any(f.code == code for f in self.findings)

    # -- output ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        from . import __version__

        d: dict[str, Any] = {
            "schema": SCHEMA,
            "nndoctor_version": __version__,
            "steps": self.steps,
            "backward_passes": self.backward_passes,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.notes:
            d["notes"] = list(self.notes)
        if self.internal_errors:
            d["internal_errors"] = list(self.internal_errors)
        if self.checkup:
            d["checkup"] = _jsonable(self.checkup)
        if self.repairs is not None:
            d["repairs"] = _jsonable(self.repairs)
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> "Report":
        d = json.loads(text)
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not an nndoctor report (schema {d.get('schema')!r})")
        return cls(
            findings=[Finding.from_dict(f) for f in d.get("findings", [])],
            steps=d.get("steps", 0),
            backward_passes=d.get("backward_passes", 0),
            notes=list(d.get("notes", [])),
            internal_errors=list(d.get("internal_errors", [])),
            checkup=dict(d.get("checkup", {})),
            repairs=d.get("repairs"),
        )

    def render(self, console=None, verbose: bool = True, lang: str | None = None) -> None:
        from .report.terminal import render

        render(self, console=console, verbose=verbose, lang=lang)

    def __str__(self) -> str:
        from .report.terminal import render_text

        return render_text(self)

    def _repr_html_(self) -> str:
        from .report.html import render_html

        return render_html(self)

    def to_html(self, lang: str | None = None, title: str | None = None) -> str:
        """A self-contained HTML page (no network needed): findings, then the plots."""
        from .report.html import render_page

        return render_page(self, lang=lang, title=title)

    def save_html(self, path, lang: str | None = None, title: str | None = None) -> str:
        from pathlib import Path

        Path(path).write_text(self.to_html(lang=lang, title=title), encoding="utf-8")
        return str(path)

    def save(self, run_dir) -> str:
        """Keep this report in a run folder (report.json, signals.npz, meta.json)."""
        from .report.rundir import save_run

        return str(save_run(run_dir, self))

    @classmethod
    def load(cls, run_dir) -> "Report":
        """A report kept in a run folder, with its signals and meta."""
        from .report.rundir import load_run

        return load_run(run_dir)
