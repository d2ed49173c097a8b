"""``nndoctor checkup train.py``: run the user's script until its first backward pass, capture the
model, optimizer, loss function and batch, stop the script there, and check them up on copies.

What is captured, and how:

* the batch: the inputs of the outermost module call made with grad enabled (a global forward
  pre-hook; loss modules and parameter-free modules are not models);
* the loss: every ``torch.nn.functional`` loss call (``nn.*Loss`` modules call them) after that
  forward, with its extra arguments, the loss module that made it (a copy of it is used) and how
  its prediction comes from the model's output (the output itself, an element of a tuple/dict, a
  reshape of it, or a reshape cast to another dtype); the target is copied;
* the model: the module of that forward; the optimizer: the live optimizer holding most of its
  parameters (``nndoctor.probes.model.discover``, as ``nndoctor run`` finds them).

A loss written by hand (no ``F.*`` call) cannot be replayed on a copy: the check-up then runs the
parts that need no loss (data, and a note says what was skipped).
"""
from __future__ import annotations

import os
import runpy
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ..probes import tap
from ..probes.model import discover
from .sandbox import Batch, tensors_of


class _Captured(BaseException):
    """Raised out of the first backward pass to stop the script."""


@dataclass
class Capture:
    model: nn.Module | None = None
    optimizer: torch.optim.Optimizer | None = None
    batch: Batch | None = None
    loss_fn: Callable | None = None
    loss_desc: str = ""
    batches: list = field(default_factory=list)
    dataset_size: int | None = None     # the training DataLoader's dataset length, when one is iterating
    notes: list[str] = field(default_factory=list)


def _detach(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, (list, tuple)):
        return type(x)(_detach(v) for v in x) if not hasattr(x, "_fields") else type(x)(*(_detach(v) for v in x))
    if isinstance(x, dict):
        return {k: _detach(v) for k, v in x.items()}
    return x


class _Chain(nn.Module):
    """Modules applied one after the other, each to the previous one's output (``decoder(encoder(x))``
    in a script whose model is two top-level modules): the check-up's model."""

    def __init__(self, mods: list[nn.Module]) -> None:
        super().__init__()
        self.stages = nn.ModuleList(mods)

    def forward(self, *args, **kwargs):
        out = self.stages[0](*args, **kwargs)
        for m in self.stages[1:]:
            out = m(out)
        return out


def _head(out: Any, pred: torch.Tensor) -> Callable | None:
    """How ``pred`` was read from the model's output ``out``, as a function of a new output."""
    if out is pred:
        return lambda o: o
    if isinstance(out, (list, tuple)):
        for i, v in enumerate(out):
            if v is pred:
                return lambda o, i=i: o[i]
    if isinstance(out, dict):
        for k, v in out.items():
            if v is pred:
                return lambda o, k=k: o[k]
    for path, t in _tensor_paths(out):
        try:
            same = t.untyped_storage().data_ptr() == pred.untyped_storage().data_ptr() and t.numel() == pred.numel()
        except Exception:
            same = False
        if same:
            shape = _any_batch(pred)
            return lambda o, path=path, shape=shape: _get(o, path).reshape(shape)
    for path, t in _tensor_paths(out):
        # a reshape of an output cast to another dtype (``loss_fn(out.squeeze(-1).float(), y)`` after an
        # autocast forward): a new tensor, recognised by value
        if t.numel() != pred.numel() or t.dtype == pred.dtype or not t.is_floating_point():
            continue
        shape, dtype = _any_batch(pred), pred.dtype
        try:
            same = torch.equal(t.detach().reshape(shape).to(dtype), pred.detach())
        except Exception:
            same = False
        if same:
            return lambda o, path=path, shape=shape, dtype=dtype: _get(o, path).reshape(shape).to(dtype)
    return None


def _any_batch(pred: torch.Tensor) -> tuple:
    """The prediction's shape with its first dimension left free: the check-up replays the loss on
    batches of other sizes (the LR race, the batch-size finder), and a squeeze/flatten of the
    output keeps its trailing dimensions."""
    return (-1,) + tuple(pred.shape[1:]) if pred.ndim >= 1 else tuple(pred.shape)


def _tensor_paths(x, path=()):
    if isinstance(x, torch.Tensor):
        yield path, x
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _tensor_paths(v, path + (i,))
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _tensor_paths(v, path + (k,))


def _get(x, path):
    for p in path:
        x = x[p]
    return x


CAPTURE_BATCHES = 16   # batches collected (the first backward's model is the one checked up)


def _call_kwargs(module: nn.Module) -> dict:
    """The keyword arguments of the ``module(...)`` call now starting (``model(x, reconstruct=True)``).
    torch's global forward hooks get the positional arguments only, so they are read from the frame
    of ``Module._call_impl`` (or its inner closure) that is calling this module; ``{}`` when it is not
    found (another torch's layout): the replay then calls ``forward`` with the positional ones."""
    f = sys._getframe(2)
    for _ in range(6):
        if f is None:
            break
        loc = f.f_locals
        if loc.get("self") is module and isinstance(loc.get("kwargs"), dict):
            return dict(loc["kwargs"])
        f = f.f_back
    return {}


class _Capturer(tap.Listener):
    """Plays a doctor for ``probes.tap`` (its loss wrappers and backward tap call us).

    At the first backward pass the model, optimizer and loss are captured (the model and optimizer
    as deep copies of their state then); the script then goes on for up to ``CAPTURE_BATCHES``
    backward passes so the LR range test and the noise scale see several batches, and is stopped."""

    def __init__(self, n_batches: int = CAPTURE_BATCHES) -> None:
        self.n_batches = n_batches
        self.batches: list[Batch] = []
        self.depth = 0
        self.forward: tuple[nn.Module, tuple, dict, Any] | None = None
        self.calls: list[tuple[str, Any, tuple, dict, nn.Module | None, Callable | None]] = []
        self.capture: Capture | None = None
        self._hooks: list[Any] = []
        self._chains: dict[tuple[int, ...], _Chain] = {}
        self.staged = False

    def install(self) -> None:
        from torch.nn.modules import module as M
        self._hooks = [M.register_module_forward_pre_hook(self._pre), M.register_module_forward_hook(self._post)]
        tap.attach(self)

    def remove(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []
        tap.detach(self)

    # module hooks
    def _pre(self, module, args):
        self.depth += 1
        if self.depth == 1 and torch.is_grad_enabled() and not isinstance(module, nn.modules.loss._Loss) \
                and any(True for _ in module.parameters()):
            self._pending = (module, args, _call_kwargs(module))

    def _post(self, module, args, output):
        self.depth -= 1
        if self.depth == 0 and getattr(self, "_pending", None) is not None and self._pending[0] is module:
            prev = self.forward
            if prev is not None and len(args) == 1 and not self._pending[2] and args[0] is prev[3] \
                    and not self.calls:
                # ``decoder(encoder(x))``: this module takes the previous one's output as it is, so the
                # model is the chain of both (the same chain object each time, so later batches match)
                mods = (list(prev[0].stages) if isinstance(prev[0], _Chain) else [prev[0]]) + [module]
                key = tuple(id(m) for m in mods)
                chain = self._chains.get(key)
                if chain is None:
                    chain = self._chains[key] = _Chain(mods)
                self.forward = (chain, prev[1], prev[2], output)
                self.staged = False
            else:
                self.forward = (module, _detach(args), {k: _detach(v) for k, v in self._pending[2].items()}, output)
                # fed by another trainable computation (a head on a shared trunk): this module is one
                # stage of the model, and a check-up of it alone on fixed inputs would not describe the run
                self.staged = any(t.requires_grad and t.grad_fn is not None
                                  for t in tensors_of((args, self._pending[2])))
            self.calls = []
            self._pending = None

    # tap callbacks
    def _on_loss(self, name, args, kwargs, result):
        pred = args[0] if args else kwargs.get("input")
        if not (isinstance(pred, torch.Tensor) and pred.requires_grad and torch.is_grad_enabled()):
            return
        if self.forward is None:
            return
        head = _head(self.forward[3], pred)
        frame = sys._getframe(2)
        owner = frame.f_locals.get("self") if frame is not None else None
        if not isinstance(owner, nn.modules.loss._Loss):
            owner = None
        target = args[1] if len(args) > 1 else kwargs.get("target")
        rest_args = _detach(tuple(args[2:]))
        rest_kw = {k: _detach(v) for k, v in kwargs.items() if k not in ("input", "target")}
        # looked up at call time: while a doctor watches the check-up's steps, F's loss is its wrapper
        fn = (lambda *a, name=name, **k: getattr(torch.nn.functional, name)(*a, **k))
        self.calls.append((name, _detach(target), rest_args, rest_kw, owner, head, fn))

    def _on_backward_start(self, tensors):
        if self.capture is None:
            self.capture = self._build()
            if self.capture.batch is not None:
                self.batches.append(self.capture.batch)
            if self.capture.loss_fn is None or self.capture.model is None:
                raise _Captured()
        elif self.forward is not None and self.forward[0] is self._orig_model and self.calls:
            targets = [k[1] for k in self.calls]
            if len(targets) == self._n_targets:
                self.batches.append(Batch(tuple(self.forward[1]), dict(self.forward[2]),
                                          targets[0] if len(targets) == 1 else tuple(targets)))
        self.calls = []
        if len(self.batches) >= self.n_batches:
            raise _Captured()

    def _build(self) -> Capture:
        import copy

        c = Capture()
        if self.forward is None:
            c.notes.append("no model forward pass with grad was seen before the first backward pass")
            return c
        module, args, kwargs, _ = self.forward
        c.model = self._orig_model = module
        self._n_targets = len(self.calls)
        _, opts = discover()
        own = {id(p) for p in module.parameters()}
        scored = [(sum(id(p) in own for g in o.param_groups for p in g["params"]), o) for o in opts]
        scored = [s for s in scored if s[0] > 0]
        if scored:
            c.optimizer = max(scored, key=lambda s: s[0])[1]
        try:  # the state at the first backward pass: the script goes on training the originals
            from .sandbox import copy_training
            c.model, c.optimizer = copy_training(module, c.optimizer)
        except Exception as e:
            c.notes.append(f"the model could not be copied ({type(e).__name__}); only the first batch is used")
            self.n_batches = 1
        calls = [k for k in self.calls if k[5] is not None]
        if self.staged and self.calls:
            c.notes.append(f"the model captured, `{type(module).__name__}`, is fed by another module with trainable "
                           "parameters (its input carries their gradient history): checking it alone on fixed inputs "
                           "would not describe the run, so the parts that need the loss were skipped")
            calls = []
        elif not self.calls:
            c.notes.append("the loss is hand-written (no torch.nn.functional loss call): the parts that need "
                           "the loss were skipped")
        elif len(calls) < len(self.calls):
            c.notes.append("a loss's prediction is computed from the model's output by code nndoctor cannot "
                           "replay: the parts that need the loss were skipped")
            calls = []
        targets = [k[1] for k in calls]
        c.batch = Batch(tuple(args), dict(kwargs), targets[0] if len(targets) == 1 else tuple(targets))
        c.dataset_size = iterating_dataset_size(c.batch.size)
        if calls:
            parts = []
            for name, _t, rest, kw, owner, head, fn in calls:
                if owner is not None:
                    mod = copy.deepcopy(owner)
                    parts.append((lambda o, y, mod=mod, head=head: mod(head(o), y)))
                else:
                    parts.append((lambda o, y, fn=fn, head=head, rest=rest, kw=kw: fn(head(o), y, *rest, **kw)))
            if len(parts) == 1:
                c.loss_fn = parts[0]
            else:
                c.loss_fn = lambda o, ys, parts=parts: sum(p(o, y) for p, y in zip(parts, ys))
            c.loss_desc = " + ".join((type(k[4]).__name__ if k[4] is not None else f"F.{k[0]}") for k in calls)
        return c


def iterating_dataset_size(batch_size: int) -> int | None:
    """The dataset length of the DataLoader being iterated now (the training loop's, at its first
    backward pass): live DataLoader iterators that have yielded a batch, whose loader's batch size is
    the captured batch's. None when there is none (a loop slicing tensors) or several disagree."""
    import gc

    try:
        from torch.utils.data.dataloader import _BaseDataLoaderIter
    except ImportError:  # pragma: no cover
        return None
    sizes = set()
    for o in gc.get_objects():
        try:
            if issubclass(type(o), _BaseDataLoaderIter) and getattr(o, "_num_yielded", 0) > 0 and \
                    getattr(o, "_dataset_kind", None) == 0 and (getattr(o, "_index_sampler", None) is None
                                                                or getattr(o._index_sampler, "batch_size", None)
                                                                in (batch_size, None)):
                sizes.add(len(o._dataset))
        except Exception:  # an exotic dataset without len()
            continue
    return sizes.pop() if len(sizes) == 1 else None


def capture_script(script: str, args: list[str]) -> tuple[Capture | None, int]:
    """Run ``script`` as __main__ until its first backward pass. Returns (capture, 0), or (None, code)."""
    path = Path(script)
    if not path.exists():
        print(f"nndoctor checkup: no such script: {script}", file=sys.stderr)
        return None, 2
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(path)] + list(args)
    sys.path.insert(0, str(path.resolve().parent))
    cap = _Capturer()
    cap.install()
    sink = open(os.devnull, "w")
    saved_stdout = sys.stdout
    sys.stdout = sink  # the script's own prints while it runs its first steps
    code = 0
    try:
        runpy.run_path(str(path), run_name="__main__")
    except _Captured:
        pass
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout = saved_stdout
        sink.close()
        cap.remove()
        sys.argv, sys.path[:] = saved_argv, saved_path
    if cap.capture is not None:
        cap.capture.batches = cap.batches
    if cap.capture is None:
        print(f"nndoctor checkup: {script} ended (exit code {code}) before its first backward pass: "
              "nothing to check up", file=sys.stderr)
        return None, code or 2
    return cap.capture, 0


def parse_bytes(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    t = text.strip().lower().rstrip("ib").rstrip("b") if text.strip().lower().endswith(("ib", "b")) else text.strip().lower()
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(float(t))


def run_checkup_cli(script: str, args: list[str], *, json_path: str | None = None, quiet: bool = False,
                    memory_limit: str | None = None, lr_test: bool = True, overfit: bool = True,
                    batch_size: bool = True) -> int:
    import time

    from . import checkup
    from ..findings import Report

    t0 = time.perf_counter()
    cap, code = capture_script(script, args)
    if cap is None:
        return code
    t_script = time.perf_counter() - t0
    if cap.model is None or cap.batch is None:
        report = Report(notes=cap.notes)
    elif cap.loss_fn is None:
        report = checkup(cap.model, cap.batch, _no_loss, cap.optimizer, lr_test=False, overfit=False,
                         batch_size=False, watched_steps=False)
        report.notes = cap.notes + report.notes
    else:
        report = checkup(cap.model, cap.batches or [cap.batch], cap.loss_fn, cap.optimizer, lr_test=lr_test, overfit=overfit,
                         batch_size=batch_size, dataset_size=cap.dataset_size,
                         memory_limit_bytes=parse_bytes(memory_limit) if memory_limit else None)
        report.notes = cap.notes + report.notes
    report.checkup.setdefault("timings_s", {})["script_until_first_backward"] = round(t_script, 3)
    report.checkup["captured"] = {"model": type(cap.model).__name__ if cap.model is not None else None,
                                  "optimizer": type(cap.optimizer).__name__ if cap.optimizer is not None else None,
                                  "loss": cap.loss_desc or None,
                                  "batch_size": cap.batch.size if cap.batch is not None else None,
                                  "batches": len(cap.batches), "dataset_size": cap.dataset_size}
    if not quiet:
        sys.stdout.flush()
        report.render()
    if json_path:
        Path(json_path).write_text(report.to_json())
    return 1 if any(f.severity == "error" for f in report.findings) else 0


def _no_loss(out, y=None):
    raise RuntimeError("the loss could not be captured")
