"""Hooks nndoctor puts on the user's modules, made safe for what users do with their modules.

A module carries its hooks in its ``__dict__``, so ``copy.deepcopy(model)`` (an EMA or a target
network, a best-model snapshot) and ``torch.save(model)`` (a whole-model checkpoint) copy or pickle
them too. A plain bound method as the hook would drag the whole doctor along: deepcopy would copy it
(and fail on the autograd nodes it holds during the first steps: ``TypeError: cannot pickle
'AddmmBackward0' object``), and pickling fails on its weak references. Either error lands in the
user's loop.

:class:`InertOnCopy` wraps such a hook: the watched module calls it as usual, while a deep copy or a
pickle of it becomes an inert hook, ``functools.partial(object.__init__, 0)``: it accepts any
arguments, returns None (a forward hook that returns None changes nothing), holds no reference, and
unpickles with the standard library alone (a checkpoint saved while watched loads where nndoctor is
not installed). ``object.__init__`` ignores extra arguments when the instance's type overrides
``__new__`` but not ``__init__``, as ``int`` does.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

INERT = functools.partial(object.__init__, 0)

try:
    from torch._C._functorch import maybe_current_level as _functorch_level
except Exception:  # pragma: no cover - torch without functorch
    def _functorch_level():
        return None


try:
    from torch.compiler import is_compiling as _is_compiling
except Exception:  # pragma: no cover - torch < 2.3
    def _is_compiling():
        return False


def in_transform() -> bool:
    """Inside a ``torch.func`` transform (``vmap``, ``grad``, ``jacrev``...: per-sample gradients,
    DP-SGD), or a trace (``torch.export``, dynamo): the tensors there are wrappers or fakes with no
    storage of their own (no data pointer, no ``unique``), reading their sizes would specialize a
    dynamic dimension of an export, and what is computed is not the training step itself, which
    nndoctor sees outside (the gradients the user sets, the optimizer step, the compiled model's
    wrapper). The hooks stand aside (~0.2 us)."""
    return _functorch_level() is not None or _is_compiling()


class InertOnCopy:
    __slots__ = ("fn", "__weakref__")

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __deepcopy__(self, memo: dict) -> functools.partial:
        return INERT

    def __reduce__(self):
        return (functools.partial, (object.__init__, 0))

    @classmethod
    def eager(cls, fn: Callable) -> "InertOnCopy":
        """The same, for a module whose own hooks torch.compile traces (``model.compile()``): the call
        runs eagerly, outside the compiled graph (``torch.compiler.disable``)."""
        return _EagerInertOnCopy(fn)

    def __repr__(self) -> str:
        return f"nndoctor hook ({getattr(self.fn, '__qualname__', type(self.fn).__name__)})"


class _EagerInertOnCopy(InertOnCopy):
    __slots__ = ()


def _eager_call(self, *args: Any, **kwargs: Any) -> Any:
    return self.fn(*args, **kwargs)


try:
    import torch

    _disable = getattr(getattr(torch, "compiler", None), "disable", None)
    _EagerInertOnCopy.__call__ = _disable(_eager_call) if _disable is not None else _eager_call
except Exception:  # pragma: no cover - torch without dynamo
    _EagerInertOnCopy.__call__ = _eager_call
