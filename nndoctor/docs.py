"""Generate the diagnosis reference (docs/diagnoses.md) from the registry."""
from __future__ import annotations

from pathlib import Path

from . import remedies
from .diagnoses import REGISTRY


def reference_markdown() -> str:
    out = ["# nndoctor diagnosis reference", "",
           "Generated from the registry by `nndoctor docs`; do not edit by hand.", ""]
    for code, d in REGISTRY.items():
        out += [f"## `{code}`", "", f"**{d.title}** · family: {d.family}" + (f" · guide: {d.guide}" if d.guide else ""),
                "", d.what, "", f"*Why it matters:* {d.why}", "", "**Evidence:** " + "; ".join(d.evidence), ""]
        if d.traps:
            out += ["**Does not fire on:**", ""] + [f"- {t}" for t in d.traps] + [""]
        if d.thresholds:
            out += ["**Thresholds:**", ""] + [f"- {t}" for t in d.thresholds] + [""]
        out += ["**Remedies (best first):**", ""]
        for i, rid in enumerate(d.remedies, 1):
            r = remedies.CATALOGUE[rid].render()
            out += [f"{i}. {r.title}", "", "```python", r.snippet, "```", ""]
    return "\n".join(out)


def write_reference(path: str) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(reference_markdown())
    return p
