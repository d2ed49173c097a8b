"""A compact, self-contained HTML rendering of a report (used for Jupyter display).

Every user-provided string (module names, summaries, snippets) is escaped.
"""
from __future__ import annotations

from html import escape

from ..findings import Report

_COLOR = {"error": "#c0392b", "warning": "#b7791f", "info": "#2b6cb0"}


def render_html(report: Report) -> str:
    rows = []
    for f in report.findings:
        ev = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>" for k, v in f.evidence.items())
        rem = "".join(f"<li>{escape(r.title)}<pre>{escape(r.snippet)}</pre></li>" for r in f.remedies)
        rows.append(
            f"<div style='border-left:4px solid {_COLOR[f.severity]};padding:4px 10px;margin:8px 0'>"
            f"<b style='color:{_COLOR[f.severity]}'>{escape(f.severity.upper())}</b> "
            f"<code>{escape(f.code)}</code> <small>step {escape(str(f.step))}</small>"
            f"<div>{escape(f.summary)}</div>"
            + (f"<div><b>where:</b> {escape(', '.join(f.where))}</div>" if f.where else "")
            + f"<details><summary>evidence</summary><table>{ev}</table></details>"
            f"<details><summary>remedies</summary><ol>{rem}</ol></details></div>")
    status = "healthy: no problem found" if report.healthy else f"{len(report.problems())} problem(s) found"
    return (f"<div class='nndoctor-report'><h4>nndoctor — {report.steps} steps — {escape(status)}</h4>"
            + "".join(rows) + "</div>")
