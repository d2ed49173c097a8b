"""What a training script calls to take part in a tuning trial, and is harmless outside one:

    lr = nndoctor.param("lr", 1e-3)          # the trial's value, or the default when not tuning
    nndoctor.report_metric(val_loss)          # the objective (the last value reported counts)
"""
from __future__ import annotations

import json
import os
from typing import Any

ENV = "NNDOCTOR_TUNE_PARAMS"
_current: dict[str, Any] | None = None     # set in a trial process
_metric_sink = None                         # callable(value, step) set in a trial process
_read: set[str] = set()                     # the names the script asked for in this trial process


def param(name: str, default: Any = None) -> Any:
    """The value of hyperparameter ``name`` in the running trial (``nndoctor tune``), else ``default``.
    The value is converted to the default's type when there is one (``int`` batch sizes stay ints)."""
    params = _current if _current is not None else _env_params()
    if name not in params:
        return default
    _read.add(name)
    v = params[name]
    if default is not None and not isinstance(default, bool) and isinstance(default, (int, float)) \
            and isinstance(v, (int, float)):
        return type(default)(v)
    return v


def params() -> dict[str, Any]:
    """All of the running trial's hyperparameters (empty when not tuning)."""
    _read.update(_current if _current is not None else _env_params())
    return dict(_current if _current is not None else _env_params())


def report_metric(value: float, step: int | None = None) -> None:
    """The objective's value so far (e.g. the validation loss after an epoch). The last value is the
    trial's result; each one also goes to Optuna's pruner (median pruner) as an intermediate value."""
    if _metric_sink is not None:
        _metric_sink(float(value), step)


def _env_params() -> dict[str, Any]:
    raw = os.environ.get(ENV)
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {}
