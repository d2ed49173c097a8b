"""Walk a loss's autograd graph: which leaves (parameters) it reaches, which nodes it contains."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class GraphWalk:
    nodes: set[int] = field(default_factory=set)          # id() of every grad_fn node reached
    leaves: list[torch.Tensor] = field(default_factory=list)  # leaf tensors (AccumulateGrad.variable)
    functions: set[type] = field(default_factory=set)   # the custom torch.autograd.Function classes met


_CUSTOM_NODE = torch.autograd.function.BackwardCFunction   # a custom Function's node (``node._forward_cls``)


def roots_of(tensors) -> list[torch.Tensor]:
    if isinstance(tensors, torch.Tensor):
        return [tensors]
    if isinstance(tensors, (list, tuple)):
        return [t for t in tensors if isinstance(t, torch.Tensor)]
    return []


def walk(tensors, max_nodes: int = 200_000) -> GraphWalk:
    out = GraphWalk()
    stack = []
    for t in roots_of(tensors):
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:  # the root itself is a leaf
            out.leaves.append(t)
    while stack and len(out.nodes) < max_nodes:
        node = stack.pop()
        if node is None or id(node) in out.nodes:
            continue
        out.nodes.add(id(node))  # ids stay unique: the roots keep every node of their graph alive
        if isinstance(node, _CUSTOM_NODE):
            out.functions.add(node._forward_cls)
        var = getattr(node, "variable", None)
        if var is not None and isinstance(var, torch.Tensor):
            out.leaves.append(var)
        for nxt, _ in getattr(node, "next_functions", ()):
            if nxt is not None and id(nxt) not in out.nodes:
                stack.append(nxt)
    return out
