"""Process-wide taps that let nndoctor see an unmodified loop.

* ``torch.autograd.backward`` is wrapped (``Tensor.backward`` calls it), so every backward pass is
  seen together with its root (the loss) and the line that called it.
* torch's global optimizer step pre/post hooks see every ``optimizer.step()``.

The taps are installed while at least one doctor is active and removed when the last one closes.
The wrapper calls the original with exactly the same arguments, so training is unchanged; an
error inside a doctor's callback is caught by the doctor, never raised into the loop.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

_lock = threading.RLock()
_active: list[Any] = []          # doctors, in attach order
_original_backward = None
_handles: list[Any] = []

_TORCH_DIR = os.path.dirname(torch.__file__)
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _patched_backward(tensors, *args, **kwargs):
    doctors = _active
    if doctors:
        for d in tuple(doctors):
            d._on_backward_start(tensors)
    result = _original_backward(tensors, *args, **kwargs)
    if doctors:
        for d in tuple(doctors):
            d._on_backward_end()
    return result


_patched_backward.__wrapped_by_nndoctor__ = True  # type: ignore[attr-defined]


def _step_pre(optimizer, args, kwargs):
    for d in tuple(_active):
        d._on_step_pre(optimizer)


def _step_post(optimizer, args, kwargs):
    for d in tuple(_active):
        d._on_step_post(optimizer)


def attach(doctor) -> None:
    global _original_backward
    with _lock:
        if not _active:
            if getattr(torch.autograd.backward, "__wrapped_by_nndoctor__", False):
                pass  # our wrapper is still in place (someone patched over it earlier): reuse it
            else:
                _original_backward = torch.autograd.backward
                torch.autograd.backward = _patched_backward
            _handles.append(register_optimizer_step_pre_hook(_step_pre))
            _handles.append(register_optimizer_step_post_hook(_step_post))
        _active.append(doctor)


def detach(doctor) -> None:
    with _lock:
        if doctor in _active:
            _active.remove(doctor)
        if not _active:
            for h in _handles:
                h.remove()
            _handles.clear()
            # only restore if nobody wrapped torch.autograd.backward after us
            if torch.autograd.backward is _patched_backward and _original_backward is not None:
                torch.autograd.backward = _original_backward


def active_count() -> int:
    return len(_active)


def caller_site(skip_own: bool = True) -> tuple[str, int, str] | None:
    """(file, line, source line) of the first frame outside torch and nndoctor."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not (fn.startswith(_TORCH_DIR) or (skip_own and fn.startswith(_OWN_DIR)) or fn.startswith("<frozen")):
            line = f.f_lineno
            try:
                import linecache
                src = linecache.getline(fn, line).strip()
            except Exception:  # pragma: no cover
                src = ""
            return fn, line, src
        f = f.f_back
    return None
