"""Terminal rendering with rich: the findings first, most severe first, each with where, when,
the evidence in numbers and the ranked remedies as copy-pasteable snippets."""
from __future__ import annotations

import io
import math
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..findings import Finding, Report

_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "cyan"}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4g}"
    if isinstance(v, dict):
        items = list(v.items())
        s = ", ".join(f"{k}: {_fmt(x)}" for k, x in items[:8])
        return s + (f", … ({len(items) - 8} more)" if len(items) > 8 else "")
    if isinstance(v, (list, tuple)):
        s = ", ".join(_fmt(x) for x in list(v)[:8])
        return "[" + s + (f", … ({len(v) - 8} more)" if len(v) > 8 else "") + "]"
    return str(v)


def finding_panel(f: Finding, verbose: bool = True) -> Panel:
    head = Text()
    head.append(f"{f.severity.upper():7} ", style=_STYLE[f.severity])
    head.append(f.code, style="bold")
    if f.step is not None:
        head.append(f"  (step {f.step})", style="dim")
    parts: list[Any] = [Text(f.summary)]
    if f.where:
        parts.append(Text.assemble(("where: ", "bold"), ", ".join(f.where[:8])
                                   + (f" … (+{len(f.where) - 8})" if len(f.where) > 8 else "")))
    if f.detail:
        parts.append(Text(f.detail, style="dim"))
    if verbose and f.evidence:
        t = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1))
        t.add_column(style="dim")
        t.add_column()
        for k, v in f.evidence.items():
            t.add_row(escape(str(k)), escape(_fmt(v)))
        parts.append(Text("evidence", style="bold"))
        parts.append(t)
    if f.remedies:
        parts.append(Text("remedies (best first)", style="bold"))
        for i, r in enumerate(f.remedies if verbose else f.remedies[:1], 1):
            parts.append(Text(f"{i}. {r.title}"))
            if verbose and r.snippet and i <= 3:
                parts.append(Syntax(r.snippet, "python", theme="ansi_dark", background_color="default",
                                    padding=(0, 2)))
    return Panel(Group(*parts), title=head, title_align="left", border_style=_STYLE[f.severity])


def render(report: Report, console: Console | None = None, verbose: bool = True) -> None:
    console = console or Console(stderr=True)
    problems = report.problems()
    status = ("[bold green]healthy[/]: no problem found" if not problems else
              f"[bold red]{len(problems)} problem{'s' if len(problems) != 1 else ''} found[/]")
    console.rule(f"nndoctor — {report.steps} steps, {report.backward_passes} backward passes — {status}")
    for f in report.findings:
        console.print(finding_panel(f, verbose=verbose))
    if report.repairs is not None:
        render_repairs(report, console, verbose=verbose)
    for n in report.notes:
        console.print(f"[dim]note:[/] {escape(n)}")
    for e in report.internal_errors[:5]:
        console.print(f"[dim]nndoctor internal error (training was not affected):[/] {escape(e)}")
    if report.findings:
        console.print("[dim]`nndoctor explain CODE` tells more about a code.[/]")


_OUTCOME_STYLE = {"cleared": "bold green", "improved": "green", "rolled back": "bold red", "no effect": "yellow",
                  "report only": "cyan", "not applicable": "dim", "failed": "red", "not attempted": "dim",
                  "undecided": "yellow", "under test": "yellow", "gave up": "red"}


def render_repairs(report: Report, console: Console, verbose: bool = True) -> None:
    """Repair mode: each attempt with its evidence before/after and the code change to make."""
    reps = report.repairs or []
    console.rule(f"repair mode — {sum(1 for r in reps if r.get('remedy'))} remed"
                 f"{'y' if sum(1 for r in reps if r.get('remedy')) == 1 else 'ies'} tried")
    if not reps:
        console.print("[dim]nothing to repair: no finding had a live remedy.[/]")
    for r in reps:
        head = Text()
        out = r.get("outcome", "?")
        head.append(f"{out.upper()} ", style=_OUTCOME_STYLE.get(out, "bold"))
        head.append(r.get("code", ""), style="bold")
        if r.get("remedy"):
            head.append(f"  {r['remedy']}" + (f" at step {r['step']}" if r.get("step") is not None else ""),
                        style="dim")
        parts: list[Any] = []
        if r.get("why"):
            parts.append(Text(r["why"]))
        if verbose:
            t = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1))
            t.add_column(style="dim")
            t.add_column()
            for k in ("rolled_back_to_step", "action", "evidence", "note", "rollback_notes",
                      "restored_state_of_step", "restore_notes"):
                if r.get(k):
                    v = r[k]
                    if isinstance(v, dict):
                        for kk, vv in v.items():
                            t.add_row(escape(f"{k}.{kk}"), escape(_fmt(vv)))
                    else:
                        t.add_row(escape(k), escape(_fmt(v)))
            if t.row_count:
                parts.append(t)
        if r.get("permanent_fix") and out in ("cleared", "improved", "undecided", "report only", "not attempted",
                                              "gave up"):
            parts.append(Text("the code change that makes it permanent" if out in ("cleared", "improved", "undecided")
                              else "the code change to make", style="bold"))
            parts.append(Syntax(r["permanent_fix"], "python", theme="ansi_dark", background_color="default",
                                padding=(0, 2)))
        console.print(Panel(Group(*parts) if parts else Text(""), title=head, title_align="left",
                            border_style=_OUTCOME_STYLE.get(out, "white").replace("bold ", "")))


def render_text(report: Report, width: int = 100) -> str:
    buf = io.StringIO()
    render(report, Console(file=buf, width=width, force_terminal=False, color_system=None), verbose=True)
    return buf.getvalue()


def explain_text(code: str) -> str:
    from ..diagnoses import get
    from .. import remedies

    d = get(code)
    lines = [f"{d.code} — {d.title}", ""]
    if d.guide:
        lines += [f"guide: {d.guide}", ""]
    lines += ["What it means:", f"  {d.what}", "", "Why it breaks training:", f"  {d.why}", "",
              "Evidence a finding carries:"] + [f"  - {e}" for e in d.evidence]
    if d.traps:
        lines += ["", "Healthy patterns that do NOT raise it:"] + [f"  - {t}" for t in d.traps]
    if d.thresholds:
        lines += ["", "Thresholds and why:"] + [f"  - {t}" for t in d.thresholds]
    lines += ["", "Remedies (best first):"]
    for i, rid in enumerate(d.remedies, 1):
        r = remedies.CATALOGUE[rid].render()
        lines.append(f"  {i}. {r.title}")
        lines += ["       " + l for l in r.snippet.splitlines()]
    return "\n".join(lines)
