"""A live view of a watched run: step, loss, learning rate and the findings so far.

It is refreshed from the doctor's flush (every ``every`` steps at most, and under the flush's own
time budget), never per step, and redrawn at most 4 times a second; it reads numbers already on
the host, so it adds no device sync. In a terminal it is a rich ``Live`` panel on stderr (on a
non-terminal stderr only the final state is printed); in Jupyter an updating display (IPython's
display handle), when IPython is importable.
"""
from __future__ import annotations

import math
import time
from html import escape
from typing import Any

from ..i18n import code_title, get_lang, t

_MIN_INTERVAL = 0.25


def in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def state(doctor) -> dict[str, Any]:
    """What the view shows, from host-side data only."""
    st = doctor.store
    out: dict[str, Any] = {"step": doctor.step, "backward": doctor.n_backward, "loss": None, "best": None, "lr": {}}
    if "loss" in st:
        v = st["loss"].array()
        fin = v[[math.isfinite(x) for x in v]] if len(v) else v
        out["loss"] = float(v[-1]) if len(v) else None
        out["best"] = float(fin.min()) if len(fin) else None
    names = {str(o["key"]): o.get("name", "") for o in st.facts.get("optimizers", [])}
    for name, s in list(st.series.items()):
        if name.startswith("lr/") and len(s):
            out["lr"][names.get(name[3:], name[3:])] = float(s.array()[-1])
    out["findings"] = [(f.code, f.severity, f.step) for f in list(doctor._findings.values())]
    return out


class LiveView:
    def __init__(self, lang: str | None = None, console=None, notebook: bool | None = None) -> None:
        self.lang = get_lang(lang)
        self.notebook = in_notebook() if notebook is None else notebook
        self._console = console
        self._live = None
        self._handle = None
        self._last = 0.0
        self.updates = 0   # how many times the view was redrawn

    def attach(self, doctor) -> "LiveView":
        doctor.add_flush_callback(self.update)
        return self

    def update(self, doctor) -> None:
        final = bool(getattr(doctor, "_closed", False))
        now = time.perf_counter()
        if not final and now - self._last < _MIN_INTERVAL:
            return
        self._last = now
        s = state(doctor)
        self.updates += 1
        if self.notebook:
            self._update_notebook(s)
        else:
            self._update_terminal(s, final)

    # -- terminal --------------------------------------------------------------------------
    def renderable(self, s: dict[str, Any]):
        from rich.panel import Panel
        from rich.table import Table

        tab = Table.grid(padding=(0, 2))
        tab.add_column(style="bold")
        tab.add_column()
        tab.add_row(t("step", self.lang), f"{s['step']}  ({t('backward_n', self.lang, n=s['backward'])})")
        if s["loss"] is not None:
            tab.add_row(t("loss", self.lang), f"{_f(s['loss'])}  ({t('best', self.lang)} {_f(s['best'])})")
        for name, lr in s["lr"].items():
            tab.add_row(t("lr", self.lang), f"{_f(lr)}  {name}")
        found = s["findings"]
        if found:
            for code, sev, step in found[:8]:
                style = {"error": "bold red", "warning": "bold yellow"}.get(sev, "cyan")
                tab.add_row(f"[{style}]{t('severity.' + sev, self.lang)}[/]",
                            f"{code} ({t('step', self.lang)} {step}) — {code_title(code, self.lang)}")
        else:
            tab.add_row(t("findings_so_far", self.lang), t("none_yet", self.lang))
        return Panel(tab, title=t("live_title", self.lang), title_align="left")

    def _update_terminal(self, s: dict[str, Any], final: bool) -> None:
        from rich.console import Console
        from rich.live import Live

        if self._live is None:
            self._console = self._console or Console(stderr=True)
            self._live = Live(self.renderable(s), console=self._console, auto_refresh=False,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        self._live.update(self.renderable(s), refresh=True)
        if final:
            self._live.stop()
            self._live = None
            if not self._console.is_terminal:  # the final frame was printed without a line end
                self._console.line()

    # -- notebook --------------------------------------------------------------------------
    def html(self, s: dict[str, Any]) -> str:
        rows = [f"<tr><td><b>{escape(t('step', self.lang))}</b></td><td>{s['step']} "
                f"({escape(t('backward_n', self.lang, n=s['backward']))})</td></tr>"]
        if s["loss"] is not None:
            rows.append(f"<tr><td><b>{escape(t('loss', self.lang))}</b></td><td>{_f(s['loss'])} "
                        f"({escape(t('best', self.lang))} {_f(s['best'])})</td></tr>")
        for name, lr in s["lr"].items():
            rows.append(f"<tr><td><b>{escape(t('lr', self.lang))}</b></td><td>{_f(lr)} {escape(name)}</td></tr>")
        for code, sev, step in s["findings"][:8]:
            rows.append(f"<tr><td><b>{escape(t('severity.' + sev, self.lang))}</b></td><td>{escape(code)} "
                        f"({escape(t('step', self.lang))} {step}) — "
                        f"{escape(code_title(code, self.lang))}</td></tr>")
        return f"<div><b>{escape(t('live_title', self.lang))}</b><table>{''.join(rows)}</table></div>"

    def _update_notebook(self, s: dict[str, Any]) -> None:
        from IPython.display import HTML, display  # type: ignore

        if self._handle is None:
            self._handle = display(HTML(self.html(s)), display_id=True)
        else:
            self._handle.update(HTML(self.html(s)))


def _f(v) -> str:
    if v is None:
        return "–"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3e}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5) else f"{v:.4g}"
