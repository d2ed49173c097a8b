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
    if report.checkup:
        console.rule(f"nndoctor check-up — {status}")
    else:
        console.rule(f"nndoctor — {report.steps} steps, {report.backward_passes} backward passes — {status}")
    for f in report.findings:
        console.print(finding_panel(f, verbose=verbose))
    if report.checkup:
        console.print(checkup_table(report.checkup))
    for n in report.notes:
        console.print(f"[dim]note:[/] {escape(n)}")
    for e in report.internal_errors[:5]:
        console.print(f"[dim]nndoctor internal error (training was not affected):[/] {escape(e)}")
    if report.findings:
        console.print("[dim]`nndoctor explain CODE` tells more about a code.[/]")


def checkup_table(c: dict) -> Table:
    """The check-up's measurements: learning rate, batch size, one-batch overfit, time."""
    t = Table(title="check-up measurements", show_header=False, box=None, title_justify="left", padding=(0, 1))
    t.add_column(style="bold")
    t.add_column()
    lr = c.get("lr_range_test")
    if lr:
        parts = [f"suggested [bold]{_fmt(lr.get('suggested_lr'))}[/]"]
        if lr.get("user_lr") is not None:
            parts.append(f"yours {_fmt(lr['user_lr'])}")
        parts.append(f"loss lowest at {_fmt(lr.get('lr_min_loss'))}")
        if lr.get("lr_diverged"):
            parts.append(f"diverged at {_fmt(lr['lr_diverged'])}")
        parts.append(f"({lr.get('optimizer', '')}, {lr.get('steps')} sweep steps)")
        t.add_row("learning rate", ", ".join(parts))
    bs = c.get("batch_size")
    if bs and bs.get("max_batch") is not None:
        bound = bs.get("limited_by")
        fits = (f"largest that fits: [bold]{bs['max_batch']}[/] ({int(bs['margin'] * 100)}% of "
                f"{_bytes(bs.get('capacity_bytes'))} {bs.get('capacity_source', '')})" if bound == "memory" else
                f"fits up to at least {bs['max_batch']} (the search stopped at the {bound})")
        useful = f"; useful (gradient noise scale): ~{bs['useful_batch']}" if bs.get("useful_batch") else ""
        t.add_row("batch size", f"yours {bs.get('user_batch')}; {fits}{useful}")
    of = c.get("overfit_one_batch")
    if of:
        t.add_row("one batch", ("memorized" if of.get("passed") else "NOT memorized") +
                  f": loss {_fmt(of.get('start_loss'))} -> {_fmt(of.get('best_loss'))} on {of.get('examples')} examples")
    tm = c.get("timings_s", {})
    if tm:
        t.add_row("time", f"{_fmt(tm.get('total'))} s (" + ", ".join(f"{k} {_fmt(v)}" for k, v in tm.items()
                                                                    if k != "total") + ")")
    return t


def _bytes(n) -> str:
    if not n:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.0f} PiB"


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
