"""Joining branches: element-wise sums and products, concatenation."""

from ..params import Int
from ..shapes import ShapeError, fmt_shape
from ..spec import REGISTRY, LayerSpec, PortSpec


def _ports(params):
    return tuple(PortSpec(f"in{i + 1}") for i in range(params.get("inputs", 2)))


def _same_shapes(c):
    first = c.in_shapes[0]
    for i, s in enumerate(c.in_shapes[1:], start=2):
        if tuple(s) != tuple(first):
            raise ShapeError(f"needs equal shapes, got {fmt_shape(first)} on 'in1' and "
                             f"{fmt_shape(s)} on 'in{i}'", f"in{i}")
    return [first]


def _concat_infer(c):
    first = c.in_shapes[0]
    rank = len(first)
    d = c["dim"]
    if not -rank <= d < rank:
        raise ShapeError(f"dim {d} is out of range for {fmt_shape(first)}", "in1")
    d %= rank
    if d == 0:
        raise ShapeError("cannot concatenate along the batch dimension", "in1")
    total = 0
    for i, s in enumerate(c.in_shapes, start=1):
        if len(s) != rank or any(a != b for j, (a, b) in enumerate(zip(s, first)) if j != d):
            raise ShapeError(f"needs shapes equal except in dim {c['dim']}, got "
                             f"{fmt_shape(first)} on 'in1' and {fmt_shape(s)} on 'in{i}'",
                             f"in{i}")
        total = total + s[d] if isinstance(total, int) and isinstance(s[d], int) else "?"
    return [tuple(first[:d]) + (total,) + tuple(first[d + 1:])]


_N = Int("inputs", 2, 2, 8, "number of inputs")

REGISTRY.register(
    LayerSpec("Add", "Merge", "Element-wise sum of its inputs (residual connections).",
              infer=_same_shapes, params=(_N,), inputs_fn=_ports,
              forward=lambda c: " + ".join(c.in_vars), name_hint="add"),
    LayerSpec("Multiply", "Merge", "Element-wise product of its inputs (gating).",
              infer=_same_shapes, params=(_N,), inputs_fn=_ports,
              forward=lambda c: " * ".join(c.in_vars), name_hint="mul"),
    LayerSpec("Concat", "Merge", "Joins its inputs along a dimension (default: channels).",
              infer=_concat_infer,
              params=(_N, Int("dim", 1, -8, 7, "dimension to join along", key=True)),
              inputs_fn=_ports,
              forward=lambda c: f"torch.cat([{', '.join(c.in_vars)}], dim={c['dim']})",
              name_hint="cat"),
)
