"""Tuning an unmodified script: a trial's hyperparameters reach the objects that take them.

A script that never calls ``nndoctor.param`` still builds an optimizer and usually a DataLoader, and
their constructors are where a learning rate or a batch size enters training. In a trial process
(and only there: the patches live in the trial's own child process, which ends with the trial):

* a trial parameter whose name is one of the optimizer's own hyperparameters (a key of the
  ``defaults`` every ``torch.optim.Optimizer`` subclass hands to ``Optimizer.__init__``: ``lr``,
  ``momentum``, ``weight_decay``, ``eps``...) replaces the script's value in those defaults. Param
  groups that set their own value keep it (the script chose it for that group on purpose);
* a trial parameter ``batch_size`` replaces the ``batch_size`` of each ``DataLoader`` the script
  builds (not one driven by its own ``batch_sampler``, nor an unbatched ``batch_size=None`` one).

A name the script reads itself with ``nndoctor.param`` (or takes from a ``{name}`` argument
template) is left alone: the script has said where it goes. A name that reached nothing is reported
(``unused_params``): searching a parameter the script never sees only wastes trials.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable


def _coerce(current: Any, value: Any) -> tuple[bool, Any]:
    """Can ``value`` stand where the script put ``current``? (numbers for numbers, same types else)"""
    if isinstance(current, bool) or isinstance(value, bool):
        return (isinstance(current, bool) and isinstance(value, bool)), value
    if isinstance(current, (int, float)) and isinstance(value, (int, float)):
        return True, float(value) if isinstance(current, float) or isinstance(value, float) else int(value)
    if current is not None and type(current) is type(value):
        return True, value
    return False, value


def install(params: dict[str, Any], skip: Callable[[str], bool], applied: dict[str, str]) -> Callable[[], None]:
    """Patch ``Optimizer.__init__`` and ``DataLoader.__init__`` to apply ``params`` (names for which
    ``skip(name)`` is true are left to the script); ``applied[name]`` records where each one went.
    Returns a function that takes the patches off."""
    from torch.optim import Optimizer
    from torch.utils.data import DataLoader

    opt_init, dl_init = Optimizer.__init__, DataLoader.__init__
    dl_sig = inspect.signature(dl_init)

    def optimizer_init(self, param_groups, defaults, *args, **kwargs):
        if isinstance(defaults, dict):
            new = dict(defaults)
            for name, value in params.items():
                if name in new and not skip(name):
                    ok, v = _coerce(new[name], value)
                    if ok:
                        new[name] = v
                        applied[name] = f"{type(self).__name__}({name}=)"
            defaults = new
        return opt_init(self, param_groups, defaults, *args, **kwargs)

    def dataloader_init(self, *args, **kwargs):
        if "batch_size" in params and not skip("batch_size"):
            try:
                bound = dl_sig.bind(self, *args, **kwargs)
            except TypeError:  # let DataLoader raise its own error
                bound = None
            if bound is not None and bound.arguments.get("batch_sampler") is None \
                    and bound.arguments.get("batch_size", 1) is not None:
                ok, v = _coerce(1, params["batch_size"])
                if ok and int(v) >= 1:
                    bound.arguments["batch_size"] = int(v)
                    applied["batch_size"] = "DataLoader(batch_size=)"
                    args, kwargs = bound.args[1:], bound.kwargs
        return dl_init(self, *args, **kwargs)

    Optimizer.__init__ = optimizer_init
    DataLoader.__init__ = dataloader_init

    def remove() -> None:
        Optimizer.__init__ = opt_init
        DataLoader.__init__ = dl_init

    return remove
