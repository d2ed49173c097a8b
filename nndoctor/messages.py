"""A finding's one-sentence summary as a message: an id and plain parameters, rendered in a language.

A rule writes ``msg("vanishing-gradient", first=..., ratio=..., ...)`` where it used to write an
f-string. The English template (``MESSAGES[id][0]``) gives the ``summary`` the JSON report has always
held, byte for byte; the id and the parameters travel beside it (the report's ``message`` and
``params`` fields), so a report, live or loaded from JSON, can be shown in Chinese
(``MESSAGES[id][1]``).

Parameters are plain JSON values (numbers keep their format spec in the template: ``{lr:g}``), or
fragments: a nested message (``msg(...)``) or a list of them joined (``join([...], "; ")``), each
rendered in the same language. Where the Chinese template, a fragment or a parameter is missing or
does not fit, the English summary is shown: never half a sentence in each language.
"""
from __future__ import annotations

import math
import string
from typing import Any

from .messages_catalogue import MESSAGES

JOIN = "_join"
# the separators a list of fragments uses in English, and in Chinese
SEPARATORS = {", ": "，", "; ": "；", "": ""}


class Msg:
    """A message id with its parameters (values, or nested Msg fragments)."""

    __slots__ = ("id", "params")

    def __init__(self, id: str, **params: Any) -> None:
        if id != JOIN and id not in MESSAGES:
            raise KeyError(f"unknown message id {id!r}")
        self.id = id
        self.params = params

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.id, "params": _plain(self.params)}

    def render(self, lang: str = "en") -> str:
        return render(self.id, _plain(self.params), lang)

    def __str__(self) -> str:
        try:   # the English summary a rule builds at every evaluation: str.format_map, in C
            return _english(self)
        except Exception:  # (a value or template the fast path does not take: the general renderer says why)
            return self.render("en")

    def __repr__(self) -> str:
        return f"Msg({self.id!r}, **{self.params!r})"


def msg(id: str, **params: Any) -> Msg:
    return Msg(id, **params)


def join(items, sep: str = ", ") -> Msg:
    """Fragments (Msg) joined with ``sep`` (``", "`` or ``"; "`` in English; the Chinese comma or
    semicolon in Chinese)."""
    return Msg(JOIN, items=list(items), sep=sep)


def _plain(v: Any) -> Any:
    """Parameters as JSON-able data: fragments become {"message", "params"}; NaN/Inf become strings."""
    if isinstance(v, Msg):
        return v.to_dict()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and callable(v.item) and getattr(v, "ndim", 1) == 0:
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


_NON_FINITE = ("nan", "inf", "-inf")


def _english(m: Msg) -> str:
    """``render(m.id, _plain(m.params), "en")``, the same text, without string.Formatter's Python-level
    parsing (~40 us a message: an active finding's summary is rebuilt at every evaluation). A non-finite
    number stays a float, which formats as the string "nan"/"inf" that ``_plain`` makes of it would
    under ``_Formatter``; nested messages are rendered the same way."""
    if m.id == JOIN:
        sep = m.params.get("sep", ", ")
        return sep.join(_english(x) if isinstance(x, Msg) else _value(_plain(x), "en") for x in m.params["items"])
    values = {}
    for k, v in m.params.items():
        if isinstance(v, Msg):
            values[k] = _english(v)
            continue
        pv = _plain(v)
        if isinstance(pv, str) and pv in _NON_FINITE and not isinstance(v, str):
            pv = float(pv)
        elif _is_fragment(pv):
            pv = _value(pv, "en")
        values[k] = pv
    return MESSAGES[m.id][0].format_map(values)


def _is_fragment(v: Any) -> bool:
    return isinstance(v, dict) and "message" in v and isinstance(v.get("params", {}), dict)


class _Formatter(string.Formatter):
    def format_field(self, value: Any, spec: str) -> str:
        # a number that went through JSON as "nan"/"inf" formats as the float it was
        if spec and isinstance(value, str) and value in ("nan", "inf", "-inf"):
            value = float(value)
        return super().format_field(value, spec)


_FMT = _Formatter()


def render(id: str, params: dict[str, Any], lang: str = "en") -> str:
    """The message in ``lang`` (``en``/``zh``). Raises KeyError/ValueError/IndexError where a template
    or a parameter is missing or does not fit; :func:`summary_in` turns that into the English text."""
    if id == JOIN:
        sep = params.get("sep", ", ")
        if lang != "en":
            sep = SEPARATORS[sep]
        return sep.join(_value(x, lang) for x in params["items"])
    en, zh = MESSAGES[id]
    template = en if lang == "en" else zh
    if template is None:
        raise KeyError(f"no {lang} template for {id}")
    values = {k: _value(v, lang) if _is_fragment(v) else v for k, v in params.items()}
    return _FMT.vformat(template, (), values)


def _value(v: Any, lang: str) -> str:
    if _is_fragment(v):
        return render(v["message"], v.get("params", {}), lang)
    return str(v)


def fields(template: str) -> set[str]:
    """The parameter names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def summary_in(finding, lang: str) -> str:
    """A finding's summary in ``lang``: its message rendered there, else its English summary."""
    message = getattr(finding, "message", None)
    if lang == "en" or not message:
        return finding.summary
    try:
        return render(message, getattr(finding, "params", None) or {}, lang)
    except (KeyError, ValueError, IndexError, TypeError, AttributeError):
        return finding.summary
