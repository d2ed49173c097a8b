"""Terminal rendering with rich: the findings first, most severe first, each with where, when,
the evidence in numbers and the ranked remedies as copy-pasteable snippets."""
from __future__ import annotations

import io
import math
from typing import Any, Callable

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..findings import Finding, Report
from ..i18n import code_title, code_what, get_lang, note, remedy_title, t
from ..messages import summary_in

_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "cyan"}


def _number(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4g}"


def format_value(v: Any, limit: int = 8, number: Callable[[float], str] = _number) -> str:
    """An evidence value as short text: floats through ``number``, at most ``limit`` items of a
    dict or list (the terminal and the HTML page differ only in those two)."""
    if isinstance(v, float):
        return number(v)
    if isinstance(v, dict):
        items = list(v.items())
        s = ", ".join(f"{k}: {format_value(x, limit, number)}" for k, x in items[:limit])
        return s + (f", … ({len(items) - limit} more)" if len(items) > limit else "")
    if isinstance(v, (list, tuple)):
        s = ", ".join(format_value(x, limit, number) for x in list(v)[:limit])
        return "[" + s + (f", … ({len(v) - limit} more)" if len(v) > limit else "") + "]"
    return str(v)


_fmt = format_value


def finding_panel(f: Finding, verbose: bool = True, lang: str = "en") -> Panel:
    head = Text()
    sev = f.severity.upper() if lang == "en" else t("severity." + f.severity, lang)
    head.append(f"{sev:7} ", style=_STYLE[f.severity])
    head.append(f.code, style="bold")
    if f.step is not None:
        head.append(f"  ({t('step', lang)} {f.step})", style="dim")
    parts: list[Any] = []
    if lang != "en":
        parts.append(Text(code_title(f.code, lang), style="bold"))
        parts.append(Text(code_what(f.code, lang)))
        parts.append(Text.assemble((t("summary", lang) + ": ", "dim"), summary_in(f, lang)))
    else:
        parts.append(Text(f.summary))
    if f.where:
        parts.append(Text.assemble((t("where", lang) + ": ", "bold"), ", ".join(f.where[:8])
                                   + (f" … (+{len(f.where) - 8})" if len(f.where) > 8 else "")))
    if f.detail:
        parts.append(Text(f.detail, style="dim"))
    if verbose and f.evidence:
        tab = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1))
        tab.add_column(style="dim")
        tab.add_column()
        for k, v in f.evidence.items():
            tab.add_row(escape(str(k)), escape(_fmt(v)))
        parts.append(Text(t("evidence", lang), style="bold"))
        parts.append(tab)
    if f.remedies:
        parts.append(Text(t("remedies", lang), style="bold"))
        for i, r in enumerate(f.remedies if verbose else f.remedies[:1], 1):
            parts.append(Text(f"{i}. {remedy_title(r.id, r.title, lang)}"))
            if verbose and r.snippet and i <= 3:
                parts.append(Syntax(r.snippet, "python", theme="ansi_dark", background_color="default",
                                    padding=(0, 2)))
    return Panel(Group(*parts), title=head, title_align="left", border_style=_STYLE[f.severity])


def render(report: Report, console: Console | None = None, verbose: bool = True, lang: str | None = None) -> None:
    lang = get_lang(lang or report.lang)
    console = console or Console(stderr=True)
    problems = report.problems()
    if lang == "en":
        status = ("[bold green]healthy[/]: no problem found" if not problems else
                  f"[bold red]{len(problems)} problem{'s' if len(problems) != 1 else ''} found[/]")
    else:
        status = (f"[bold green]{t('healthy', lang)}[/]" if not problems else
                  f"[bold red]{t('problems', lang, n=len(problems))}[/]")
    if report.checkup:
        console.rule(f"nndoctor check-up — {status}")
    elif lang == "en":
        console.rule(f"nndoctor — {report.steps} steps, {report.backward_passes} backward passes — {status}")
    else:
        console.rule(f"nndoctor — {t('steps_line', lang, steps=report.steps, backward=report.backward_passes)}"
                     f" — {status}")
    for f in report.findings:
        console.print(finding_panel(f, verbose=verbose, lang=lang))
    if report.checkup:
        console.print(checkup_table(report.checkup))
    if report.repairs is not None:
        render_repairs(report, console, verbose=verbose)
    for n in report.notes:
        console.print(f"[dim]{t('notes', lang)}:[/] {escape(note(n, lang))}")
    for e in report.internal_errors[:5]:
        console.print(f"[dim]{t('internal_errors', lang)}:[/] {escape(e)}")
    if report.findings:
        console.print(f"[dim]{escape(t('explain_hint', lang))}[/]")


_OUTCOME_STYLE = {"cleared": "bold green", "improved": "green", "rolled back": "bold red", "no effect": "yellow",
                  "report only": "cyan", "not applicable": "dim", "failed": "red", "not attempted": "dim",
                  "undecided": "yellow", "under test": "yellow", "gave up": "red", "replaced": "dim green"}


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
            for k in ("replaces", "rolled_back_to_step", "action", "evidence", "note", "rollback_notes",
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




def checkup_table(c: dict) -> Table:
    """The check-up's measurements: learning rate, batch size, one-batch overfit, time."""
    table = Table(title="check-up measurements", show_header=False, box=None, title_justify="left", padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    lr = c.get("lr_range_test")
    if lr:
        parts = [f"suggested [bold]{_fmt(lr.get('suggested_lr'))}[/]"
                 + ("" if lr.get("progress", True) else " (a guess: the loss did not fall beyond its noise)")]
        race = c.get("lr_race") or {}
        if lr.get("suggested_lr_curve") is not None and race.get("winner") is not None:
            tied = race.get("tied") or []
            parts[0] += (f" (won a race of {len(race.get('candidates', []))} LRs on held-out batches"
                         + (f", tied within its noise with {', '.join(_fmt(t) for t in tied)}" if tied else "")
                         + f"; the curve's rule: {_fmt(lr['suggested_lr_curve'])})")
        if lr.get("user_lr") is not None:
            parts.append(f"yours {_fmt(lr['user_lr'])}")
        parts.append(f"loss lowest at {_fmt(lr.get('lr_min_loss'))}")
        if lr.get("lr_diverged"):
            parts.append(f"diverged at {_fmt(lr['lr_diverged'])}")
        parts.append(f"({lr.get('optimizer', '')}, {lr.get('steps')} sweep steps)")
        table.add_row("learning rate", ", ".join(parts))
    bs = c.get("batch_size")
    if bs and bs.get("max_batch") is not None:
        bound = bs.get("limited_by")
        fits = (f"largest that fits: [bold]{bs['max_batch']}[/] ({int(bs['margin'] * 100)}% of "
                f"{_bytes(bs.get('capacity_bytes'))} {bs.get('capacity_source', '')})" if bound == "memory" else
                f"fits up to at least {bs['max_batch']} (the search stopped at the {bound})")
        useful = f"; useful (gradient noise scale): ~{bs['useful_batch']}" if bs.get("useful_batch") else ""
        table.add_row("batch size", f"yours {bs.get('user_batch')}; {fits}{useful}")
    of = c.get("overfit_one_batch")
    if of:
        table.add_row("one batch", ("memorized" if of.get("passed") else "NOT memorized") +
                  f": loss {_fmt(of.get('start_loss'))} -> {_fmt(of.get('best_loss'))} on {of.get('examples')} examples")
    tm = c.get("timings_s", {})
    if tm:
        table.add_row("time", f"{_fmt(tm.get('total'))} s (" + ", ".join(f"{k} {_fmt(v)}" for k, v in tm.items()
                                                                    if k != "total") + ")")
    return table


def _bytes(n) -> str:
    if not n:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.0f} PiB"


def render_text(report: Report, width: int = 100, lang: str | None = None) -> str:
    buf = io.StringIO()
    render(report, Console(file=buf, width=width, force_terminal=False, color_system=None), verbose=True, lang=lang)
    return buf.getvalue()


def explain_text(code: str, lang: str | None = None) -> str:
    from ..diagnoses import get
    from .. import remedies

    lang = get_lang(lang)
    d = get(code)
    lines = [f"{d.code} — {code_title(d.code, lang)}", ""]
    if d.guide:
        lines += [f"{t('guide', lang)}: {d.guide}", ""]
    lines += [t("what_it_means", lang), f"  {code_what(d.code, lang)}", "", t("why_it_breaks", lang), f"  {d.why}", "",
              t("evidence_carried", lang)] + [f"  - {e}" for e in d.evidence]
    if d.traps:
        lines += ["", t("traps", lang)] + [f"  - {x}" for x in d.traps]
    if d.thresholds:
        lines += ["", t("thresholds", lang)] + [f"  - {x}" for x in d.thresholds]
    lines += ["", t("remedies_explain", lang)]
    for i, rid in enumerate(d.remedies, 1):
        r = remedies.CATALOGUE[rid].render()
        lines.append(f"  {i}. {remedy_title(r.id, r.title, lang)}")
        lines += ["       " + l for l in r.snippet.splitlines()]
    return "\n".join(lines)
