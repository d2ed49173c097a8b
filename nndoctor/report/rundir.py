"""A run folder: what a watched run leaves behind so its report can be re-rendered and compared.

    RUN_DIR/report.json   the JSON report (schema "nndoctor.report/1", as `--json` writes it)
    RUN_DIR/signals.npz   the plot series (Doctor.export_signals): every numeric list as an array,
                          the structure as JSON in the `__index__` entry (loads with allow_pickle=False)
    RUN_DIR/meta.json     script, argv, exit code, start/end time, versions (nndoctor, torch, python)

Embedded files, no server. Nothing is written unless a run folder is asked for
(``watch(..., run_dir=...)``, ``nndoctor run --run-dir DIR``, ``report.save(DIR)``).
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..findings import Report, _jsonable

FILES = ("report.json", "signals.npz", "meta.json")


def _is_numbers(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(
        x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)) for x in v)


def _pack(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, dict):
        return {str(k): _pack(v, arrays) for k, v in obj.items()}
    if _is_numbers(obj):
        name = f"a{len(arrays)}"
        arrays[name] = np.array([np.nan if x is None else float(x) for x in obj], dtype=np.float64)
        return {"__array__": name}
    if isinstance(obj, list) and obj and all(_is_numbers(r) for r in obj) and len({len(r) for r in obj}) == 1:
        name = f"a{len(arrays)}"
        arrays[name] = np.array([[np.nan if x is None else float(x) for x in r] for r in obj], dtype=np.float64)
        return {"__array__": name}
    if isinstance(obj, list):
        return [_pack(v, arrays) for v in obj]
    return _jsonable(obj)


def _unpack(obj: Any, arrays) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            a = np.asarray(arrays[obj["__array__"]], dtype=np.float64)
            if a.ndim == 2:
                return [[None if not math.isfinite(x) else float(x) for x in r] for r in a.tolist()]
            return [None if not math.isfinite(x) else float(x) for x in a.tolist()]
        return {k: _unpack(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unpack(v, arrays) for v in obj]
    return obj


def versions() -> dict[str, str]:
    from .. import __version__

    out = {"nndoctor": __version__, "python": platform.python_version(), "numpy": np.__version__}
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = getattr(torch, "__version__", "?")
    return out


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_run(run_dir, report: Report, meta: dict[str, Any] | None = None) -> Path:
    """Write report.json, signals.npz and meta.json into ``run_dir`` (created if needed; files of
    an earlier run there are replaced)."""
    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    m = {**versions(), **(report.meta or {}), **(meta or {})}
    if report.lang:
        m["lang"] = report.lang   # `nndoctor report DIR` renders in the run's language unless told
    m.setdefault("argv", list(sys.argv))
    m.setdefault("saved", time.time())
    _write(d / "report.json", report.to_json().encode())
    arrays: dict[str, np.ndarray] = {}
    index = _pack(report.signals or {}, arrays)
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, __index__=np.array(json.dumps(index, allow_nan=False)), **arrays)
    _write(d / "signals.npz", buf.getvalue())
    _write(d / "meta.json", json.dumps(_jsonable(m), indent=2, allow_nan=False).encode())
    return d


def load_run(run_dir) -> Report:
    """The report kept in ``run_dir``, with its signals and meta."""
    d = Path(run_dir)
    if not (d / "report.json").is_file():
        if not d.exists():
            raise FileNotFoundError(f"no such run folder: {d}")
        raise FileNotFoundError(f"{d} is not an nndoctor run folder (no report.json; a run folder is written by "
                                f"`nndoctor run --run-dir DIR` or `watch(..., run_dir=DIR)`)")
    report = Report.from_json((d / "report.json").read_text(encoding="utf-8"))
    if (d / "signals.npz").is_file():
        with np.load(d / "signals.npz", allow_pickle=False) as z:
            index = json.loads(str(z["__index__"]))
            report.signals = _unpack(index, z)
    if (d / "meta.json").is_file():
        report.meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        if report.meta.get("lang") in ("en", "zh"):
            report.lang = report.meta["lang"]
    return report


# --- comparing two runs --------------------------------------------------------------------------
def compare_rows(a: Report, b: Report, lang: str | None = None) -> list[dict[str, Any]]:
    """Rows of a comparison table: run size, losses, then each code with its severity in A and B and
    whether it appeared, cleared or is in both."""
    from ..i18n import t
    from .svg import fmt

    def ls(r: Report, k: str):
        v = ((r.signals or {}).get("loss_summary") or {}).get(k)
        return fmt(v) if v is not None else "–"

    rows = [{"label": t("steps_label", lang), "a": a.steps, "b": b.steps, "kind": "run"},
            {"label": t("backward_label", lang), "a": a.backward_passes, "b": b.backward_passes, "kind": "run"},
            {"label": t("final_loss", lang), "a": ls(a, "final"), "b": ls(b, "final"), "kind": "loss"},
            {"label": t("best_loss", lang), "a": ls(a, "best"), "b": ls(b, "best"), "kind": "loss"}]
    sev_a, sev_b = _severities(a), _severities(b)
    for code in sorted(set(sev_a) | set(sev_b), key=lambda c: (min(_rank(sev_a.get(c)), _rank(sev_b.get(c))), c)):
        sa, sb = sev_a.get(code), sev_b.get(code)
        status = "persisting" if sa and sb else ("appeared" if sb else "cleared")
        rows.append({"label": code, "a": t("severity." + sa, lang).lower() if sa else "–",
                     "b": t("severity." + sb, lang).lower() if sb else "–", "kind": "code", "status": status,
                     "status_text": t(status, lang)})
    return rows


def _severities(r: Report) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in r.findings:
        if f.code not in out or _rank(f.severity) < _rank(out[f.code]):
            out[f.code] = f.severity
    return out


def _rank(sev: str | None) -> int:
    return {"error": 0, "warning": 1, "info": 2}.get(sev or "", 3)
