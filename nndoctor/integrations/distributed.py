"""One report for a multi-process job (``torchrun``, DDP, Lightning's ``ddp`` strategy).

Each rank runs its own doctor on its own share of the data: nndoctor never calls a collective in
the training path (a collective called at a different point on each rank is a deadlock, and a rank
that hits NaN takes a different code path). At the end, each rank puts its JSON report in the
process group's key-value store (the TCPStore that ``init_process_group`` set up -- a store, not a
collective, captured while the group is alive so a script's ``destroy_process_group()`` does not
take it away), and rank 0 waits for them with a timeout, merges them and shows the one report:
every finding with the ranks it occurred on, its worst severity and earliest step, and a line per
rank with its steps and losses. A rank that does not report in time (crashed, hung) is named in the
report instead of blocking rank 0 forever. Ranks > 0 stay quiet.

``NNDOCTOR_DIST_TIMEOUT`` (seconds, default 60) is how long rank 0 waits for the other ranks.
"""
from __future__ import annotations

import json
import math
import os
import time
from datetime import timedelta
from typing import Any

from ..findings import Finding, Report

DEFAULT_TIMEOUT = 60.0
_SEVERITY = {"info": 0, "warning": 1, "error": 2}
_sessions = 0   # exchanges started by this process: ranks run the same sessions in the same order


def rank_world() -> tuple[int, int]:
    """(rank, world size): from the process group if there is one, else torchrun's environment."""
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    except Exception:
        pass
    try:
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 0, 1


def _default_store():
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            from torch.distributed import distributed_c10d as c10d
            return c10d._get_default_store()
    except Exception:
        return None
    return None


class Exchange:
    """Watches for the process group (a cheap check per optimizer step until it is found), keeps its
    store and, at the end, exchanges the ranks' reports through it."""

    def __init__(self) -> None:
        self.store = None
        self.rank, self.world = rank_world()

    @classmethod
    def attach(cls, doctor) -> "Exchange":
        ex = cls()
        ex._capture()
        if ex.store is None and ex.world > 1:
            doctor.add_step_callback(ex._on_step)
        return ex

    def _on_step(self, step: int) -> None:
        if self.store is None:
            self._capture()

    def _capture(self) -> None:
        store = _default_store()
        if store is not None:
            self.store = store
            self.rank, self.world = rank_world()

    def merge(self, report: Report, doctor=None, timeout: float | None = None) -> Report | None:
        """Rank 0: the merged report of the job. Ranks > 0: None (their report went to rank 0)."""
        global _sessions
        if self.store is None:
            self._capture()
        if self.world <= 1:
            return report
        if self.store is None:
            report.notes.append(f"rank {self.rank} of {self.world}: no process group was found, so this "
                                "report covers this rank only")
            return report
        if timeout is None:
            try:
                timeout = float(os.environ.get("NNDOCTOR_DIST_TIMEOUT", DEFAULT_TIMEOUT))
            except ValueError:
                timeout = DEFAULT_TIMEOUT
        _sessions += 1
        prefix = f"nndoctor/{_sessions}/"
        payload = {"rank": self.rank, "report": json.loads(report.to_json()), "loss": loss_summary(doctor)}
        # every store operation is bounded by the same timeout: the store's own is the process group's
        # (30 min by default), so an unresponsive store would otherwise hold this rank, and the job, at
        # its exit for that long. The store's timeout is put back afterwards (it belongs to the script).
        restore = _bound_store(self.store, timeout)
        try:
            try:
                self.store.set(prefix + str(self.rank), json.dumps(payload))
            except Exception as exc:
                report.notes.append(f"rank {self.rank}: could not share the report with rank 0 "
                                    f"({type(exc).__name__}: {exc})")
                return report if self.rank == 0 else None
            if self.rank != 0:
                return None
            payloads, missing = {0: payload}, []
            deadline = time.monotonic() + timeout
            for r in range(1, self.world):
                left = deadline - time.monotonic()
                try:
                    if left <= 0:
                        raise TimeoutError
                    self.store.wait([prefix + str(r)], timedelta(seconds=left))
                    payloads[r] = json.loads(self.store.get(prefix + str(r)))
                except Exception:
                    missing.append(r)
        finally:
            restore()
        return merge_reports(payloads, self.world, missing, timeout)


def _bound_store(store, timeout: float):
    """Set the store's timeout to ``timeout`` seconds; returns the function that puts the old one back."""
    try:
        old = store.timeout
        store.set_timeout(timedelta(seconds=max(1.0, timeout)))
    except Exception:   # a store without a settable timeout: its own applies
        return lambda: None

    def restore() -> None:
        try:
            store.set_timeout(old)
        except Exception:
            pass
    return restore


def loss_summary(doctor) -> dict[str, Any]:
    if doctor is None:
        return {}
    try:
        import numpy as np
        vals = doctor.store["loss"].array()
        if not len(vals):
            return {"n": 0}
        fin = vals[np.isfinite(vals)]
        return {"n": int(len(vals)), "first": float(vals[0]), "last": float(vals[-1]),
                "min": float(fin.min()) if len(fin) else None, "nonfinite": int(len(vals) - len(fin))}
    except Exception:
        return {}


def merge_reports(payloads: dict[int, dict], world: int, missing: list[int], timeout: float) -> Report:
    """Union of the ranks' findings (one per code and place, with the ranks it occurred on, the
    worst severity and the earliest step) and a line per rank."""
    merged: dict[tuple, tuple[Finding, list[int]]] = {}
    steps, backward, notes, errors = 0, 0, [], []
    for r in sorted(payloads):
        rep = Report.from_json(json.dumps(payloads[r]["report"]))
        steps = max(steps, rep.steps)
        backward += rep.backward_passes
        for n in rep.notes:
            if n not in notes:
                notes.append(n)
        errors += [f"rank {r}: {e}" for e in rep.internal_errors]
        for f in rep.findings:
            key = (f.code, tuple(f.where))
            if key not in merged:
                merged[key] = (f, [r])
                continue
            best, ranks = merged[key]
            ranks.append(r)
            known = [s for s in (f.step, best.step) if s is not None]
            if _SEVERITY.get(f.severity, 0) > _SEVERITY.get(best.severity, 0):
                best = f  # the worst severity's evidence and summary
            best.step = min(known) if known else None  # the earliest step on any rank
            merged[key] = (best, ranks)
    # NaN on one rank reaches every rank through DDP's gradient all-reduce: the others see it first
    # "in the backward pass". One non-finite finding for the job: the earliest, from the rank where
    # it did not arrive through the backward pass if there is one.
    nf = [k for k in merged if k[0] == "non-finite"]
    if len(nf) > 1:
        def origin(k):
            f = merged[k][0]
            return (f.step if f.step is not None else 1 << 62, f.evidence.get("stage") in ("backward", "unknown"))
        nf.sort(key=origin)
        best, ranks = merged[nf[0]]
        others = {}
        for k in nf[1:]:
            f, rs = merged.pop(k)
            for r in rs:
                others[str(r)] = f.summary
            ranks = sorted(set(ranks) | set(rs))
        best.evidence = {**best.evidence, "origin_ranks": list(merged[nf[0]][1]), "on_other_ranks": others}
        merged[nf[0]] = (best, ranks)
    findings = []
    reporting = sorted(payloads)
    for f, ranks in merged.values():
        f.evidence = {**f.evidence, "ranks": ranks}
        src = f.evidence.get("origin_ranks")
        if src is not None and len(src) < len(ranks):
            f.summary = f"{f.summary} (on rank {', '.join(map(str, src))}; the other ranks received it " \
                        "through the gradient all-reduce)"
        elif len(ranks) < len(reporting):
            f.summary = f"{f.summary} (rank{'s' if len(ranks) > 1 else ''} {', '.join(map(str, ranks))} only)"
        findings.append(f)
    lines = [f"a job of {world} ranks: the reports of ranks {', '.join(map(str, reporting))} are merged here"]
    for r in reporting:
        ls = payloads[r].get("loss") or {}
        rep = payloads[r]["report"]
        text = f"rank {r}: {rep.get('steps', 0)} steps, {rep.get('backward_passes', 0)} backward passes"
        if ls.get("n"):
            text += f", loss {_fmt(ls.get('first'))} -> {_fmt(ls.get('last'))} (min {_fmt(ls.get('min'))})"
            if ls.get("nonfinite"):
                text += f", {ls['nonfinite']} non-finite"
        lines.append(text)
    for r in missing:
        lines.append(f"rank {r} did not report within {timeout:g} s (crashed, hung or still running): "
                     "this report does not cover it")
    return Report(findings=findings, steps=steps, backward_passes=backward, notes=lines + notes,
                  internal_errors=errors)


def _fmt(v) -> str:
    if v is None:
        return "?"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return f"{v:.4g}"
