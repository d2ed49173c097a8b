"""Watching an ``accelerate`` loop (``pip install nndoctor[accelerate]``).

Plain ``nndoctor.watch(model, optimizer)`` works on the objects ``accelerator.prepare`` returns:
the model wrapper (DDP) and ``AcceleratedOptimizer`` are looked through, ``accelerator.backward``
goes through ``loss.backward()``, and steps skipped by gradient accumulation or by the fp16
GradScaler are understood. ``watch`` here adds what a multi-process launch needs: one report for
the job, on the main process::

    from nndoctor.integrations.accelerate import watch
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    with watch(model, optimizer) as doctor:
        for x, y in loader:
            ...
    doctor.report        # the merged report on the main process, None on the others
"""
from __future__ import annotations

import logging
from typing import Callable

from ..findings import Finding
from ._session import Session, SessionHandle

__all__ = ["watch", "AcceleratorWatch"]


class AcceleratorWatch(SessionHandle):
    def __init__(self, model, optimizer=None, *, every: int = 20, verbose: bool = True,
                 json_path: str | None = None, on_finding: Callable[[Finding], None] | None = None) -> None:
        self._session = Session(every=every, verbose=verbose, json_path=json_path, on_finding=on_finding,
                                logger=logging.getLogger("accelerate.nndoctor"))
        self._session.start(model, optimizer)


def watch(model, optimizer=None, **kwargs) -> AcceleratorWatch:
    """Start watching an accelerate loop (see the module docstring); ``close()`` or use ``with``."""
    return AcceleratorWatch(model, optimizer, **kwargs)
