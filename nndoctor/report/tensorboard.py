"""TensorBoard export of a report's signals and findings (the optional ``tensorboard`` extra).

Scalars: ``loss``, ``val_loss/<site>``, ``lr/<optimizer>``, ``grad_norm/<layer>``,
``update_ratio/<layer>``, ``dead/<layer>``, ``saturated/<layer>``; text: ``findings`` (all of them,
as a markdown table) and ``findings/<code>`` at the step each was established. Written through
``torch.utils.tensorboard.SummaryWriter``; the series are the report's (binned, at most a few
hundred points each).
"""
from __future__ import annotations

from pathlib import Path

from ..findings import Report


def _writer(logdir):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:  # the tensorboard package is missing
        raise ImportError("TensorBoard export needs the tensorboard package: pip install 'nndoctor[tensorboard]'") from e
    return SummaryWriter(log_dir=str(logdir))


def _tag(s: str) -> str:
    return "".join(c if c.isalnum() or c in "._-/" else "_" for c in str(s))[:120] or "_"


def write_tensorboard(report: Report, logdir) -> Path:
    w = _writer(logdir)
    try:
        s = report.signals or {}

        def scalars(tag: str, xs, ys) -> None:
            for x, y in zip(xs, ys):
                if x is not None and y is not None:
                    w.add_scalar(tag, y, int(round(x)))

        if s.get("loss"):
            scalars("loss", s["loss"]["step"], s["loss"]["value"])
        for name, v in (s.get("val_loss") or {}).items():
            scalars(f"val_loss/{_tag(name)}", v["step"], v["value"])
        for name, v in (s.get("lr") or {}).items():
            scalars(f"lr/{_tag(name)}", v["step"], v["value"])
        for key in ("grad_norm", "update_ratio", "dead", "saturated"):
            m = s.get(key) or {}
            for layer, row in zip(m.get("layers", []), m.get("value", [])):
                scalars(f"{key}/{_tag(layer)}", m["step"], row)
        rows = ["| code | severity | step | where | summary |", "|---|---|---|---|---|"]
        for f in report.findings:
            where = ", ".join(f.where[:6]).replace("|", "\\|")
            summary = f.summary.replace("|", "\\|").replace("\n", " ")
            rows.append(f"| {f.code} | {f.severity} | {f.step} | {where} | {summary} |")
            w.add_text(f"findings/{f.code}", f"**{f.severity}** at step {f.step}: {f.summary}\n\n"
                       + "\n".join(f"{i}. {r.title}" for i, r in enumerate(f.remedies, 1)),
                       int(f.step or 0))
        w.add_text("findings", "\n".join(rows) if report.findings else "no findings", int(report.steps))
    finally:
        w.close()
    return Path(logdir)
