"""Process-wide taps that let nndoctor see an unmodified loop.

* ``torch.autograd.backward`` is wrapped (``Tensor.backward`` calls it), so every backward pass is
  seen together with its root (the loss) and the line that called it.
* torch's global optimizer step pre/post hooks see every ``optimizer.step()``.
* ``torch.nn.functional``'s loss functions are wrapped (``nn.CrossEntropyLoss`` and the other
  loss modules call them), so every loss call is seen with its prediction, target and value --
  training losses and validation losses computed under ``no_grad`` alike.

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
_original_losses: dict[str, Any] = {}
_loss_depth = threading.local()

class Listener:
    """What the taps call on each attached listener (a doctor, or a lighter one such as the
    check-up's capture); every event is a no-op here, so a listener overrides only what it needs
    and a new event never breaks one that does not know it."""

    def _on_backward_start(self, tensors) -> None: ...
    def _on_backward_end(self) -> None: ...
    def _on_backward_abort(self) -> None: ...
    def _on_step_pre(self, optimizer) -> None: ...
    def _on_step_post(self, optimizer) -> None: ...
    def _on_loss(self, name, args, kwargs, result) -> None: ...
    def _on_amp_scale(self, scaler, outputs, result) -> None: ...
    def _on_amp_step_begin(self, scaler, optimizer) -> None: ...
    def _on_amp_step_end(self, scaler, optimizer) -> None: ...
    def _guarded_suspend(self) -> None: ...
    def _guarded_resume(self) -> None: ...


_TORCH_DIR = os.path.dirname(torch.__file__)
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _patched_backward(tensors, *args, **kwargs):
    doctors = _active
    if doctors:
        for d in tuple(doctors):
            d._on_backward_start(tensors)
    try:
        result = _original_backward(tensors, *args, **kwargs)
    except BaseException:   # the pass raised (out of memory, a user's hook): re-raised unchanged
        if doctors:
            for d in tuple(doctors):
                try:
                    d._on_backward_abort()
                except Exception:  # pragma: no cover - a listener must not mask the user's error
                    pass
        raise
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


def _patched_jit_script(obj, *args, **kwargs):
    """torch.jit.script with nndoctor out of the way for the call: TorchScript compiles every module
    hook and every function the code calls, and nndoctor's hooks and loss wrappers are Python it
    cannot compile (the scripted module itself is not watched)."""
    with _lock:
        doctors = tuple(_active)
        for d in doctors:
            d._guarded_suspend()
        _unwrap_losses()
    try:
        return _original_jit_script(obj, *args, **kwargs)
    finally:
        with _lock:
            if _active:
                _wrap_losses()
            for d in doctors:
                d._guarded_resume()


_patched_jit_script.__wrapped_by_nndoctor__ = True  # type: ignore[attr-defined]
_original_jit_script = None


# ---------------------------------------------------------------- AMP: torch.amp.GradScaler
# ``scaler.scale(loss).backward()`` hands autograd loss x scale, and ``scaler.step(opt)`` skips
# ``opt.step()`` when the scaled gradients hold Inf/NaN (then lowers the scale). The doctors are
# told which tensor is a scaled loss (so the loss series stays unscaled) and which steps the scaler
# skipped (normal while it finds its scale; persistent skipping is a real non-finite problem).
_scaler_originals: list[tuple[type, str, Any]] = []


def _scaler_classes() -> list[type]:
    out = []
    for path in ("torch.amp.grad_scaler", "torch.cuda.amp.grad_scaler", "torch.cpu.amp.grad_scaler"):
        try:
            mod = __import__(path, fromlist=["GradScaler"])
        except Exception:
            continue
        cls = getattr(mod, "GradScaler", None)
        if isinstance(cls, type) and cls not in out:
            out.append(cls)
    return out


def _make_scale(original):
    def scale(self, outputs, *args, **kwargs):
        result = original(self, outputs, *args, **kwargs)
        for d in tuple(_active):
            d._on_amp_scale(self, outputs, result)
        return result
    scale.__wrapped__ = original  # type: ignore[attr-defined]
    scale.__wrapped_by_nndoctor__ = True  # type: ignore[attr-defined]
    return scale


def _make_scaler_step(original):
    def step(self, optimizer, *args, **kwargs):
        doctors = tuple(_active)
        for d in doctors:
            d._on_amp_step_begin(self, optimizer)
        result = original(self, optimizer, *args, **kwargs)
        for d in doctors:
            d._on_amp_step_end(self, optimizer)
        return result
    step.__wrapped__ = original  # type: ignore[attr-defined]
    step.__wrapped_by_nndoctor__ = True  # type: ignore[attr-defined]
    return step


def _wrap_scalers() -> None:
    for cls in _scaler_classes():
        for name, make in (("scale", _make_scale), ("step", _make_scaler_step)):
            fn = cls.__dict__.get(name)
            if fn is None or getattr(fn, "__wrapped_by_nndoctor__", False):
                continue
            _scaler_originals.append((cls, name, fn))
            setattr(cls, name, make(fn))


def _unwrap_scalers() -> None:
    for cls, name, fn in _scaler_originals:
        cur = cls.__dict__.get(name)
        if getattr(cur, "__wrapped__", None) is fn:
            setattr(cls, name, fn)
    _scaler_originals.clear()


def _is_compiling() -> bool:
    return False


try:
    from torch.compiler import is_compiling as _is_compiling  # noqa: F811
except ImportError:  # pragma: no cover - torch < 2.3
    try:
        from torch._dynamo import is_compiling as _is_compiling  # noqa: F811
    except ImportError:
        pass


def _make_loss_wrapper(name: str, original):
    def loss_wrapper(*args, **kwargs):
        doctors = _active
        if not doctors or getattr(_loss_depth, "n", 0) or _is_compiling():
            return original(*args, **kwargs)  # (inside torch.compile'd code dynamo traces the loss itself)
        _loss_depth.n = 1
        try:
            result = original(*args, **kwargs)
        finally:
            _loss_depth.n = 0
        for d in tuple(doctors):
            d._on_loss(name, args, kwargs, result)
        return result

    loss_wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    loss_wrapper.__name__ = getattr(original, "__name__", name)
    loss_wrapper.__qualname__ = getattr(original, "__qualname__", name)
    loss_wrapper.__doc__ = getattr(original, "__doc__", None)
    loss_wrapper.__wrapped_by_nndoctor__ = True  # type: ignore[attr-defined]
    return loss_wrapper


def _wrap_losses() -> None:
    from .loss import LOSS_FUNCTIONS
    F = torch.nn.functional
    for name in LOSS_FUNCTIONS:
        fn = getattr(F, name, None)
        if fn is None or getattr(fn, "__wrapped_by_nndoctor__", False):
            continue
        _original_losses[name] = fn
        setattr(F, name, _make_loss_wrapper(name, fn))


def _unwrap_losses() -> None:
    F = torch.nn.functional
    for name, fn in _original_losses.items():
        cur = getattr(F, name, None)
        if getattr(cur, "__wrapped__", None) is fn:  # only if nobody wrapped it after us
            setattr(F, name, fn)
    _original_losses.clear()


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
            _wrap_losses()
            _wrap_scalers()
            global _original_jit_script
            if not getattr(torch.jit.script, "__wrapped_by_nndoctor__", False):
                _original_jit_script = torch.jit.script
                torch.jit.script = _patched_jit_script
        _active.append(doctor)


def detach(doctor) -> None:
    with _lock:
        if doctor in _active:
            _active.remove(doctor)
        if not _active:
            for h in _handles:
                h.remove()
            _handles.clear()
            _unwrap_losses()
            _unwrap_scalers()
            if torch.jit.script is _patched_jit_script and _original_jit_script is not None:
                torch.jit.script = _original_jit_script
            # only restore if nobody wrapped torch.autograd.backward after us
            if torch.autograd.backward is _patched_backward and _original_backward is not None:
                torch.autograd.backward = _original_backward


def active_count() -> int:
    return len(_active)


def active() -> list[Any]:
    """The attached listeners (open doctors...), in attach order."""
    with _lock:
        return list(_active)


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
