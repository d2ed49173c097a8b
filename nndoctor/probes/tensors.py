"""Batched, device-side statistics: a few fused kernels per step, host syncs at a cadence."""
from __future__ import annotations

import math

import numpy as np

import torch


def norms(tensors: list[torch.Tensor]) -> torch.Tensor:
    """L2 norm of each tensor as one float32 vector on the first tensor's device.

    Uses ``torch._foreach_norm`` (one fused launch per device/dtype group) and no host sync.
    Sparse tensors are reduced through their values.
    """
    if not tensors:
        return torch.zeros(0)
    try:  # fast path: dense tensors on one device and dtype (the common case)
        out = torch._foreach_norm(tensors)
        if out[0].dtype != torch.float32:
            out = [o.float() for o in out]
        return torch.stack(out)
    except (RuntimeError, NotImplementedError, AttributeError, TypeError):
        pass
    dev = tensors[0].device
    dense = [t._values() if t.is_sparse else t for t in tensors]
    return torch.stack([torch.linalg.vector_norm(t.float()).to(dev) for t in dense])


class FlagReader:
    """Reads a device-side boolean "something is non-finite" flag without stalling the device.

    On the CPU a read costs nothing special, so it is immediate. On CUDA the flag is copied
    asynchronously into pinned host memory and read at a later step once its event has completed
    (a lag of about one step, no pipeline stall). Other devices are read at the flush cadence.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[int, torch.Tensor, object]] = []

    def push(self, step: int, values: torch.Tensor) -> list[int]:
        """Queue a step's statistics (a vector: NaN/Inf anywhere makes its sum non-finite); return
        the steps whose flag is now known to be set."""
        dev = values.device
        if dev.type == "cpu":  # zero-copy view, summed by numpy: no extra torch op on the hot path
            return [] if math.isfinite(float(values.numpy().sum(dtype=np.float64))) else [step]
        bad = ~torch.isfinite(values.sum())
        if dev.type == "cuda":
            host = torch.empty((), dtype=torch.bool, pin_memory=True)
            host.copy_(bad, non_blocking=True)
            ev = torch.cuda.Event()
            ev.record()
            self._pending.append((step, host, ev))
            return self.poll()
        self._pending.append((step, bad, None))
        return []

    def poll(self, force: bool = False) -> list[int]:
        hits, keep = [], []
        for step, flag, ev in self._pending:
            if ev is not None and not force and not ev.query():
                keep.append((step, flag, ev))
                continue
            if ev is not None and force:
                ev.synchronize()
            if bool(flag):
                hits.append(step)
        self._pending = keep
        return hits


_FLAT_MAX = 1 << 20   # elements: up to this model size the cosine flattens the update and the gradient


def _flat(t: torch.Tensor) -> torch.Tensor:
    return torch.view_as_real(t).reshape(-1) if t.is_complex() else t.reshape(-1)


def descent_cosine(updates: list[torch.Tensor], grads: list[torch.Tensor | None],
                   update_norms: torch.Tensor | None = None) -> torch.Tensor | None:
    """The cosine between a step's update (parameters after - before) and the gradient it was taken on, over
    all the parameters given, as a 0-d float32 tensor on the device (no host sync); None when it cannot be
    measured (a missing or sparse gradient, mixed devices). Negative: the step went downhill on its batch.
    ``update_norms``: the updates' per-tensor norms, when already computed."""
    if not updates or len(updates) != len(grads) or any(g is None or g.is_sparse for g in grads):
        return None
    try:
        with torch.no_grad():
            if updates[0].is_cpu and updates[0].dtype in (torch.float32, torch.float64) \
                    and len({(t.dtype, t.device) for t in (*updates, *grads)}) == 1 \
                    and sum(u.numel() for u in updates) <= _FLAT_MAX:
                # a small model on the CPU: the update and the gradient flattened into one vector each, one dot
                # product and one norm (a dot and a norm per tensor cost ~2 us of dispatch each; the two copies, of
                # at most _FLAT_MAX elements, a few us)
                u, g = torch.cat([t.reshape(-1) for t in updates]), torch.cat([t.reshape(-1) for t in grads])
                nu = (update_norms if update_norms is not None else norms(updates)).norm()
                return torch.dot(u, g).float() / (nu * torch.linalg.vector_norm(g).float()).clamp_min(1e-30)
            # else one dot product per tensor, on the device: no product tensor the size of the model is made (at
            # the sample steps a large model already holds a copy of its parameters and their update). A complex
            # tensor as its real and imaginary parts: their dot product is Re(<u, g>), the real inner product the
            # norms belong to (a complex dot cast to float would drop the imaginary part, with a warning)
            try:
                dot = torch.stack([torch.dot(_flat(u), _flat(g)) for u, g in zip(updates, grads)]).float().sum()
            except (RuntimeError, NotImplementedError, TypeError):   # (mixed dtypes or devices)
                dot = torch.stack([torch.dot(_flat(u).float(), _flat(g).float()).to(updates[0].device)
                                   for u, g in zip(updates, grads)]).sum()
            nu = (update_norms if update_norms is not None else norms(updates)).norm()
            return dot / (nu * norms(grads).norm()).clamp_min(1e-30)
    except (RuntimeError, NotImplementedError, TypeError):
        return None
