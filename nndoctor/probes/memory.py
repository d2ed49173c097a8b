"""Memory in use, as plain numbers: the process (Linux /proc), its address-space limit, and CUDA."""
from __future__ import annotations

import resource
from typing import Any

import torch


def _proc_status() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS", "VmHWM", "VmSize")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def snapshot() -> dict[str, Any]:
    """Bytes: rss, peak_rss, virtual, address_limit (RLIMIT_AS, None if unlimited), and for CUDA
    allocated, peak_allocated, total (when CUDA is initialized)."""
    st = _proc_status()
    snap: dict[str, Any] = {"rss": st.get("VmRSS"), "peak_rss": st.get("VmHWM"), "virtual": st.get("VmSize")}
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        snap["address_limit"] = None if soft == resource.RLIM_INFINITY else int(soft)
    except (ValueError, OSError):
        snap["address_limit"] = None
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            snap["cuda_allocated"] = int(torch.cuda.memory_allocated())
            snap["cuda_peak_allocated"] = int(torch.cuda.max_memory_allocated())
            free, total = torch.cuda.mem_get_info()
            snap["cuda_total"], snap["cuda_free"] = int(total), int(free)
    except Exception:
        pass
    return snap


_SAVED_ATTRS: dict[type, list[str]] = {}


def saved_activation_bytes(roots: list[torch.Tensor], max_nodes: int = 20000) -> int:
    """Bytes of the tensors the autograd graph saved for backward (the activations), parameters
    excluded, each storage counted once. Must run before backward frees them."""
    seen_nodes: set[int] = set()
    storages: dict[int, int] = {}
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack and len(seen_nodes) < max_nodes:
        node = stack.pop()
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        attrs = _SAVED_ATTRS.get(type(node))
        if attrs is None:
            attrs = _SAVED_ATTRS[type(node)] = [a for a in dir(node) if a.startswith("_saved_")
                                                and not a.endswith(("_sym_sizes", "_sym_strides", "_sym_numel"))]
        for a in attrs:
            try:
                v = getattr(node, a)
            except Exception:
                continue
            for t in (v if isinstance(v, (list, tuple)) else (v,)):
                if isinstance(t, torch.Tensor) and not (t.is_leaf and t.requires_grad):  # not parameters
                    try:
                        s = t.untyped_storage()
                        storages[s.data_ptr()] = s.nbytes()
                    except Exception:
                        pass
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return int(sum(storages.values()))
