"""Search spaces written on the command line: ``NAME=KIND:ARGS``.

    lr=loguniform:1e-5:1e-1      a float, log-uniform between the bounds
    dropout=uniform:0:0.5        a float, uniform
    width=int:32:512             an integer (int:32:512:log for log-uniform)
    batch_size=choice:16,32,64   one of the values (numbers are parsed as numbers)
    optimizer=choice:sgd,adam
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("loguniform", "uniform", "int", "choice")


@dataclass
class Param:
    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None

    def suggest(self, trial) -> Any:
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def grid(self, points: int) -> list:
        if self.kind == "choice":
            return list(self.choices)
        if self.log:
            vals = np.geomspace(self.low, self.high, points)
        else:
            vals = np.linspace(self.low, self.high, points)
        if self.kind == "int":
            return sorted({int(round(v)) for v in vals})
        return [float(f"{v:.6g}") for v in vals]


def _number(s: str) -> Any:
    for t in (int, float):
        try:
            return t(s)
        except ValueError:
            pass
    return s


def parse_param(text: str) -> Param:
    if "=" not in text or ":" not in text:
        raise ValueError(f"--param {text!r}: expected NAME=KIND:ARGS, e.g. lr=loguniform:1e-5:1e-1 or "
                         "batch_size=choice:16,32,64")
    name, spec = text.split("=", 1)
    kind, _, rest = spec.partition(":")
    name, kind = name.strip(), kind.strip().lower()
    if not name.isidentifier():
        raise ValueError(f"--param {text!r}: {name!r} is not a valid name")
    if kind == "choice":
        vals = tuple(_number(v.strip()) for v in rest.split(",") if v.strip())
        if not vals:
            raise ValueError(f"--param {text!r}: choice needs values")
        return Param(name, kind, choices=vals)
    if kind not in KINDS:
        raise ValueError(f"--param {text!r}: kind must be one of {', '.join(KINDS)}")
    parts = rest.split(":")
    try:
        low, high = float(parts[0]), float(parts[1])
    except (ValueError, IndexError):
        raise ValueError(f"--param {text!r}: expected {kind}:LOW:HIGH") from None
    if not low < high:
        raise ValueError(f"--param {text!r}: LOW must be below HIGH")
    log = kind == "loguniform" or (len(parts) > 2 and parts[2] == "log")
    if log and low <= 0:
        raise ValueError(f"--param {text!r}: a log scale needs LOW > 0")
    return Param(name, "float" if kind in ("loguniform", "uniform") else "int", low, high, log)


def parse_space(items: list[str]) -> list[Param]:
    space = [parse_param(t) for t in items]
    names = [p.name for p in space]
    if len(set(names)) != len(names):
        raise ValueError("a --param name is given twice")
    return space
