"""The small public face: ``watch`` and ``explain``."""
from __future__ import annotations

from typing import Callable

from .doctor import Doctor
from .findings import Finding


def watch(model=None, optimizer=None, *, every: int = 10,
          on_finding: Callable[[Finding], None] | None = None) -> Doctor:
    """Watch the training of ``model`` (a module or a list of modules) by ``optimizer`` (one, a list,
    or None to discover the optimizers that step the model's parameters).

    Starts watching immediately and returns the :class:`Doctor`; use it as a context manager or call
    ``doctor.close()`` when training ends. Nothing in the loop has to change: steps are seen through
    optimizer hooks, backward passes through autograd.

    ``every``: the cadence (in optimizer steps) at which statistics are moved from the device to the
    host and judged. ``on_finding``: called once per new finding, as soon as it is established.
    """
    return Doctor(model, optimizer, every=every, on_finding=on_finding).start()


def explain(code: str) -> str:
    """The registry's documentation of a diagnosis code, as text."""
    from .report.terminal import explain_text

    return explain_text(code)
