"""Inline SVG charts for the HTML report: no plotting library, no network, every label escaped.

Two kinds: a line chart (several series, optional log scale, an optional second y axis, vertical
markers) and a heatmap (rows x columns of coloured cells; runs of equal colour in a row are drawn
as one <rect>, so a smooth heatmap of 100 layers x 400 steps stays small).
"""
from __future__ import annotations

import math
from html import escape
from typing import Any, Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22")
# a perceptually ordered scale (viridis stops): dark = small, yellow = large
_SCALE = ((0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)), (0.75, (94, 201, 98)),
          (1.0, (253, 231, 37)))
_LEVELS = 48
_MISSING = "#e6e6e6"   # no value (e.g. no gradient at that step)
_ZERO = "#000000"      # exactly zero on a log scale
MAX_COLS = 200


def _e(s: Any) -> str:
    return escape(str(s), quote=True)


def fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a" if v is None else str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.2e}"
    return f"{v:.4g}"


def color(t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    for (a, ca), (b, cb) in zip(_SCALE, _SCALE[1:]):
        if t <= b:
            u = (t - a) / (b - a)
            return "#%02x%02x%02x" % tuple(round(x + (y - x) * u) for x, y in zip(ca, cb))
    return "#%02x%02x%02x" % _SCALE[-1][1]


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    out, v = [], start
    while v <= hi + 1e-9 * step and len(out) < 20:
        out.append(round(v, 12))
        v += step
    return out


class _Axis:
    def __init__(self, vals: Sequence[float], log: bool, pad: float = 0.05) -> None:
        fin = [v for v in vals if v is not None and math.isfinite(v) and (v > 0 or not log)]
        self.log = log and bool(fin)
        if not fin:
            self.lo, self.hi = 0.0, 1.0
            return
        t = [math.log10(v) for v in fin] if self.log else fin
        lo, hi = min(t), max(t)
        if hi - lo < 1e-12:
            lo, hi = lo - (0.5 if self.log else max(abs(lo) * 0.1, 0.5)), hi + (0.5 if self.log else max(abs(hi) * 0.1, 0.5))
        span = hi - lo
        self.lo, self.hi = lo - pad * span, hi + pad * span

    def t(self, v: float) -> float | None:
        """0..1 position of v (None: not drawable)."""
        if v is None or not math.isfinite(v) or (self.log and v <= 0):
            return None
        x = math.log10(v) if self.log else v
        return (x - self.lo) / (self.hi - self.lo)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            a, b = math.ceil(self.lo), math.floor(self.hi)
            exps = list(range(a, b + 1)) or [round((self.lo + self.hi) / 2)]
            stride = max(1, len(exps) // 6)
            return [((e - self.lo) / (self.hi - self.lo), f"1e{e}") for e in exps[::stride]]
        return [((v - self.lo) / (self.hi - self.lo), fmt(v)) for v in _ticks(self.lo, self.hi)]


def line_chart(series: list[dict[str, Any]], *, width: int = 860, height: int = 300, logy: bool = False,
               right: list[dict[str, Any]] | None = None, right_log: bool = True, markers=(),
               hlines=(), xlabel: str = "step", ylabel: str = "", right_label: str = "",
               chart_id: str = "") -> str:
    """series: [{name, x, y, color?, dash?}]; right: series on a second y axis; markers:
    [(x, label, color)] vertical lines; hlines: [(y, label)] dashed guides on the left axis."""
    ml, mr, mb = 64, 64 if right else 16, 40
    pw = width - ml - mr
    # the legend sits above the plot, wrapped into rows
    names = [(s["name"], s.get("color") or PALETTE[i % len(PALETTE)], bool(s.get("dash")))
             for i, s in enumerate(series + (right or []))][:16]
    rows, lx = [[]], 0
    for item in names:
        w = 28 + 7 * min(len(str(item[0])), 40)
        if lx + w > pw and rows[-1]:
            rows.append([])
            lx = 0
        rows[-1].append((lx, item))
        lx += w
    mt = 12 + 16 * len(rows) if names else 12
    height += mt - 12
    ph = height - mt - mb
    xs = [x for s in series + (right or []) for x in s["x"] if x is not None]
    xs += [m[0] for m in markers if m[0] is not None]
    xa = _Axis(xs, False, pad=0.02)
    ya = _Axis([y for s in series for y in s["y"]] + [h[0] for h in hlines], logy)
    ra = _Axis([y for s in right or [] for y in s["y"]], right_log) if right else None
    out = [f'<svg class="chart" id="{_e(chart_id)}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img">']
    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fff" stroke="#ccc"/>')

    def px(v):
        t = xa.t(v)
        return None if t is None else ml + t * pw

    def py(v, ax):
        t = ax.t(v)
        return None if t is None else mt + (1 - t) * ph

    for t, lab in ya.ticks():
        y = mt + (1 - t) * ph
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_e(lab)}</text>')
    for t, lab in xa.ticks():
        x = ml + t * pw
        out.append(f'<text x="{x:.1f}" y="{mt + ph + 16}" text-anchor="middle" class="tick">{_e(lab)}</text>')
    if ra is not None:
        for t, lab in ra.ticks():
            y = mt + (1 - t) * ph
            out.append(f'<text x="{ml + pw + 6}" y="{y + 4:.1f}" class="tick">{_e(lab)}</text>')
    out.append(f'<text x="{ml + pw / 2}" y="{height - 6}" text-anchor="middle" class="axis">{_e(xlabel)}</text>')
    if ylabel:
        out.append(f'<text x="14" y="{mt + ph / 2}" transform="rotate(-90 14 {mt + ph / 2})" '
                   f'text-anchor="middle" class="axis">{_e(ylabel)}</text>')
    if right_label:
        out.append(f'<text x="{width - 8}" y="{mt + ph / 2}" transform="rotate(90 {width - 8} {mt + ph / 2})" '
                   f'text-anchor="middle" class="axis">{_e(right_label)}</text>')
    for yv, lab in hlines:
        y = py(yv, ya)
        if y is not None:
            out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#888" '
                       f'stroke-dasharray="6 4"/><text x="{ml + 4}" y="{y - 3:.1f}" class="tick">{_e(lab)}</text>')
    for i, s in enumerate(series + (right or [])):
        ax = ya if i < len(series) else ra
        col = s.get("color") or PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="2 3"' if s.get("dash") else ""
        for seg in _segments([(px(x), py(y, ax)) for x, y in zip(s["x"], s["y"]) if x is not None]):
            if len(seg) == 1:
                out.append(f'<circle cx="{seg[0][0]:.1f}" cy="{seg[0][1]:.1f}" r="2" fill="{col}"/>')
            else:
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in seg)
                out.append(f'<polyline class="series" data-name="{_e(s["name"])}" fill="none" stroke="{col}" '
                           f'stroke-width="1.5"{dash} points="{pts}"/>')
    for j, (xv, lab, col) in enumerate(markers):
        x = px(xv)
        if x is None:
            continue
        near_right = x > ml + 0.75 * pw
        tx, anchor = (x - 3, "end") if near_right else (x + 3, "start")
        out.append(f'<g class="marker"><title>{_e(lab)} (step {_e(fmt(xv))})</title>'
                   f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + ph}" stroke="{col}" stroke-width="1.5" '
                   f'stroke-dasharray="4 3"/><text x="{tx:.1f}" y="{mt + 12 + 12 * (j % 4)}" class="mlabel" '
                   f'text-anchor="{anchor}" fill="{col}">{_e(lab)}</text></g>')
    for r, row in enumerate(rows if names else []):
        y = 10 + 16 * r
        for x0, (name, col, dash) in row:
            lx = ml + x0
            d = ' stroke-dasharray="2 3"' if dash else ""
            out.append(f'<line x1="{lx}" x2="{lx + 16}" y1="{y}" y2="{y}" stroke="{col}" stroke-width="2"{d}/>'
                       f'<text x="{lx + 20}" y="{y + 4}" class="legend">{_e(str(name)[:40])}</text>')
    out.append("</svg>")
    return "".join(out)


def _segments(points):
    seg: list[tuple[float, float]] = []
    for p in points:
        if p[0] is None or p[1] is None:
            if seg:
                yield seg
            seg = []
        else:
            seg.append(p)
    if seg:
        yield seg


def heatmap(rows: Sequence[str], cols: Sequence[float], values: Sequence[Sequence[float | None]], *,
            log: bool = True, vmin: float | None = None, vmax: float | None = None, width: int = 860,
            row_height: int = 14, xlabel: str = "step", value_label: str = "", markers=(),
            chart_id: str = "") -> str:
    """rows x cols cells coloured by value (log10 scale by default); missing values are light grey.
    More than ``MAX_COLS`` columns are merged (each keeps its largest value): a cell is then still
    over a pixel wide."""
    if len(cols) > MAX_COLS:
        cols, values = _merge_columns(cols, values, MAX_COLS)
    label_w = min(260, 40 + 7 * max((len(str(r)) for r in rows), default=4))
    ml, mr, mt, mb = label_w, 70, 10, 40
    pw = width - ml - mr
    rh = max(4, min(row_height, 600 // max(len(rows), 1)))
    rh = max(rh, min(28, -(-56 // max(len(rows), 1))))   # a few rows: tall enough for the colour bar
    ph = rh * len(rows)
    height = mt + ph + mb
    flat = [v for r in values for v in r if v is not None and math.isfinite(v) and (v > 0 or not log)]
    tr = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo = tr(vmin) if vmin is not None else (min(map(tr, flat)) if flat else 0.0)
    hi = tr(vmax) if vmax is not None else (max(map(tr, flat)) if flat else 1.0)
    if hi - lo < 1e-12:
        hi = lo + 1.0
    n = len(cols)
    cw = pw / max(n, 1)
    out = [f'<svg class="chart heatmap" id="{_e(chart_id)}" xmlns="http://www.w3.org/2000/svg" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, (name, row) in enumerate(zip(rows, values)):
        y = mt + i * rh
        out.append(f'<text x="{ml - 6}" y="{y + rh - 3}" text-anchor="end" class="rowlabel">{_e(name)}</text>')
        j = 0
        while j < n:  # one rect per run of equal colour level
            v = row[j] if j < len(row) else None
            level = _level(v, tr, lo, hi, log)
            k = j + 1
            while k < n and _level(row[k] if k < len(row) else None, tr, lo, hi, log) == level:
                k += 1
            fill = _MISSING if level is None else _ZERO if level == -1 else color(level / (_LEVELS - 1))
            seg = [x for x in row[j:k] if x is not None]
            tip = (f"{name} | {xlabel} {fmt(cols[j])}" + (f"–{fmt(cols[k - 1])}" if k - 1 > j else "")
                   + f" | {value_label} " + (fmt(max(seg)) if seg else "n/a"))
            out.append(f'<rect class="cell" x="{ml + j * cw:.2f}" y="{y}" width="{(k - j) * cw + 0.3:.2f}" '
                       f'height="{rh}" fill="{fill}"><title>{_e(tip)}</title></rect>')
            j = k
    for t in _ticks(cols[0], cols[-1]) if n > 1 else []:
        x = ml + (t - cols[0]) / (cols[-1] - cols[0]) * pw
        out.append(f'<text x="{x:.1f}" y="{mt + ph + 16}" text-anchor="middle" class="tick">{_e(fmt(t))}</text>')
    out.append(f'<text x="{ml + pw / 2}" y="{height - 6}" text-anchor="middle" class="axis">{_e(xlabel)}</text>')
    for xv, lab, col in markers:
        if n > 1 and cols[0] <= xv <= cols[-1]:
            x = ml + (xv - cols[0]) / (cols[-1] - cols[0]) * pw
            out.append(f'<g class="marker"><title>{_e(lab)}</title><line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" '
                       f'y2="{mt + ph}" stroke="{col}" stroke-width="1.5" stroke-dasharray="4 3"/></g>')
    # colour bar
    bx = ml + pw + 14
    for q in range(_LEVELS):
        yq = mt + ph - (q + 1) * ph / _LEVELS
        out.append(f'<rect x="{bx}" y="{yq:.2f}" width="12" height="{ph / _LEVELS + 0.3:.2f}" '
                   f'fill="{color(q / (_LEVELS - 1))}"/>')
    top = f"1e{hi:.1f}" if log else fmt(hi)
    bot = f"1e{lo:.1f}" if log else fmt(lo)
    out.append(f'<text x="{bx + 15}" y="{mt + 9}" class="tick">{_e(top)}</text>'
               f'<text x="{bx + 15}" y="{mt + ph}" class="tick">{_e(bot)}</text>')
    if log:
        out.append(f'<rect x="{bx}" y="{mt + ph + 8}" width="12" height="10" fill="{_ZERO}"/>'
                   f'<text x="{bx + 15}" y="{mt + ph + 17}" class="tick">0</text>'
                   f'<rect x="{bx}" y="{mt + ph + 22}" width="12" height="10" fill="{_MISSING}"/>'
                   f'<text x="{bx + 15}" y="{mt + ph + 31}" class="tick">n/a</text>')
    out.append("</svg>")
    return "".join(out)


def _merge_columns(cols, values, k):
    n = len(cols)
    edges = [round(i * n / k) for i in range(k + 1)]
    new_cols = [cols[max(edges[i + 1], edges[i] + 1) - 1] for i in range(k)]
    new_vals = []
    for row in values:
        out = []
        for i in range(k):
            seg = [v for v in row[edges[i]:max(edges[i + 1], edges[i] + 1)] if v is not None]
            out.append(max(seg) if seg else None)
        new_vals.append(out)
    return new_cols, new_vals


def _level(v, tr, lo, hi, log) -> int | None:
    """Colour level 0.._LEVELS-1; -1: exactly zero on a log scale (a dead layer's gradient); None: missing."""
    if v is None or not math.isfinite(v) or (log and v < 0):
        return None
    if log and v == 0:
        return -1
    t = (tr(v) - lo) / (hi - lo)
    return int(round(min(max(t, 0.0), 1.0) * (_LEVELS - 1)))
