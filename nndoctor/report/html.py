"""HTML reports: one self-contained page (no CDN, no network: inline CSS, inline SVG plots, a few
lines of inline JS for the copy buttons), and the same content as a fragment for Jupyter.

The findings come first (code, severity, when, where, the evidence, remedies with copy buttons),
then the plots that show the evidence: the loss with the learning rate and the steps at which
each finding was established, a per-layer gradient-norm heatmap, update/weight ratios, and the
dead / saturated shares of the activation samples.

Every string from the run (module names, summaries, evidence, snippets, the script's name) is
HTML-escaped; the page also carries a Content-Security-Policy that allows only its own script
(by hash), so even an unescaped string could not run code.
"""
from __future__ import annotations

import base64
import hashlib
import time
from html import escape
from typing import Any

from ..findings import Finding, Report
from ..i18n import code_title, code_what, get_lang, note, remedy_title, t
from ..messages import summary_in
from . import svg
from .terminal import format_value

_COLOR = {"error": "#c0392b", "warning": "#b7791f", "info": "#2b6cb0"}

_CSS = """
.nnd{font-family:-apple-system,Segoe UI,Helvetica,Arial,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;
 color:#222;max-width:980px;line-height:1.4}
.nnd h1{font-size:1.5em;margin:.3em 0}.nnd h2{font-size:1.2em;margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
.nnd .status{font-weight:bold}.nnd .status.ok{color:#2f855a}.nnd .status.bad{color:#c0392b}
.nnd .meta{color:#666;font-size:.85em}
.nnd .finding{border-left:5px solid #999;background:#fafafa;padding:6px 12px;margin:10px 0}
.nnd .sev{font-weight:bold;font-size:.85em;padding:1px 6px;border-radius:3px;color:#fff}
.nnd .code{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:bold;margin-left:6px}
.nnd .title{margin-left:6px}.nnd .when{color:#666;font-size:.85em;margin-left:6px}
.nnd .what{color:#444;font-size:.9em}.nnd .summary{margin:.3em 0}
.nnd table.ev{border-collapse:collapse;font-size:.85em}.nnd table.ev td{border-top:1px solid #eee;padding:2px 8px;vertical-align:top}
.nnd table.ev td:first-child{color:#666;white-space:nowrap}
.nnd .remedy{margin:.4em 0}.nnd .snippet{position:relative}
.nnd pre{background:#f3f3f3;padding:6px 10px;overflow-x:auto;margin:.2em 0;font-size:.85em}
.nnd button.copy{position:absolute;top:4px;right:4px;font-size:.75em;cursor:pointer}
.nnd .chart text{font-size:11px;fill:#333}.nnd .chart .axis{font-size:12px;fill:#555}
.nnd .chart .mlabel{font-size:10px}.nnd .chart .rowlabel{font-size:10px;fill:#333}
.nnd figure{margin:0 0 1em}.nnd figcaption{color:#555;font-size:.85em;max-width:860px}
.nnd ul.overview{list-style:none;padding-left:0}.nnd ul.overview li{margin:2px 0}
.nnd ul.overview a{text-decoration:none;color:inherit}
.nnd table.cmp{border-collapse:collapse}.nnd table.cmp td,.nnd table.cmp th{border:1px solid #ddd;padding:3px 8px}
"""

_JS = """
(function(){
function done(b,t){var o=b.textContent;b.textContent=t;setTimeout(function(){b.textContent=o;},1200);}
document.addEventListener('click',function(e){
 var b=e.target.closest?e.target.closest('button.copy'):null; if(!b)return;
 var c=b.parentNode.querySelector('code'); var text=c?c.textContent:'';
 var ok=b.getAttribute('data-copied')||'copied';
 if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).then(function(){done(b,ok);},function(){fallback(text,b,ok);});}
 else{fallback(text,b,ok);}
});
function fallback(text,b,ok){var ta=document.createElement('textarea');ta.value=text;ta.style.position='fixed';
 ta.style.opacity='0';document.body.appendChild(ta);ta.select();try{document.execCommand('copy');done(b,ok);}catch(err){}
 document.body.removeChild(ta);}
})();
"""


def _e(s: Any) -> str:
    return escape(str(s), quote=True)


def _fmt(v: Any) -> str:
    return format_value(v, limit=12, number=svg.fmt)


def finding_html(f: Finding, lang: str, x_label: str, anchor: str = "") -> str:
    col = _COLOR[f.severity]
    ev = "".join(f"<tr><td>{_e(k)}</td><td>{_e(_fmt(v))}</td></tr>" for k, v in f.evidence.items())
    rems = []
    for i, r in enumerate(f.remedies, 1):
        snip = (f"<div class='snippet'><pre><code>{_e(r.snippet)}</code></pre>"
                f"<button class='copy' type='button' data-copied='{_e(t('copied', lang))}'>{_e(t('copy', lang))}</button>"
                f"</div>") if r.snippet else ""
        rems.append(f"<li class='remedy' data-id='{_e(r.id)}'>{_e(remedy_title(r.id, r.title, lang))}{snip}</li>")
    when = f"{x_label} {f.step}" if f.step is not None else ""
    summary_label = f"<b>{_e(t('summary', lang))}:</b> " if lang != "en" else ""
    return (
        "<div class='finding'" + (f" id='{_e(anchor)}'" if anchor else "")
        + f" data-code='{_e(f.code)}' data-severity='{_e(f.severity)}' style='border-left-color:{col}'>"
        f"<div><span class='sev' style='background:{col}'>{_e(t('severity.' + f.severity, lang))}</span>"
        f"<span class='code'>{_e(f.code)}</span><span class='title'>{_e(code_title(f.code, lang))}</span>"
        f"<span class='when'>{_e(when)}</span></div>"
        + (f"<div class='what'>{_e(code_what(f.code, lang))}</div>" if lang != "en" else "")
        + f"<div class='summary'>{summary_label}{_e(summary_in(f, lang))}</div>"
        + (f"<div class='detail what'>{_e(f.detail)}</div>" if f.detail else "")
        + (f"<div class='where'><b>{_e(t('where', lang))}:</b> {_e(', '.join(f.where[:16]))}"
           + (f" … (+{len(f.where) - 16})" if len(f.where) > 16 else "") + "</div>" if f.where else "")
        + (f"<details open><summary>{_e(t('evidence', lang))}</summary><table class='ev'>{ev}</table></details>" if ev else "")
        + (f"<div><b>{_e(t('remedies', lang))}</b><ol>{''.join(rems)}</ol></div>" if rems else "")
        + "</div>")


_OUTCOME_COLOR = {"cleared": "#2f855a", "improved": "#38a169", "replaced": "#68a483", "rolled back": "#c0392b",
                  "no effect": "#b7791f", "undecided": "#b7791f", "under test": "#b7791f", "failed": "#c0392b",
                  "gave up": "#c0392b", "report only": "#2b6cb0", "not applicable": "#888", "not attempted": "#888"}
_KEPT = ("cleared", "improved", "undecided")
_TO_MAKE = ("report only", "not attempted", "gave up")


def repairs_html(report: Report, lang: str) -> str:
    """Repair mode's attempts, as the terminal shows them: outcome, remedy and step, why, what the remedy did and the
    evidence before/after, and the code change to make (the permanent form of a kept repair, or the fix a
    report-only finding needs). Empty when the run was not repaired."""
    reps = report.repairs or []
    if not reps:
        return ""
    out = [f"<h2 id='repairs'>{_e(t('repairs', lang))}</h2>"]
    for r in reps:
        outcome = str(r.get("outcome", "?"))
        col = _OUTCOME_COLOR.get(outcome, "#666")
        rows = []
        for k in ("replaces", "rolled_back_to_step", "action", "evidence", "note", "rollback_notes",
                  "restored_state_of_step", "restore_notes"):
            v = r.get(k)
            if not v:
                continue
            items = v.items() if isinstance(v, dict) else [(None, v)]
            rows += [f"<tr><td>{_e(k if kk is None else f'{k}.{kk}')}</td><td>{_e(_fmt(vv))}</td></tr>" for kk, vv in items]
        fix = ""
        if r.get("permanent_fix") and outcome in _KEPT + _TO_MAKE:
            label = t("fix_permanent" if outcome in _KEPT else "fix_to_make", lang)
            fix = (f"<div><b>{_e(label)}</b><div class='snippet'><pre><code>{_e(r['permanent_fix'])}</code></pre>"
                   f"<button class='copy' type='button' data-copied='{_e(t('copied', lang))}'>{_e(t('copy', lang))}"
                   f"</button></div></div>")
        remedy = (f"<span class='title'>{_e(r['remedy'])}</span>" if r.get("remedy") else "") + \
                 (f"<span class='when'>{_e(t('step', lang))} {_e(r['step'])}</span>" if r.get("step") is not None else "")
        out.append(f"<div class='finding repair' data-outcome='{_e(outcome)}' style='border-left-color:{col}'>"
                   f"<div><span class='sev' style='background:{col}'>{_e(outcome)}</span>"
                   f"<span class='code'>{_e(r.get('code', ''))}</span>{remedy}</div>"
                   + (f"<div class='summary'>{_e(r['why'])}</div>" if r.get("why") else "")
                   + (f"<details open><summary>{_e(t('evidence', lang))}</summary><table class='ev'>{''.join(rows)}"
                      f"</table></details>" if rows else "")
                   + fix + "</div>")
    return "".join(out)


def _markers(report: Report) -> list[tuple[float, str, str]]:
    seen, out = set(), []
    for f in sorted(report.findings, key=lambda f: (f.step if f.step is not None else 0)):
        if f.step is None or f.code in seen:
            continue
        seen.add(f.code)
        out.append((float(f.step), f.code, _COLOR[f.severity]))
    return out


def plots_html(report: Report, lang: str) -> str:
    s = report.signals
    if not s:
        return f"<p class='meta'>{_e(t('no_signals', lang))}</p>"
    xl = t("step", lang) if s.get("x") == "step" else t("backward pass", lang)
    markers = _markers(report)
    parts = []

    def fig(title_key: str, caption_key: str, body: str, note: str = "") -> None:
        parts.append(f"<figure><h3>{_e(t(title_key, lang))}</h3>{body}<figcaption>{_e(t(caption_key, lang))}"
                     + (f" {_e(note)}" if note else "") + "</figcaption></figure>")

    left = []
    if s.get("loss", {}).get("step"):
        left.append({"name": t("loss", lang), "x": s["loss"]["step"], "y": s["loss"]["value"], "color": "#1f77b4"})
    for i, (name, v) in enumerate(sorted(s.get("val_loss", {}).items())):
        left.append({"name": f"val: {name}"[:60], "x": v["step"], "y": v["value"], "color": svg.PALETTE[(i + 2) % 10]})
    right = [{"name": f"{t('lr', lang)} ({name})"[:60], "x": v["step"], "y": v["value"], "color": "#ff7f0e",
              "dash": True} for name, v in sorted(s.get("lr", {}).items()) if v.get("step")]
    if left:
        ys = [y for srs in left for y in srs["y"] if y is not None and y > 0]
        logy = bool(ys) and len(ys) == sum(1 for srs in left for y in srs["y"] if y is not None) \
            and max(ys) / min(ys) > 50
        fig("loss_title", "loss_caption", svg.line_chart(left, right=right or None, logy=logy, markers=markers,
                                                         xlabel=xl, ylabel=t("loss", lang),
                                                         right_label=t("lr", lang) if right else "",
                                                         chart_id="plot-loss"))
    g = s.get("grad_norm", {})
    if g.get("layers") and g.get("step"):
        fig("grad_title", "grad_caption",
            svg.heatmap(g["layers"], g["step"], g["value"], log=True, xlabel=xl, value_label="‖g‖",
                        markers=markers, chart_id="plot-grad"), _shown(g, lang))
    r = s.get("update_ratio", {})
    if r.get("layers") and r.get("step"):
        if len(r["layers"]) <= 12:
            series = [{"name": name, "x": r["step"], "y": row} for name, row in zip(r["layers"], r["value"])]
            body = svg.line_chart(series, logy=True, hlines=[(1e-4, "1e-4"), (1e-2, "1e-2")], xlabel=xl,
                                  ylabel="‖Δw‖/‖w‖", markers=markers, chart_id="plot-ratio")
        else:
            body = svg.heatmap(r["layers"], r["step"], r["value"], log=True, xlabel=xl, value_label="‖Δw‖/‖w‖",
                               markers=markers, chart_id="plot-ratio")
        fig("ratio_title", "ratio_caption", body, _shown(r, lang))
    for key, title, cap, cid in (("dead", "dead_title", "dead_caption", "plot-dead"),
                                 ("saturated", "sat_title", "sat_caption", "plot-sat")):
        a = s.get(key, {})
        if a.get("layers") and a.get("step"):
            fig(title, cap, svg.heatmap(a["layers"], a["step"], a["value"], log=False, vmin=0.0, vmax=1.0,
                                        xlabel=xl, value_label=key, chart_id=cid), _shown(a, lang))
    return "".join(parts)


def _shown(m: dict, lang: str) -> str:
    total, shown = m.get("layers_total", 0), len(m.get("layers", []))
    return t("layers_shown", lang, shown=shown, total=total) if total > shown else ""


def body_html(report: Report, lang: str, title: str | None = None, heading: str = "h1") -> str:
    problems = report.problems()
    ok = not problems
    status = t("healthy", lang) if ok else t("problems", lang, n=len(problems))
    x_label = t("step", lang)
    if report.signals and report.signals.get("x") == "backward pass":
        x_label = t("backward pass", lang)
    meta = report.meta or {}
    meta_bits = []
    if meta.get("script"):
        meta_bits.append(f"{t('script', lang)}: {meta['script']} {' '.join(map(str, meta.get('argv', [])))}".strip())
    if meta.get("started"):
        meta_bits.append(f"{t('started', lang)}: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(meta['started']))}")
    vers = ", ".join(f"{k} {meta[k]}" for k in ("nndoctor", "torch", "python") if meta.get(k))
    if vers:
        meta_bits.append(f"{t('versions', lang)}: {vers}")
    out = [f"<{heading}>{_e(title or t('title', lang))}</{heading}>",
           f"<div class='status {'ok' if ok else 'bad'}'>{_e(status)}</div>",
           f"<div class='meta'>{_e(t('steps_line', lang, steps=report.steps, backward=report.backward_passes))}</div>"]
    out += [f"<div class='meta'>{_e(b)}</div>" for b in meta_bits]
    if report.findings:  # at a glance: one line per finding, linked to its card
        out.append("<ul class='overview'>" + "".join(
            f"<li><a href='#finding-{i}'><span class='sev' style='background:{_COLOR[f.severity]}'>"
            f"{_e(t('severity.' + f.severity, lang))}</span> <code>{_e(f.code)}</code></a> "
            f"{_e(code_title(f.code, lang))}" + (f" <span class='when'>{_e(x_label)} {_e(f.step)}</span>"
                                                if f.step is not None else "") + "</li>"
            for i, f in enumerate(report.findings)) + "</ul>")
    out.append(f"<h2 id='findings'>{_e(t('findings', lang))}</h2>")
    if report.findings:
        out += [finding_html(f, lang, x_label, anchor=f"finding-{i}") for i, f in enumerate(report.findings)]
    else:
        out.append(f"<p>{_e(t('no_findings', lang))}</p>")
    out.append(repairs_html(report, lang))
    if report.notes:
        out.append(f"<h2>{_e(t('notes', lang))}</h2><ul>" + "".join(f"<li>{_e(note(n, lang))}</li>" for n in report.notes) + "</ul>")
    if report.internal_errors:
        out.append(f"<h2>{_e(t('internal_errors', lang))}</h2><ul>"
                   + "".join(f"<li><code>{_e(n)}</code></li>" for n in report.internal_errors[:20]) + "</ul>")
    out.append(f"<h2 id='plots'>{_e(t('plots', lang))}</h2>")
    out.append(plots_html(report, lang))
    return "".join(out)


def render_html(report: Report, lang: str | None = None) -> str:
    """A fragment for Jupyter (``Report._repr_html_``): the findings and the plots, styled, no script."""
    lang = get_lang(lang or report.lang)
    return f"<div class='nnd'><style>{_CSS}</style>{body_html(report, lang, heading='h3')}</div>"


def page(body: str, lang: str, title: str) -> str:
    digest = base64.b64encode(hashlib.sha256(_JS.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'"
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (f"<!DOCTYPE html>\n<html lang='{html_lang}'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{csp}\">"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
            f"<body><div class='nnd'>{body}</div><script>{_JS}</script></body></html>\n")


def render_page(report: Report, lang: str | None = None, title: str | None = None) -> str:
    lang = get_lang(lang or report.lang)
    title = title or t("title", lang) + (f" — {report.meta['script']}" if report.meta.get("script") else "")
    return page(body_html(report, lang, title=title), lang, title)


def render_compare_page(a: Report, b: Report, rows: list[dict[str, Any]], names: tuple[str, str],
                        lang: str | None = None) -> str:
    """Two runs: the comparison table, both loss curves overlaid, then each run's findings."""
    lang = get_lang(lang)
    head = "".join(f"<th>{_e(h)}</th>" for h in ("", "A: " + names[0], "B: " + names[1], ""))
    status_color = {"appeared": "#c0392b", "cleared": "#2f855a", "persisting": "#b7791f"}
    body = "".join(f"<tr data-status='{_e(r.get('status', ''))}'><td>{_e(r['label'])}</td><td>{_e(r['a'])}</td>"
                   f"<td>{_e(r['b'])}</td><td style='color:{status_color.get(r.get('status'), '#333')}'>"
                   f"{_e(r.get('status_text', ''))}</td></tr>" for r in rows)
    series = []
    for i, (rep, name) in enumerate(((a, names[0]), (b, names[1]))):
        lo = (rep.signals or {}).get("loss", {})
        if lo.get("step"):
            series.append({"name": name, "x": lo["step"], "y": lo["value"], "color": svg.PALETTE[i]})
    ys = [y for s in series for y in s["y"] if y is not None]
    logy = bool(ys) and min(ys) > 0 and max(ys) / min(ys) > 50
    chart = svg.line_chart(series, logy=logy, xlabel=t("step", lang), ylabel=t("loss", lang),
                           chart_id="plot-compare") if series else f"<p>{_e(t('no_signals', lang))}</p>"
    title = t("compare_title", lang)
    parts = [f"<h1>{_e(title)}</h1><table class='cmp'><tr>{head}</tr>{body}</table>",
             f"<h2>{_e(t('loss', lang))}</h2>{chart}"]
    for rep, name in ((a, names[0]), (b, names[1])):
        parts.append(f"<h2>{_e(name)}</h2>" + "".join(finding_html(f, lang, t("step", lang)) for f in rep.findings))
    return page("".join(parts), lang, title)
