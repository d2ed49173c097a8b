"""The diagnosis registry: one entry per code, carrying its docs, its remedies and its rule.

Like a linter's rule registry: a user who sees a code finds everything about it in one place
(``nndoctor explain CODE``), and the reference docs (docs/diagnoses.md) are generated from here.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable

from ..findings import Finding
from ..messages import Msg
from .. import remedies as _remedies


# names of the user's objects (their variable names) used to fill remedy snippets; set by the doctor
# around rule evaluation, so every snippet speaks of `net` and `opt` if that is what the code calls them
SNIPPET_NAMES: ContextVar[dict[str, Any]] = ContextVar("SNIPPET_NAMES", default={})


@dataclass
class Diagnosis:
    code: str
    title: str
    family: str                 # gradients, code, activations, init, lr, batch, data, loss, other
    guide: str                  # the guide's heading (Chinese) this code implements, or ""
    what: str                   # what it means
    why: str                    # why it breaks training (the guide's reason)
    evidence: tuple[str, ...]   # the evidence fields a finding carries
    remedies: tuple[str, ...]   # remedy ids, best first (see nndoctor.remedies)
    traps: tuple[str, ...] = ()  # healthy patterns that must not raise it
    thresholds: tuple[str, ...] = ()  # each threshold and why it is what it is
    rule: Callable[..., list[Finding]] | None = field(default=None, repr=False)

    def finding(self, severity: str, summary: str | Msg, *, step: int | None, where: list[str],
                evidence: dict[str, Any], remedy_ids: list[str] | None = None,
                context: dict[str, Any] | None = None, detail: str = "", key: str | None = None) -> Finding:
        """Build a Finding for this code with its remedies rendered for the context. ``summary`` is
        a message (nndoctor.messages.msg), or plain English text that no report translates."""
        ids = list(remedy_ids) if remedy_ids is not None else list(self.remedies)
        message = summary if isinstance(summary, Msg) else None
        return Finding(code=self.code, severity=severity, summary=str(summary), step=step,
                       where=list(where), evidence=evidence,
                       remedies=_remedies.render(ids, **{**SNIPPET_NAMES.get(), **(context or {})}),
                       detail=detail, key=key, message=message.id if message else None,
                       params=message.to_dict()["params"] if message else {})


REGISTRY: dict[str, Diagnosis] = {}


def register(diagnosis: Diagnosis) -> Diagnosis:
    if diagnosis.code in REGISTRY:
        raise ValueError(f"duplicate diagnosis code {diagnosis.code}")
    for rid in diagnosis.remedies:
        if rid not in _remedies.CATALOGUE:
            raise ValueError(f"{diagnosis.code}: unknown remedy {rid}")
    REGISTRY[diagnosis.code] = diagnosis
    return diagnosis


def rule(code: str):
    """Decorator attaching a rule function (signals -> findings) to a registered code."""
    def deco(fn):
        REGISTRY[code].rule = fn
        return fn
    return deco


def get(code: str) -> Diagnosis:
    try:
        return REGISTRY[code]
    except KeyError:
        raise KeyError(f"unknown diagnosis code {code!r}; known: {', '.join(sorted(REGISTRY))}") from None
