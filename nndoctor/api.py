"""The small public face: ``watch`` and ``explain``."""
from __future__ import annotations

from typing import Callable

from .doctor import Doctor
from .findings import Finding


def watch(model=None, optimizer=None, *, every: int = 20,
          on_finding: Callable[[Finding], None] | None = None, run_dir=None, live: bool = False,
          lang: str | None = None, repair: bool = False) -> Doctor:
    """Watch the training of ``model`` (a module or a list of modules) by ``optimizer`` (one, a list,
    or None to discover the optimizers that step the model's parameters).

    Starts watching immediately and returns the :class:`Doctor`; use it as a context manager or call
    ``doctor.close()`` when training ends. Nothing in the loop has to change: steps are seen through
    optimizer hooks, backward passes through autograd.

    ``every``: the cadence (in optimizer steps) at which statistics are moved from the device to the
    host and judged. ``on_finding``: called once per new finding, as soon as it is established.
    ``run_dir``: a folder where ``close()`` keeps the run (report.json, signals.npz, meta.json) for
    ``nndoctor report`` / ``nndoctor compare``; nothing is written without it. ``live``: show a live
    view (step, loss, lr, findings so far; rich in a terminal, an updating display in Jupyter),
    refreshed at the flush cadence. ``lang``: ``"en"`` or ``"zh"`` for the report and the live view
    (default: ``NNDOCTOR_LANG``).
    ``repair``: apply the remedies that have a live form to the model and optimizer as findings
    appear, keep what helps, roll back what hurts (see ``report().repairs``); a healthy run is
    unchanged.
    """
    import sys

    from .i18n import get_lang

    lang = get_lang(lang) if lang else None  # a bad value fails here, before training starts
    doctor = Doctor(model, optimizer, every=every, on_finding=on_finding, run_dir=run_dir,
                    repair=repair)
    doctor.var_names = _caller_names(model, optimizer)
    doctor.lang = lang
    from .report.rundir import versions

    doctor.run_meta.update(script=sys.argv[0] if sys.argv and sys.argv[0] else None, argv=list(sys.argv[1:]),
                           **versions())
    if live:
        from .report.live import LiveView

        LiveView(lang=lang).attach(doctor)
    return doctor.start()


def close_all() -> list:
    """Close every doctor still open in this process (e.g. those a re-run notebook cell left behind);
    returns their reports."""
    from .probes import tap

    return [d.close() for d in tap.active() if isinstance(d, Doctor)]


def _caller_names(model, optimizer) -> dict[str, str]:
    """The expressions the caller passed as model and optimizer (``net``, ``self.opt``...), read from
    the source of the ``watch(...)`` call, so remedy snippets can be pasted as they are. (Reading
    the caller's locals instead would keep them alive on Python < 3.13.)"""
    import ast
    import linecache
    import sys

    out: dict[str, str] = {}
    try:
        frame = sys._getframe(2)
        path, line = frame.f_code.co_filename, frame.f_lineno
    except (ValueError, AttributeError):  # pragma: no cover
        return out
    src = ""
    for extra in range(6):  # a call may span several lines
        src += linecache.getline(path, line + extra)
        try:
            tree = ast.parse(src.strip())
            break
        except SyntaxError:
            continue
    else:
        return out
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (getattr(node.func, "attr", None) == "watch"
                                           or getattr(node.func, "id", None) == "watch"):
            args = list(node.args) + [None] * 2
            kw = {k.arg: k.value for k in node.keywords}
            for key, expr in (("model", kw.get("model", args[0])), ("optimizer", kw.get("optimizer", args[1]))):
                if isinstance(expr, (ast.Name, ast.Attribute)):
                    out[key] = ast.unparse(expr)
            break
    return out


def checkup(model, loader_or_batch, loss_fn, optimizer=None, **kwargs):
    """Pre-flight check-up on copies of ``model`` and ``optimizer`` (see :mod:`nndoctor.checkup`):
    data, loss vs task, initialization, gradient flow, one-batch overfit, LR range test and batch-size
    finder, in seconds. Returns a :class:`Report`; its ``checkup`` dict holds the measurements."""
    from .preflight import checkup as _checkup

    return _checkup(model, loader_or_batch, loss_fn, optimizer, **kwargs)


def explain(code: str, lang: str | None = None) -> str:
    """The registry's documentation of a diagnosis code, as text (``lang``: "en" or "zh")."""
    from .report.terminal import explain_text

    return explain_text(code, lang=lang)
