"""What is being trained: models (root modules), their parameters with names, and optimizers."""
from __future__ import annotations

import gc
import itertools
from dataclasses import dataclass, field
from typing import Iterable

import torch
from torch import nn

_EMBEDDING_TYPES = (nn.Embedding, nn.EmbeddingBag)
_NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
ACTIVATION_TYPES = (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softplus,
                    nn.Hardtanh, nn.ReLU6, nn.SELU, nn.Mish, nn.PReLU, nn.Softsign, nn.Hardsigmoid,
                    nn.Hardswish, nn.LogSigmoid, nn.Tanhshrink, nn.CELU, nn.RReLU)


@dataclass
class ParamInfo:
    index: int
    name: str            # qualified name, e.g. "encoder.0.weight"
    module: str          # owning module's qualified name, e.g. "encoder.0"
    module_type: str     # e.g. "Linear"
    shape: tuple[int, ...]
    numel: int
    kind: str            # "weight" (a layer's matrix/kernel), "bias", "norm", "embedding", "other"
    root: int            # index of the model it belongs to (-1: belongs to no watched model)
    registered: bool = True   # False: reachable only through a plain Python list/dict attribute
    requires_grad: bool = True


def param_kind(module: nn.Module | None, pname: str, p: torch.Tensor) -> str:
    if isinstance(module, _EMBEDDING_TYPES):
        return "embedding"
    if isinstance(module, _NORM_TYPES):
        return "norm"
    if p.ndim >= 2:
        return "weight"
    if pname.endswith("bias"):
        return "bias"
    return "other"


def _qual(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else (prefix or name)


def unregistered_submodules(root: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules kept in plain Python lists/tuples/dicts on ``root`` or its submodules.

    ``self.layers = [nn.Linear(...)]`` hides those layers from ``root.parameters()`` (and so
    from optimizers built from it, from ``.to(device)`` and from ``state_dict``).
    """
    found: list[tuple[str, nn.Module]] = []
    seen: set[int] = {id(m) for m in root.modules()}
    for mname, m in root.named_modules():
        for attr, val in vars(m).items():
            if attr.startswith("_") and attr in ("_modules", "_parameters", "_buffers", "_forward_hooks",
                                                 "_forward_pre_hooks", "_backward_hooks", "_state_dict_hooks"):
                continue
            items: Iterable = ()
            if isinstance(val, (list, tuple)):
                items = ((f"{attr}[{i}]", v) for i, v in enumerate(val))
            elif isinstance(val, dict) and not attr.startswith("_"):
                items = ((f"{attr}[{k!r}]", v) for k, v in val.items())
            for label, v in items:
                if isinstance(v, nn.Module) and id(v) not in seen:
                    seen.add(id(v))
                    found.append((_qual(mname, label), v))
    return found


def unregistered_tensors(root: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Plain tensors with requires_grad=True stored as module attributes (not nn.Parameter)."""
    out = []
    for mname, m in root.named_modules():
        for attr, val in vars(m).items():
            if isinstance(val, torch.Tensor) and not isinstance(val, nn.Parameter) and val.requires_grad \
                    and val.is_leaf:
                out.append((_qual(mname, attr), val))
    return out


@dataclass
class ModelTable:
    """Watched models and a flat, indexed table of their parameters."""

    roots: list[nn.Module] = field(default_factory=list)
    root_names: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)      # the name prefix each root's parameters were added with
    params: list[torch.Tensor] = field(default_factory=list)
    info: list[ParamInfo] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)    # id(param) -> index
    compiled: dict[int, nn.Module] = field(default_factory=dict)  # root index -> its torch.compile wrapper
    module_names: dict[int, str] = field(default_factory=dict)  # id(module) -> qualified name
    module_types: dict[str, str] = field(default_factory=dict)  # qualified name -> class name

    def add_root(self, root: nn.Module, name: str | None = None) -> None:
        if any(r is root for r in self.roots):
            return
        ridx = len(self.roots)
        self.roots.append(root)
        if name is not None and name in self.prefixes:
            # a model built anew under the same variable name (a k-fold loop's ``model = make_model()``): the
            # names of both stay apart (``model#2.0.weight``), or the rules would mix up their modules
            k = 2
            while f"{name}#{k}" in self.prefixes:
                k += 1
            name = f"{name}#{k}"
        prefix = name if name is not None else ""
        self.root_names.append(name or type(root).__name__)
        self.prefixes.append(prefix)
        self._scan(root, ridx, prefix)

    def rescan(self) -> int:
        """Add the parameters the watched models gained since they were added (a head put into a
        ModuleDict during training), and read every parameter's requires_grad again (a backbone
        unfrozen); returns how many parameters were added."""
        before = len(self.params)
        for ridx, root in enumerate(self.roots):
            self._scan(root, ridx, self.prefixes[ridx] if ridx < len(self.prefixes) else "")
        # a registered parameter its model no longer holds (the layer was replaced: ``model.head = nn.Linear(...)``)
        # belongs to no watched model now: an optimizer may still hold it, but nothing can reach it -- the new
        # layer's parameters, in no optimizer, are the finding (not a cut graph)
        live = {id(p) for r in self.roots for p in r.parameters()}
        for info, p in zip(self.info, self.params):
            if info.registered and info.root >= 0 and id(p) not in live:
                info.root = -1
        self.refresh_requires_grad()
        return len(self.params) - before

    def refresh_requires_grad(self) -> None:
        for info, p in zip(self.info, self.params):
            info.requires_grad = bool(p.requires_grad)

    def trainable_signature(self) -> tuple:
        """Per watched model: how many parameters it has, how many require gradients, and a checksum of their
        identities (cheap: no tensor is read). A change means parameters were added, unfrozen or frozen, or
        replaced by new ones (``model.head = nn.Linear(...)`` after the optimizer was built: the same count)."""
        out = []
        for r in self.roots:
            n = g = ids = 0
            for p in r.parameters():
                n += 1
                g += p.requires_grad
                ids ^= id(p)
            out.append((n, g, ids))
        return tuple(out)

    def _scan(self, root: nn.Module, ridx: int, prefix: str) -> None:
        for mname, m in root.named_modules():
            q = _qual(prefix, mname)
            # an unnamed root is called by its class everywhere (module names, types, forward calls and
            # the module its own parameters belong to: a bare nn.Linear model holds its parameters)
            mod = q or type(root).__name__
            self.module_names.setdefault(id(m), mod)
            self.module_types[mod] = type(m).__name__
            for pname, p in m.named_parameters(recurse=False):
                self._add_param(p, _qual(q, pname), mod, m, pname, ridx, registered=True)
        for label, m in unregistered_submodules(root):
            q = _qual(prefix, label)
            for mname, sub in m.named_modules():
                sq = _qual(q, mname)
                self.module_names.setdefault(id(sub), sq)
                self.module_types[sq] = type(sub).__name__
                for pname, p in sub.named_parameters(recurse=False):
                    self._add_param(p, _qual(sq, pname), sq, sub, pname, ridx, registered=False)
        for label, t in unregistered_tensors(root):
            self._add_param(t, _qual(prefix, label), _qual(prefix, label.rsplit(".", 1)[0]) if "." in label else
                            (prefix or type(root).__name__), None, label, ridx, registered=False)

    def _add_param(self, p, qname, module, m, pname, ridx, registered) -> int:
        if id(p) in self.index:
            return self.index[id(p)]
        i = len(self.params)
        self.params.append(p)
        self.index[id(p)] = i
        self.info.append(ParamInfo(i, qname, module, type(m).__name__ if m is not None else "",
                                   tuple(p.shape), p.numel(), param_kind(m, pname, p), ridx,
                                   registered=registered, requires_grad=bool(p.requires_grad)))
        return i

    def add_loose(self, p: torch.Tensor, name: str) -> int:
        """A parameter that belongs to no watched model (e.g. only found in an optimizer)."""
        return self._add_param(p, name, "", None, name, -1, registered=True)

    def clear(self) -> None:
        """Drop every reference to the user's tensors and modules (names stay)."""
        self.roots = []
        self.compiled = {}
        self.params = []
        self.index = {}


def discover(reached: set[int] | None = None) -> tuple[list[nn.Module], list[torch.optim.Optimizer]]:
    """All top-level modules with trainable parameters and all optimizers alive in the process.

    Used by ``nndoctor run``, which must find what an unmodified script trains. A module is
    top-level when no other live module holds it (as a registered child or in a plain list).
    """
    # By exact type, in C: a few hundred thousand objects live once torch is imported, and a Python
    # isinstance() loop over them cost ~0.1 s (x2-3 under load), paid by every `nndoctor run`. type()
    # also skips proxies (a weakref.proxy to a module passes isinstance(), and would be a duplicate).
    objs = gc.get_objects()
    kinds = set(map(type, objs))
    module_types = {t for t in kinds if issubclass(t, nn.Module)}
    optimizer_types = {t for t in kinds if issubclass(t, torch.optim.Optimizer)}
    modules = list(itertools.compress(objs, map(module_types.__contains__, map(type, objs))))
    optimizers = list(itertools.compress(objs, map(optimizer_types.__contains__, map(type, objs))))
    del objs
    child: set[int] = set()
    for m in modules:
        for sub in m.modules():
            if sub is not m:
                child.add(id(sub))
    candidates = [m for m in modules if id(m) not in child]
    for m in candidates:
        for _, sub in unregistered_submodules(m):
            for s in sub.modules():
                child.add(id(s))
    roots, inner = [], set()
    for m in candidates:  # wrappers (DDP, torch.compile) stay: the doctor looks through them
        if id(m) in child or not any(p.requires_grad for p in m.parameters()):
            continue
        if id(unwrap_model(m)) not in inner:
            inner.add(id(unwrap_model(m)))
            roots.append(m)
    # a wrapper (accelerate's AcceleratedOptimizer) forwards to the optimizer it holds, which steps
    optimizers = [o for o in optimizers if unwrap_optimizer(o) is o]
    return roots, optimizers


def unwrap_model(m):
    """The module that holds the layers: ``DistributedDataParallel``/``DataParallel`` -> ``.module``,
    ``torch.compile`` -> ``._orig_mod`` (parameter names then read as in the user's model, without
    a ``module.`` prefix; and nndoctor's replay of a NaN forward never runs DDP's collectives)."""
    for _ in range(8):
        inner = None
        if isinstance(m, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            inner = m.module
        elif type(m).__name__ == "OptimizedModule" and isinstance(getattr(m, "_orig_mod", None), nn.Module):
            inner = m._orig_mod
        if inner is None:
            return m
        m = inner
    return m


def unwrap_optimizer(o):
    """The optimizer whose ``step()`` updates the parameters: Lightning's ``LightningOptimizer``
    (``._optimizer``) and accelerate's ``AcceleratedOptimizer`` (``.optimizer``) forward to it,
    and torch's step hooks fire on it."""
    for _ in range(8):
        inner = getattr(o, "_optimizer", None)
        if not isinstance(inner, torch.optim.Optimizer):
            inner = getattr(o, "optimizer", None)
        if not isinstance(inner, torch.optim.Optimizer) and not isinstance(o, torch.optim.Optimizer):
            inner = getattr(o, "optim", None)   # a sharding facade (ZeroRedundancyOptimizer-like) that holds it
        if not isinstance(inner, torch.optim.Optimizer) or inner is o:
            return o
        o = inner
    return o


def compiled_wrapper(m) -> nn.Module | None:
    """The module whose call runs compiled code: a ``torch.compile(model)`` wrapper (possibly inside
    DDP), or the model itself after ``model.compile()``; None for an eager model."""
    for _ in range(8):
        if type(m).__name__ == "OptimizedModule" and isinstance(getattr(m, "_orig_mod", None), nn.Module):
            return m
        if getattr(m, "_compiled_call_impl", None) is not None:
            return m
        if isinstance(m, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            m = m.module
            continue
        return None
    return None
