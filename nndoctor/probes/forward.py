"""Forward-pass probes: a recorder used during the first steps, and a one-off replay that finds
where a non-finite value first appeared."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
from torch import nn

from .hooks import InertOnCopy, in_transform


def iter_tensors(obj: Any, depth: int = 0) -> Iterator[torch.Tensor]:
    """Tensors inside nested outputs (tensor, tuple/list, dict, dataclass-like objects)."""
    if depth > 6:
        return
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from iter_tensors(o, depth + 1)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from iter_tensors(o, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, (nn.Module, type)):
        for o in vars(obj).values():
            if isinstance(o, (torch.Tensor, list, tuple, dict)):
                yield from iter_tensors(o, depth + 1)


HELD_BYTES = 32 * 2 ** 20   # the outputs the recorder may hold during one pass (see ForwardRecorder._held)


@dataclass
class ModuleCalls:
    """What one module did in the recorded forward passes."""

    order: int                       # position of its first call (execution order)
    grad_calls: int = 0              # calls with grad enabled
    nograd_calls: int = 0            # calls under torch.no_grad()/inference_mode
    input_detached_calls: int = 0    # calls whose float inputs carried no autograd history, or with an input that
    # is an earlier module's output cut from the graph (``h.detach()`` passed as an RNN's hidden state)
    output_nodes: list[Any] = field(default_factory=list)   # grad_fn of outputs (recent calls)


class ForwardRecorder:
    """Per-module hooks installed only for the first few steps (the analysis window).

    Records the execution order of modules (used to order layers from input to output), whether
    each ran with grad enabled, and the autograd nodes of their outputs, so that a later graph
    walk can tell which modules' outputs never reach the loss.
    """

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.calls: dict[str, ModuleCalls] = {}
        self._handles: list[Any] = []
        self._counter = 0
        self._hook = InertOnCopy(self._post)   # a copy of the model carries an inert hook (probes.hooks)
        # this pass's module outputs with autograd history, by storage address (a detached view shares its
        # storage); the tensors are held until the pass's backward (new_pass), so no other tensor can be
        # given their memory and be mistaken for them. Held within HELD_BYTES: a forward pass that no
        # backward follows (an evaluation with gradients on) would otherwise keep its activations alive
        # until the next one; an output beyond the budget is not recorded (a cut after it is then judged
        # as before: only by inputs with no history at all)
        self._outs: dict[int, str] = {}
        self._held: list[torch.Tensor] = []
        self._held_bytes = 0

    def new_pass(self) -> None:
        """A backward pass ended: the next forward is another pass (a detached state carried over from
        this one, as truncated backpropagation through time does, is not a cut within a pass)."""
        self._outs.clear()
        self._held.clear()
        self._held_bytes = 0

    def install(self, roots: list[nn.Module]) -> None:
        for root in roots:
            for m in root.modules():
                self._handles.append(m.register_forward_hook(self._hook))

    def unhook(self) -> None:
        """Take the hooks off, keeping what was recorded (install() puts them back)."""
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self.new_pass()

    def remove(self) -> None:
        self.unhook()
        for c in self.calls.values():
            c.output_nodes.clear()

    def _post(self, module, inputs, output) -> None:
        if in_transform():
            return
        try:
            name = self.names.get(id(module))
            if name is None:
                return
            rec = self.calls.get(name)
            if rec is None:
                rec = self.calls[name] = ModuleCalls(order=self._counter)
                self._counter += 1
            if torch.is_grad_enabled():
                rec.grad_calls += 1
                floats = [t for t in iter_tensors(inputs) if t.is_floating_point()]
                if floats and not any(t.requires_grad for t in floats):
                    rec.input_detached_calls += 1
                elif self._outs and any(not t.requires_grad and _storage(t) in self._outs for t in floats):
                    rec.input_detached_calls += 1
                outs = [t for t in iter_tensors(output) if t.grad_fn is not None]
                nodes = [t.grad_fn for t in outs]
                if nodes and len(rec.output_nodes) < 64:
                    rec.output_nodes.extend(nodes[:4])
                for t in outs[:4]:
                    size = t.numel() * t.element_size()
                    if len(self._held) >= 256 or self._held_bytes + size > HELD_BYTES:
                        break
                    ptr = _storage(t)
                    if ptr:
                        self._outs.setdefault(ptr, name)
                        self._held.append(t)
                        self._held_bytes += size
            else:
                rec.nograd_calls += 1
        except Exception:  # a recorder must never break the forward pass
            pass


def _storage(t: torch.Tensor) -> int:
    """The address of a tensor's storage (shared by its detached views), 0 where it has none to read."""
    try:
        return t.untyped_storage().data_ptr()
    except Exception:   # a tensor without storage (sparse, a wrapper subclass...)
        return 0


@dataclass
class ForwardOrigin:
    stage: str                  # "input", "parameter", "forward", "none"
    module: str | None = None
    module_type: str | None = None
    detail: str = ""
    # the first module (in execution order) whose *inputs* held NaN/Inf, when that is a submodule of
    # ``module``: the values were made by ``module``'s own code before it called that submodule (e.g.
    # ``(x - x.mean(0)) / x.std(0)`` in a forward(), 0/0 on a constant feature)
    enters: str | None = None
    # stage "none": the largest magnitude among the model's (finite) floating outputs on that batch
    out_max: float | None = None


def locate_nonfinite_forward(root: nn.Module, args: tuple, kwargs: dict, names: dict[int, str]) -> ForwardOrigin:
    """Re-run ``root``'s last forward on the same inputs with finiteness checks on every module.

    The replay runs under ``torch.no_grad()``; the RNG state and every buffer (e.g. BatchNorm
    running statistics) are saved before and restored after, so the user's training is unchanged.
    Returns the first module (in execution order, innermost first) whose inputs are finite and
    whose output is not.
    """
    for t in iter_tensors((args, kwargs)):
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return ForwardOrigin("input", detail="the batch fed to the model contains NaN/Inf")
    found: list[ForwardOrigin] = []
    entered: list[nn.Module] = []

    def pre(module, inputs):
        if not entered and not all(bool(torch.isfinite(t).all()) for t in iter_tensors(inputs)
                                   if t.is_floating_point()):
            entered.append(module)

    def post(module, inputs, output):
        if found:
            return
        outs = [t for t in iter_tensors(output) if t.is_floating_point()]
        if outs and not all(bool(torch.isfinite(t).all()) for t in outs):
            name = names.get(id(module), type(module).__name__)
            bad_params = [n for n, p in module.named_parameters(recurse=False)
                          if not bool(torch.isfinite(p).all())]
            if bad_params:
                found.append(ForwardOrigin("parameter", name, type(module).__name__,
                                           f"parameter(s) {', '.join(bad_params)} hold NaN/Inf"))
                return
            ins = [t for t in iter_tensors(inputs) if t.is_floating_point()]
            if all(bool(torch.isfinite(t).all()) for t in ins):
                sub = entered[0] if entered and entered[0] is not module and \
                    any(entered[0] is m for m in module.modules()) else None
                if sub is not None:
                    first = names.get(id(sub), type(sub).__name__)
                    found.append(ForwardOrigin("forward", name, type(module).__name__,
                                               f"finite inputs, non-finite output: made by {name}'s own forward "
                                               f"code, first seen entering {first}", enters=first))
                else:
                    found.append(ForwardOrigin("forward", name, type(module).__name__,
                                               "finite inputs, non-finite output"))

    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    buffers = [(b, b.detach().clone()) for b in root.buffers()]
    handles = [m.register_forward_hook(post) for m in root.modules()]
    handles += [m.register_forward_pre_hook(pre) for m in root.modules()]
    try:
        with torch.no_grad():
            out = root(*args, **kwargs)
        outs = [t for t in iter_tensors(out) if t.is_floating_point() and t.numel()]
        out_max = max((float(t.detach().abs().max()) for t in outs), default=None)
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    return found[0] if found else ForwardOrigin("none", out_max=out_max)
