"""Work on copies, leave the user's world as it was: RNG states, model and optimizer copies, and
batches in one shape (``Batch``: the model's positional and keyword inputs, and the target)."""
from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np
import torch
from torch import nn


# ----------------------------------------------------------------------------- RNG
@dataclass
class RNGState:
    torch_cpu: torch.Tensor
    cuda: list[torch.Tensor] | None
    numpy: Any
    python: Any

    @classmethod
    def capture(cls) -> "RNGState":
        cuda = None
        try:
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                cuda = torch.cuda.get_rng_state_all()
        except Exception:  # pragma: no cover
            cuda = None
        return cls(torch.get_rng_state(), cuda, np.random.get_state(), random.getstate())

    def restore(self) -> None:
        torch.set_rng_state(self.torch_cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)
        np.random.set_state(self.numpy)
        random.setstate(self.python)


class preserved_rng:
    """``with preserved_rng(seed):`` -- the global RNGs seeded inside, restored on exit."""

    def __init__(self, seed: int | None = 0) -> None:
        self.seed = seed

    def __enter__(self) -> "preserved_rng":
        self.state = RNGState.capture()
        if self.seed is not None:
            torch.manual_seed(self.seed)
            np.random.seed(self.seed)
            random.seed(self.seed)
        return self

    def __exit__(self, *exc) -> bool:
        self.state.restore()
        return False


# ----------------------------------------------------------------------------- batches
def _map(x: Any, fn) -> Any:
    if isinstance(x, torch.Tensor):
        return fn(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_map(v, fn) for v in x) if not hasattr(x, "_fields") else type(x)(*(_map(v, fn) for v in x))
    if isinstance(x, dict):
        return {k: _map(v, fn) for k, v in x.items()}
    return x


def tensors_of(x: Any) -> Iterator[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from tensors_of(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from tensors_of(v)


@dataclass
class Batch:
    """One batch: ``model(*args, **kwargs)`` is the prediction, ``target`` what the loss compares it to."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    target: Any = None

    @classmethod
    def from_user(cls, item: Any) -> "Batch":
        """``(x, y)`` (x a tensor, a tuple of tensors for several inputs, or a dict of keyword inputs),
        or ``{"input": x, "target": y}``, or a lone tensor (no target)."""
        if isinstance(item, Batch):
            return item
        if isinstance(item, dict) and "target" in item:
            x = item.get("input", item.get("inputs"))
            return cls.from_user((x, item["target"]))
        if isinstance(item, torch.Tensor):
            return cls((item,), {}, None)
        if isinstance(item, (list, tuple)) and len(item) == 2:
            x, y = item
            if isinstance(x, dict):
                return cls((), dict(x), y)
            if isinstance(x, (list, tuple)) and not isinstance(x, torch.Tensor):
                return cls(tuple(x), {}, y)
            return cls((x,), {}, y)
        raise TypeError("nndoctor.checkup: a batch must be (inputs, targets), {'input': x, 'target': y}, "
                        f"or a tensor; got {type(item).__name__}")

    def detached(self) -> "Batch":
        f = lambda t: t.detach().clone()  # noqa: E731
        return Batch(_map(self.args, f), _map(self.kwargs, f), _map(self.target, f))

    def to(self, device: torch.device) -> "Batch":
        f = lambda t: t.to(device)  # noqa: E731
        return Batch(_map(self.args, f), _map(self.kwargs, f), _map(self.target, f))

    @property
    def size(self) -> int:
        """Examples in the batch: the first dimension of the target (else of the first input)."""
        for t in list(tensors_of(self.target)) + list(tensors_of((self.args, self.kwargs))):
            if t.ndim:
                return int(t.shape[0])
        return 1

    def splittable(self) -> bool:
        """Can examples be taken along dimension 0 of every input and the target? (False for a
        sequence-first RNN input, whose dimension 0 is time.)"""
        n = self.size
        ts = list(tensors_of((self.args, self.kwargs, self.target)))
        batched = [t for t in ts if t.ndim and t.shape[0] == n]
        return bool(batched) and all(t.ndim == 0 or t.shape[0] == n for t in ts if t.ndim)

    def take(self, idx: torch.Tensor | slice) -> "Batch":
        """Examples ``idx`` (along dim 0; tensors whose dim 0 is not the batch are kept whole)."""
        n = self.size

        def f(t: torch.Tensor) -> torch.Tensor:
            if t.ndim and t.shape[0] == n:
                return t[idx.to(t.device) if isinstance(idx, torch.Tensor) else idx]
            return t
        return Batch(_map(self.args, f), _map(self.kwargs, f), _map(self.target, f))

    def resized(self, m: int) -> "Batch":
        """A batch of ``m`` examples: the examples repeated (or the first ``m``)."""
        n = self.size
        return self.take(torch.arange(m) % n)

    @staticmethod
    def concat(batches: list["Batch"]) -> "Batch":
        first = batches[0]
        n0 = first.size

        def cat(*ts):
            if ts[0].ndim and ts[0].shape[0] == n0 and all(t.shape[1:] == ts[0].shape[1:] for t in ts):
                return torch.cat(ts)
            return ts[0]

        def zip_map(xs):
            x0 = xs[0]
            if isinstance(x0, torch.Tensor):
                return cat(*xs)
            if isinstance(x0, (list, tuple)):
                return type(x0)(zip_map([x[i] for x in xs]) for i in range(len(x0)))
            if isinstance(x0, dict):
                return {k: zip_map([x[k] for x in xs]) for k in x0}
            return x0
        return Batch(zip_map([b.args for b in batches]), zip_map([b.kwargs for b in batches]),
                     zip_map([b.target for b in batches]))

    def device(self) -> torch.device | None:
        for t in tensors_of((self.args, self.kwargs, self.target)):
            return t.device
        return None


def batches_from(loader_or_batch: Any, max_batches: int) -> tuple[list[Batch], int | None]:
    """Up to ``max_batches`` batches (detached copies) and the dataset size when known."""
    if isinstance(loader_or_batch, list) and loader_or_batch and all(isinstance(b, Batch) for b in loader_or_batch):
        return [b.detached() for b in loader_or_batch[:max_batches]], None
    single = isinstance(loader_or_batch, (Batch, torch.Tensor, dict)) or (
        isinstance(loader_or_batch, (list, tuple)) and len(loader_or_batch) == 2
        and (loader_or_batch[1] is None or isinstance(loader_or_batch[1], torch.Tensor)))
    if single:
        b = Batch.from_user(loader_or_batch).detached()
        return [b], None
    if not isinstance(loader_or_batch, Iterable):
        raise TypeError(f"nndoctor.checkup: expected a DataLoader/iterable of batches or one batch, got "
                        f"{type(loader_or_batch).__name__}")
    n_data = None
    try:
        n_data = len(loader_or_batch.dataset)  # type: ignore[attr-defined]
    except Exception:
        pass
    out: list[Batch] = []
    for item in loader_or_batch:
        out.append(Batch.from_user(item).detached())
        if len(out) >= max_batches:
            break
    if not out:
        raise ValueError("nndoctor.checkup: the loader yielded no batch")
    return out, n_data


# ----------------------------------------------------------------------------- copies
def copy_training(model: nn.Module, optimizer: torch.optim.Optimizer | None):
    """Deep copies of the model and optimizer, sharing the parameter mapping (the copied optimizer
    holds the copied parameters, with the same hyperparameters and state)."""
    memo: dict[int, Any] = {}
    m2 = copy.deepcopy(model, memo)
    o2 = copy.deepcopy(optimizer, memo) if optimizer is not None else None
    if o2 is not None:
        for g in o2.param_groups:  # a scheduler's warmup factor (e.g. 0 at step 0) is not replayed:
            if "initial_lr" in g:   # the copy trains at the base LR the scheduler scales
                g["lr"] = g["initial_lr"]
        own = {id(p) for p in m2.parameters()}
        if not any(id(p) in own for g in o2.param_groups for p in g["params"]) and any(True for _ in m2.parameters()):
            raise RuntimeError("the copied optimizer does not hold the copied model's parameters")
    return m2, o2


def fresh_optimizer(template: torch.optim.Optimizer | None, model: nn.Module, original: nn.Module | None = None,
                    lr_scale: float | None = None, lr: float | None = None) -> torch.optim.Optimizer:
    """A new optimizer of ``template``'s class over ``model``'s parameters, the same param groups
    (mapped by position from ``original``) and hyperparameters, no state. ``lr`` sets every group's
    learning rate proportionally (group 0 gets ``lr``)."""
    if template is None:
        return torch.optim.Adam(model.parameters(), lr=lr if lr is not None else 1e-3)
    mapping: dict[int, nn.Parameter] = {}
    if original is not None:
        for p0, p1 in zip(original.parameters(), model.parameters()):
            mapping[id(p0)] = p1
    own = {id(p) for p in model.parameters()}
    groups = []
    base = _group_lr(template.param_groups[0]) or 1.0
    for g in template.param_groups:
        ps = [mapping.get(id(p), p) for p in g["params"]]
        ps = [p for p in ps if id(p) in own]
        if not ps:
            continue
        d = {k: v for k, v in g.items() if k not in ("params", "initial_lr")}
        glr = _group_lr(g)
        if "initial_lr" in g:
            d["lr"] = g["initial_lr"]
        if lr is not None and glr is not None:
            d["lr"] = lr * (glr / base if base else 1.0)
        elif lr_scale is not None and glr is not None:
            d["lr"] = glr * lr_scale
        groups.append(d | {"params": ps})
    defaults = {k: v for k, v in template.defaults.items() if k != "params" and _accepts(type(template), k)}
    if isinstance(defaults.get("lr"), torch.Tensor):
        defaults["lr"] = float(defaults["lr"])
    for d in groups:
        if isinstance(d.get("lr"), torch.Tensor):
            d["lr"] = float(d["lr"])
    return type(template)(groups, **defaults)


def _accepts(cls: type, name: str) -> bool:
    """Does the optimizer's constructor take ``name``? (AdamW keeps Adam's ``decoupled_weight_decay``
    in its defaults but does not accept it.)"""
    import inspect
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return True
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _group_lr(g: dict) -> float | None:
    v = g.get("initial_lr", g.get("lr"))
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def user_lr(opt: torch.optim.Optimizer | None) -> float | None:
    """The optimizer's base learning rate (group 0), before any scheduler's warmup factor."""
    if opt is None or not opt.param_groups:
        return None
    return _group_lr(opt.param_groups[0])


def has_scheduler(opt: torch.optim.Optimizer | None) -> bool:
    return opt is not None and any("initial_lr" in g for g in opt.param_groups)


def call_model(model: nn.Module, b: Batch) -> Any:
    return model(*b.args, **b.kwargs)
