"""Activation probe: per-layer statistics of the forward signal, on sampled forward passes.

Armed for a few consecutive training forward passes at a time (a *sample*), then removed, so
between samples the model runs with no hook of ours at all. Everything is reduced on the device and
the per-module numbers of one sample go to the host in one transfer when the sample ends; CPU
tensors are read through numpy instead (a zero-copy view, far cheaper than torch ops on the small
tensors of a small model).

Per module it records:
* activation modules (ReLU, Sigmoid, Tanh...): for ReLU-like ones, which units (features or
  channels) were positive at least once (a unit never positive over the whole sample is *dead*);
  for sigmoid/tanh-like ones, the share of outputs in the flat tails;
* layers (Linear, Conv, RNN): the RMS of their input and output, and the same dead / saturated
  statistics computed on their *input*, which catches activations applied functionally
  (``F.relu(x)``, ``torch.tanh(x)``) that no module hook can see; for the first layer, per-feature
  scale statistics of its input (what the network is fed, after any in-model preprocessing);
* normalization layers: how many values each BatchNorm channel is normalized over.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import math
import time

import numpy as np
import torch
from torch import nn

from .forward import iter_tensors
from .hooks import InertOnCopy, in_transform

_TORCH_DIR = torch.__file__.rsplit("/", 1)[0]
_MODULES_DIR = _TORCH_DIR + "/nn/modules/"
_FUNCTIONAL = ((torch, "sigmoid", "sigmoid"), (torch, "tanh", "tanh"),
               (torch.Tensor, "sigmoid", "sigmoid"), (torch.Tensor, "tanh", "tanh"))
RELU_LIKE = (nn.ReLU, nn.ReLU6)
SIGMOID_LIKE = (nn.Sigmoid, nn.Hardsigmoid)
TANH_LIKE = (nn.Tanh, nn.Hardtanh, nn.Softsign)
ACT_TYPES = RELU_LIKE + SIGMOID_LIKE + TANH_LIKE
LAYER_TYPES = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd, nn.RNNBase)
EMBED_TYPES = (nn.Embedding, nn.EmbeddingBag)
NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
BATCHNORM_TYPES = (nn.modules.batchnorm._BatchNorm,)

# thresholds that define "in the flat tail" (the derivative there is < 4% of its maximum)
TANH_SAT = 0.99          # tanh'(x) = 1 - tanh^2 < 0.02
SIGMOID_SAT = 0.01       # sigmoid'(x) = s(1-s) < 0.0099 (vs 0.25 at 0)

# the scalar statistics kept per module and sample (NaN where not applicable)
FIELDS = ("dead", "units", "sat", "rms_in", "rms_out", "min_in", "max_in", "sat_in_tanh", "sat_in_sigmoid",
          "dead_in", "units_in", "is_model_input", "bn_count", "is_output", "discrete_in", "crms_in")


def _unit_dim(t: torch.Tensor, conv: bool) -> int:
    """Which dimension holds the units: channels (dim 1) for conv-like signals, else the last."""
    if t.ndim <= 1:
        return 0
    return 1 if conv and t.ndim >= 3 else t.ndim - 1


# On the CPU the probe reads a tensor's values through numpy (a zero-copy view): the same
# statistics, in float32/float64 as torch computes them, at a fraction of the cost. The tensors the
# probe sees in a small model's forward pass hold a few hundred values, where each torch op's dispatch
# (~3-5 us) costs far more than its arithmetic and a numpy op costs ~1 us; on a large tensor numpy's
# comparisons and counts are still ~5x faster than torch's on one thread. Other devices and dtypes
# (bfloat16/half, subclasses, conjugate views) keep the torch path: reduced on the device, read at the
# sample's end.
_NP_DTYPES = (torch.float32, torch.float64)


def _host_view(t: torch.Tensor) -> np.ndarray | None:
    """A CPU float32/float64 tensor's values as a numpy array without a copy, else None."""
    if not t.is_cpu or t.dtype not in _NP_DTYPES or type(t) not in (torch.Tensor, nn.Parameter):
        return None
    try:
        return t.detach().numpy()
    except (RuntimeError, TypeError, ValueError):
        return None


def _alive(t: torch.Tensor, dim: int) -> torch.Tensor | np.ndarray:
    """Per unit along ``dim``: was it positive for any element of the batch? (a numpy bool array
    for a CPU tensor, else a device tensor)"""
    a = _host_view(t)
    if a is not None:
        if a.ndim == 0:
            return (a > 0).reshape(1)
        # (the comparison's result is contiguous: viewed as (before, units, after), it is reduced in place, with
        # no copy of a moved axis; ~2x faster on a conv's channels)
        d = dim % a.ndim
        return (a > 0).reshape(math.prod(a.shape[:d]), a.shape[d], math.prod(a.shape[d + 1:])).any(axis=(0, 2))
    x = t.detach()
    if x.ndim == 0:
        return (x > 0).reshape(1)
    x = x.movedim(dim, -1).reshape(-1, x.shape[dim])
    return (x > 0).any(0)


def _union(old, new):
    """OR of two per-unit "alive" vectors across a sample's forward passes (a new shape, or a vector
    of the other kind -- numpy for CPU, a tensor for a device -- starts again from the new one)."""
    if old is None or type(old) is not type(new) or tuple(old.shape) != tuple(new.shape):
        return new
    return old | new


def _n_units(a) -> float:
    return float(a.size if isinstance(a, np.ndarray) else a.numel())


def _dead_share(a):
    """1 - the share of alive units: a float for a numpy vector, a 1-element tensor otherwise."""
    if isinstance(a, np.ndarray):
        return 1.0 - float(np.count_nonzero(a)) / a.size if a.size else float("nan")
    return (1.0 - a.float().mean()).reshape(1)


def _tail_share(o: torch.Tensor, kind: str):
    """The share of a tanh/sigmoid output in the flat tails (a float on the CPU, else a 0-d tensor)."""
    a = _host_view(o)
    if a is not None:
        if not a.size:
            return float("nan")
        if kind == "tanh":
            return np.count_nonzero(np.abs(a) > TANH_SAT) / a.size
        return np.count_nonzero((a < SIGMOID_SAT) | (a > 1 - SIGMOID_SAT)) / a.size
    if kind == "tanh":
        return (o.abs() > TANH_SAT).float().mean()
    return ((o < SIGMOID_SAT) | (o > 1 - SIGMOID_SAT)).float().mean()


@dataclass
class _ModState:
    name: str
    kind: str                       # "relu", "sigmoid", "tanh", "layer", "embedding", "norm", "other-act"
    module_type: str
    order: int
    alive: torch.Tensor | None = None       # OR over the sample's forward passes
    alive_in: torch.Tensor | None = None
    stats: list[dict] = field(default_factory=list)   # per forward: {field: 0-d tensor or float}
    out_ptrs: set[int] = field(default_factory=set)
    features: list[torch.Tensor] = field(default_factory=list)  # first layer: per-feature stats
    weight_std: float | None = None
    fan_in: int | None = None
    fan_out: int | None = None
    fed_by: dict[str, None] = field(default_factory=dict)   # a functional activation: the layers whose
    # outputs it was applied to (one call site in a block's forward serves every block), in order
    on_output: bool = False    # a functional activation applied to the model's output (in the loss, after forward)
    returns_output: bool = False   # a layer whose output tensor is the one the model's forward returned
    hand_written: bool = False  # a layer of no known type (_custom_layer): its fan-in read from its input's width
    n_in: int = 0              # examples of its input summarized in this sample (_LAYER_IN_EXAMPLES)


class ActivationProbe:
    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.handles: list[Any] = []
        self.mods: dict[str, _ModState] = {}
        self._order = 0
        self._first_layer: str | None = None
        self._input_ptrs: set[int] = set()
        self._root_out_ptrs: set[int] = set()
        self._fwd_out_ptrs: set[int] = set()     # the outputs of the latest forward pass only
        self._layer_out: dict[int, str] = {}    # this forward's layer outputs (data_ptr -> layer name)
        self._layer_objs: dict[int, tuple] = {}  # this forward's layer output tensors (id -> (tensor, state))
        self._prev_conv = False
        self.forwards = 0
        self.samples = 0
        self.cost = 0.0          # seconds spent in this probe's hooks and collect() (the last sample)
        self._cost = 0.0
        self._patched: list[tuple[Any, str, Any]] = []
        # what the modules hold: a copy of the model carries an inert hook, not this probe (probes.hooks)
        self._hooks = (InertOnCopy(self._hook), InertOnCopy(self._root_post))

    @property
    def armed(self) -> bool:
        return bool(self.handles)

    def arm(self, roots: list[nn.Module]) -> None:
        if self.handles:
            return
        for root in roots:
            for m in root.modules():
                if isinstance(m, ACT_TYPES + LAYER_TYPES + EMBED_TYPES + NORM_TYPES) or _custom_layer(m):
                    self.handles.append(m.register_forward_hook(self._hooks[0]))
            self.handles.append(root.register_forward_hook(self._hooks[1]))
        self._patch_functional()

    def disarm(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()
        self._unpatch_functional()

    # functional sigmoid/tanh (torch.sigmoid(x), x.tanh(), F.sigmoid...) are wrapped for the sample only
    def _patch_functional(self) -> None:
        if self._patched:
            return
        for owner, attr, kind in _FUNCTIONAL:
            orig = getattr(owner, attr, None)
            if orig is None or getattr(orig, "__nndoctor_probe__", False):
                continue
            self._patched.append((owner, attr, orig))
            setattr(owner, attr, self._make_wrapper(orig, kind))

    def _unpatch_functional(self) -> None:
        for owner, attr, orig in reversed(self._patched):
            if getattr(getattr(owner, attr, None), "__nndoctor_probe__", False):
                setattr(owner, attr, orig)
        self._patched = []

    def _make_wrapper(self, orig, kind: str):
        probe = self

        def wrapper(*args, **kwargs):
            out = orig(*args, **kwargs)
            try:
                if torch.is_grad_enabled() and isinstance(out, torch.Tensor) and out.is_floating_point() \
                        and not in_transform():
                    probe._functional(kind, out, args[0] if args and isinstance(args[0], torch.Tensor) else None)
            except Exception:  # a probe must never break the forward pass
                pass
            return out

        wrapper.__nndoctor_probe__ = True  # type: ignore[attr-defined]
        return wrapper

    def _functional(self, kind: str, out: torch.Tensor, inp: torch.Tensor | None = None) -> None:
        import sys

        f = sys._getframe(2)
        while f is not None and f.f_code.co_filename.startswith(_TORCH_DIR):
            if f.f_code.co_filename.startswith(_MODULES_DIR):  # nn.Sigmoid/nn.Tanh: seen by their hooks
                return
            f = f.f_back  # F.sigmoid(x) calls x.sigmoid(): the site is F.sigmoid's caller
        if f is None:
            return
        t0 = time.perf_counter()
        name = f"{kind}() at {f.f_code.co_filename.rsplit('/', 1)[-1]}:{f.f_lineno}"
        st = self.mods.get(name)
        if st is None:
            st = self.mods[name] = _ModState(name, kind, f"torch.{kind}", self._order)
            self._order += 1
        o = out.detach()
        st.stats.append({"sat": _tail_share(o, kind)})
        st.out_ptrs.add(o.data_ptr())
        if inp is not None:   # applied straight to a layer's output (torch.sigmoid(self.gate(x))): which one
            src = self._layer_out.get(inp.data_ptr())
            if src is not None:
                st.fed_by[src] = None
            if inp.data_ptr() in self._fwd_out_ptrs:
                # to what the forward pass just returned: the loss's own sigmoid (a focal loss's p = sigmoid(logits)),
                # the model's output nonlinearity, whose confident outputs sit in the tails by design
                st.on_output = True
        self._cost += time.perf_counter() - t0

    def note_inputs(self, args: Any, kwargs: Any) -> None:
        """The root's inputs of the forward pass about to run (to recognise the raw data)."""
        self.forwards += 1
        self._prev_conv = False
        self._layer_out.clear()
        self._layer_objs.clear()
        self._fwd_out_ptrs = set()
        self._input_ptrs = {t.data_ptr() for t in iter_tensors((args, kwargs)) if t.numel()}

    def _root_post(self, module, inputs, output) -> None:
        try:
            self._fwd_out_ptrs = {t.data_ptr() for t in iter_tensors(output) if t.numel()}
            self._root_out_ptrs |= self._fwd_out_ptrs
            for t in iter_tensors(output):
                for c in (t, t._base):   # (or a view of it: ``self.out(x).squeeze(-1)``)
                    hit = self._layer_objs.get(id(c)) if c is not None else None
                    if hit is not None and hit[0] is c:
                        hit[1].returns_output = True
        except Exception:
            pass
        self._layer_objs.clear()

    # ------------------------------------------------------------------ the hook
    def _hook(self, module, inputs, output) -> None:
        if in_transform():
            return
        t0 = time.perf_counter()
        try:
            self._record(module, inputs, output)
        finally:
            self._cost += time.perf_counter() - t0

    def _record(self, module, inputs, output) -> None:
        try:
            if not torch.is_grad_enabled():
                return
            name = self.names.get(id(module))
            if name is None:
                return
            out = next((t for t in iter_tensors(output) if t.is_floating_point()), None)
            if out is not None and out.is_meta:   # shapes without values (a meta-device dry run)
                return
            st = self.mods.get(name)
            if st is None:
                st = self.mods[name] = _ModState(name, _kind(module), type(module).__name__, self._order)
                self._order += 1
            inp = next((t for t in iter_tensors(inputs) if isinstance(t, torch.Tensor)), None)
            if st.kind == "layer" and self.samples == 0 and st.fan_in is None:  # poor-initialization reads the first sample
                st.hand_written = not isinstance(module, LAYER_TYPES)
                _weight_info(st, module, inp)
            if st.kind in ("layer", "embedding", "norm") and self._first_layer is None and \
                    (st.kind != "layer" or _trainable(module)):
                # the first layer the optimizer trains: a frozen one before it (a fitted whitening or PCA
                # projection, a frozen pretrained stem) is a fixed transform of the data, and the scale that
                # conditions the training is that of what it hands on
                self._first_layer = name
            if out is None:
                return
            vals: dict[str, Any] = {}   # 0-d tensors (kept on the device) or plain floats
            o = out.detach()
            if st.kind == "layer":
                self._layer_out[o.data_ptr()] = name
                # (is_output: the layer whose very output tensor the model returns, matched by identity in the same
                # forward at the root's hook: a data pointer can be reused by a later tensor once this one is freed)
                self._layer_objs[id(out)] = (out, st)
            if st.kind == "relu":
                dim = _unit_dim(o, self._prev_conv)
                a = _alive(o, dim)
                st.alive = _union(st.alive, a)
                vals["units"] = _n_units(a)
                st.out_ptrs.add(o.data_ptr())
            elif st.kind in ("tanh", "sigmoid"):
                vals["sat"] = _tail_share(o, st.kind)
                st.out_ptrs.add(o.data_ptr())
            elif st.kind == "layer" and inp is not None and inp.is_floating_point() and inp.numel():
                conv = isinstance(module, nn.modules.conv._ConvNd)
                x = inp.detach()
                if st.n_in < _LAYER_IN_EXAMPLES:
                    vals[_LAYER_IN] = _layer_input_stats(x, o)
                    st.n_in += int(x.shape[0]) if x.ndim else 1
                is_input = x.data_ptr() in self._input_ptrs
                vals["is_model_input"] = float(is_input)
                if not isinstance(module, nn.RNNBase):
                    dim = _unit_dim(x, conv)
                    a = _alive(x, dim)
                    st.alive_in = _union(st.alive_in, a)
                    vals["units_in"] = _n_units(a)
                if name == self._first_layer and self.samples == 0:  # what the model is fed: once
                    st.features.append(_feature_stats(x, _unit_dim(x, conv)))
                self._prev_conv = conv
            elif st.kind == "norm" and isinstance(module, BATCHNORM_TYPES) and module.training \
                    and inp is not None and inp.ndim >= 2:
                vals["bn_count"] = float(inp.numel() // inp.shape[1])
                if name == self._first_layer and inp.is_floating_point() and self.samples == 0:
                    st.features.append(_feature_stats(inp.detach(), 1))
            elif st.kind == "norm" and name == self._first_layer and inp is not None and inp.is_floating_point() \
                    and self.samples == 0:
                st.features.append(_feature_stats(inp.detach(), inp.ndim - 1))
            st.stats.append(vals)
        except Exception:  # a probe must never break the forward pass
            pass

    # ------------------------------------------------------------------ results
    def collect(self) -> dict[str, Any]:
        """Reduce the sample to plain numbers (one host transfer) and reset for the next sample."""
        t0 = time.perf_counter()
        self.disarm()
        # every device number of the sample in one stack and one host transfer; numbers already on the
        # host (a CPU tensor's, read through numpy) go straight to their slot
        tensors: list[torch.Tensor] = []
        # (module, field, where the values are: an offset into the device values or a list of floats,
        # (numel in, numel out, first forward?) for a packed layer input or None)
        slots: list[tuple[str, str, int | list[float], tuple | None]] = []
        at = 0
        for st in self.mods.values():
            for i, vals in enumerate(st.stats):
                for k, v in vals.items():
                    if k is _LAYER_IN:   # a layer input's packed statistics: decoded on the host below
                        extra = v[:2] + (i == 0,)
                        if isinstance(v[2], float):
                            slots.append((st.name, k, list(v[2:]), extra))
                            continue
                        slots.append((st.name, k, at, extra))
                        for t in v[2:]:
                            tensors.append(t.reshape(-1))
                        at += _LAYER_IN_WIDTH
                    elif isinstance(v, torch.Tensor):
                        slots.append((st.name, k, at, None))
                        tensors.append(v.detach().float().reshape(1))
                        at += 1
                    elif k in _HOST_MEANS:
                        slots.append((st.name, k, [float(v)], None))
            for field_name, alive in (("dead", st.alive), ("dead_in", st.alive_in)):
                if alive is None:
                    continue
                share = _dead_share(alive)
                if isinstance(share, float):
                    slots.append((st.name, field_name, [share], None))
                else:
                    slots.append((st.name, field_name, at, None))
                    tensors.append(share)
                    at += 1
        host = torch.cat([t.float().cpu() for t in tensors]).tolist() if tensors else []
        acc: dict[str, dict[str, list[float]]] = {}
        for mod, k, src, extra in slots:
            m = acc.setdefault(mod, {})
            if k is _LAYER_IN:
                v = src if isinstance(src, list) else host[src: src + _LAYER_IN_WIDTH]
                for f, x in _decode_layer_input(v, extra[0], extra[1]).items():
                    m.setdefault(f, []).append(x)
                if extra[2]:  # the first forward's input RMS (poor-initialization reads the very first batch)
                    m["rms_in_first"] = [m["rms_in"][-1]]
                    m["crms_in_first"] = [m["crms_in"][-1]]
            else:
                m.setdefault(k, []).append(src[0] if isinstance(src, list) else host[src])
        out: dict[str, Any] = {"forwards": self.forwards, "modules": {}}
        for st in sorted(self.mods.values(), key=lambda s: s.order):
            if not st.stats:
                continue
            d: dict[str, Any] = dict.fromkeys(FIELDS + ("rms_in_first", "crms_in_first"), float("nan"))
            for k, vs in acc.get(st.name, {}).items():
                d[k] = sum(vs) / len(vs)
            for vals in st.stats[:1]:   # the fields that do not change within a sample: its first forward's
                for k, v in vals.items():
                    if not isinstance(v, torch.Tensor) and k is not _LAYER_IN and k not in _HOST_MEANS:
                        d[k] = v
            d["is_output"] = float(bool(st.out_ptrs & self._root_out_ptrs) or st.on_output or st.returns_output)
            d.update(kind=st.kind, type=st.module_type, order=st.order, weight_std=st.weight_std,
                     fan_in=st.fan_in, fan_out=st.fan_out)
            if st.hand_written:
                d["hand_written"] = True
            if st.fed_by:
                d["fed_by"] = list(st.fed_by)
            out["modules"][st.name] = d
        first = self.mods.get(self._first_layer) if self._first_layer else None
        if first is not None and first.features:
            out["first_layer"] = {"name": first.name, "type": first.module_type,
                                  **_pool_features(first.features)}
        elif self._first_layer:
            out["first_layer"] = {"name": self._first_layer, "type": self.mods[self._first_layer].module_type}
        self.samples += 1
        self.cost = self._cost + time.perf_counter() - t0
        self._cost = 0.0
        self.mods = {}
        self._order = 0
        self._first_layer = None
        self._root_out_ptrs = set()
        self._fwd_out_ptrs = set()
        self.forwards = 0
        return out


# A layer's input is summarised in a few fused ops (the probe runs inside the forward pass, where
# each small op's dispatch costs more than its arithmetic): two norms, min and max in one op, and
# three counts; they are stacked and turned into shares and RMS on the host when the sample ends.
# (torch.bucketize would count everything in one op, but it is ~30 ns per element on a CPU core and
# slow under intra-op threading: comparisons are cheaper.)
_LAYER_IN = "_layer_in"
_LAYER_IN_WIDTH = 8
# A sample runs a few forward passes (>= 64 examples, so that a unit silent on all of them can be called dead);
# a layer's input summary is taken on its first passes only, until it covers 32 examples: RMS, extremes and
# shares over 32 examples x the layer's width are thousands of values, and the rules read them in decades (a
# depth profile, a scale 10x off); a second and third batch narrow nothing they decide, at ~20 us a layer each
_LAYER_IN_EXAMPLES = 32
_HOST_MEANS = ("sat",)   # the per-forward fields averaged over the sample that the CPU path gives as floats


def _layer_input_stats(x: torch.Tensor, out: torch.Tensor) -> tuple:
    """(numel in, numel out, |x|, |out|, min of x, max of x, #|x| > 0.99, #(x < 0.01 or x > 0.99),
    #x in {-1, 0, 1}, |x - its mean over the leading (batch) axis|): plain floats for CPU tensors (through
    numpy), else tensors left on the device (|x|, |out|, (min, max), the three counts, the centered norm).

    The centered norm is the part of the input that varies from example to example: what carries the
    input's information through the layer. A constant part (a bias the layer below adds) keeps |x| up
    while a too-small init lets the varying part fade through depth (NaN for a batch of one)."""
    xa, oa = _host_view(x), _host_view(out)
    if xa is not None and oa is not None:
        xv, ov = xa.reshape(-1), oa.reshape(-1)
        with np.errstate(all="ignore"):   # an overflowing square is inf, as in torch; no warning
            a = np.abs(xv)
            if xa.ndim >= 2 and xa.shape[0] >= 2:
                xm = xa.reshape(xa.shape[0], -1)
                c = (xm - xm.mean(0)).reshape(-1)
                centered = math.sqrt(float(np.dot(c, c)))
            else:
                centered = float("nan")
            return (xv.size, ov.size, math.sqrt(float(np.dot(xv, xv))), math.sqrt(float(np.dot(ov, ov))),
                    float(xv.min()), float(xv.max()), float(np.count_nonzero(a > TANH_SAT)),
                    float(np.count_nonzero((xv < SIGMOID_SAT) | (xv > 1 - SIGMOID_SAT))),
                    float(np.count_nonzero((a == 0) | (a == 1))), centered)
    xf = x if x.dtype in _NP_DTYPES else x.float()   # (float64 compared in float64, as on the CPU path)
    of = out if out.dtype in _NP_DTYPES else out.float()
    a = xf.abs()
    if xf.ndim >= 2 and xf.shape[0] >= 2:
        xm = xf.reshape(xf.shape[0], -1)
        centered = torch.linalg.vector_norm(xm - xm.mean(0))
    else:
        centered = torch.full((), float("nan"), device=xf.device)
    return (xf.numel(), of.numel(), torch.linalg.vector_norm(xf), torch.linalg.vector_norm(of),
            torch.stack(torch.aminmax(xf)), (a > TANH_SAT).sum(),
            ((xf < SIGMOID_SAT) | (xf > 1 - SIGMOID_SAT)).sum(),
            ((a == 0) | (a == 1)).sum(), centered)   # (the counts: sign()/binarized values)


def _decode_layer_input(v: list[float], n_in: int, n_out: int) -> dict[str, float]:
    return {"rms_in": v[0] / math.sqrt(n_in), "rms_out": v[1] / math.sqrt(max(n_out, 1)),
            "min_in": v[2], "max_in": v[3],
            "sat_in_tanh": v[4] / n_in, "sat_in_sigmoid": v[5] / n_in, "discrete_in": v[6] / n_in,
            "crms_in": v[7] / math.sqrt(n_in)}


def _trainable(m: nn.Module) -> bool:
    """Has the module a parameter of its own that requires grad (a layer with none is frozen)?"""
    return any(p.requires_grad for p in m.parameters(recurse=False))


def _kind(m: nn.Module) -> str:
    if isinstance(m, RELU_LIKE):
        return "relu"
    if isinstance(m, SIGMOID_LIKE):
        return "sigmoid"
    if isinstance(m, TANH_LIKE):
        return "tanh"
    if isinstance(m, LAYER_TYPES):
        return "layer"
    if isinstance(m, EMBED_TYPES):
        return "embedding"
    if isinstance(m, NORM_TYPES):
        return "norm"
    if _custom_layer(m):
        return "layer"
    return "other-act"


def _custom_layer(m: nn.Module) -> bool:
    """A layer written by hand: a module of no known type, with no submodules, holding a weight of its
    own (a parameter of >= 2 dimensions: ``self.W = nn.Parameter(torch.randn(n_in, n_out))``)."""
    if isinstance(m, ACT_TYPES + LAYER_TYPES + EMBED_TYPES + NORM_TYPES + (nn.RNNCellBase,)) \
            or next(m.children(), None) is not None:
        return False   # (torch's RNN cells too: two matrices, input and hidden, not one layer's weight)
    return any(p.ndim >= 2 for p in m.parameters(recurse=False))


def _weight_info(st: _ModState, m: nn.Module, inp: torch.Tensor | None = None) -> None:
    w = getattr(m, "weight", None)
    if not (isinstance(w, torch.Tensor) and w.ndim >= 2) and not isinstance(m, LAYER_TYPES):
        # a hand-written layer: its weight is the parameter one of whose sides is the input's width; stored
        # as (in, out) for ``x @ W`` or as (out, in) for ``F.linear(x, W)``
        width = inp.shape[-1] if isinstance(inp, torch.Tensor) and inp.ndim >= 1 else None
        cands = [p for p in m.parameters(recurse=False) if p.ndim == 2]
        w = next((p for p in cands if width in p.shape), None)
        if w is None or w.numel() <= 1:
            return
        with torch.no_grad():
            st.weight_std = float(w.detach().float().std())
        fan_in = w.shape[0] if w.shape[0] == width else w.shape[1]
        st.fan_in, st.fan_out = int(fan_in), int(w.numel() // fan_in)
        return
    if isinstance(w, torch.Tensor) and w.ndim >= 2 and w.numel() > 1:
        with torch.no_grad():
            st.weight_std = float(w.detach().float().std())
        receptive = w[0][0].numel() if w.ndim > 2 else 1
        st.fan_in = int(w.shape[1] * receptive)
        st.fan_out = int(w.shape[0] * receptive)


def _quantile_rows(f: torch.Tensor, q: float) -> torch.Tensor:
    """``torch.quantile(f, q, dim=0)`` (linear interpolation) by one sort: the same values to float
    rounding, ~2x cheaper per call, and without torch.quantile's ~9 ms first call in a process (a whole
    step of a small model, paid by every short run)."""
    n = f.shape[0]
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    s = f.sort(dim=0).values   # NaN sorts last
    out = s[lo] + (s[hi] - s[lo]) * (pos - lo)
    # a column holding a NaN is NaN, as torch.quantile has it (its top is then NaN: one comparison)
    return torch.where(torch.isnan(s[-1]), s[-1], out)


def _feature_stats(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Per feature: mean, std, 99th percentile of |x|, share of values that are 0 or 1, share of
    non-zero values, share of values equal to the feature's median (a feature that sits at one value
    most of the time: 0 for a background pixel, or that pixel after global centering) -> (6, F)."""
    a = _host_view(x)
    if a is not None:
        return torch.from_numpy(_feature_stats_host(np.moveaxis(a, dim, -1).reshape(-1, a.shape[dim])))
    with torch.no_grad():
        f = x.movedim(dim, -1).reshape(-1, x.shape[dim]).float()
        if f.shape[0] > 2048:
            f = f[:: f.shape[0] // 2048 + 1]
        mean = f.mean(0)
        std = f.std(0) if f.shape[0] > 1 else torch.zeros_like(mean)
        p99 = _quantile_rows(f.abs(), 0.99) if f.shape[0] > 1 else f.abs()[0]
        binary = ((f == 0) | (f == 1)).float().mean(0)
        nonzero = (f != 0).float().mean(0)
        at_median = (f == f.median(dim=0).values).float().mean(0)
        return torch.stack([mean, std, p99, binary, nonzero, at_median])


def _feature_stats_host(f: np.ndarray) -> np.ndarray:
    """``_feature_stats`` of a CPU tensor's (rows, F) numpy view: the same numbers (to float32 rounding),
    the order statistics by partial partitions instead of two full sorts per column: ~2-3x faster, and
    without torch's sort/median first calls in a process (~0.6 ms a run: these are taken once, at the
    first sample; ~12 ms for a batch of 256 flattened 28x28 images)."""
    n = f.shape[0]
    if n > 2048:
        f = f[:: n // 2048 + 1]
        n = f.shape[0]
    with np.errstate(all="ignore"):
        mean = f.mean(0)
        std = f.std(0, ddof=1) if n > 1 else np.zeros_like(mean)
        a = np.abs(f)
        if n > 1:   # the 99th percentile by linear interpolation, NaN for a column holding one (as _quantile_rows)
            pos = 0.99 * (n - 1)
            lo = int(pos)
            hi = min(lo + 1, n - 1)
            s = np.partition(a, sorted({lo, hi, n - 1}), axis=0)   # NaN goes last, as in a sort
            p99 = s[lo] + (s[hi] - s[lo]) * (pos - lo)
            p99 = np.where(np.isnan(s[n - 1]), s[n - 1], p99)
        else:
            p99 = a[0]
        binary = ((f == 0) | (f == 1)).mean(0)
        nonzero = (f != 0).mean(0)
        k = (n - 1) // 2   # torch's median: the lower of the two middle values; NaN where the column has one
        sm = np.partition(f, sorted({k, n - 1}), axis=0)
        med = np.where(np.isnan(sm[n - 1]), np.nan, sm[k])
        at_median = (f == med).mean(0)
    out = np.stack([mean, std, p99, binary, nonzero, at_median])
    return out.astype(np.float32)   # (the torch path's dtype: it reads the values as float32)


def _pool_features(parts: list[torch.Tensor]) -> dict[str, list[float]]:
    widths = {p.shape[1] for p in parts}
    if len(widths) != 1:
        parts = parts[-1:]
    m = torch.stack(parts).mean(0).cpu().tolist()
    return {"feature_mean": m[0], "feature_std": m[1], "feature_p99": m[2], "feature_binary": m[3],
            "feature_nonzero": m[4], "feature_at_median": m[5]}
