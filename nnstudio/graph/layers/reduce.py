"""Reducing a tensor along its dimensions: averaging some away, picking one position.

These are the small steps written inline in a hand-made ``forward`` — ``x.mean(dim=(2,
3))`` for global average pooling, ``x[:, -1]`` for the last step of a sequence — so that
a drawing, or a model imported from PyTorch code, can say them as nodes.
"""

from ..params import Bool, Int, Ints
from ..shapes import ShapeError, fmt_shape
from ..spec import REGISTRY, LayerSpec


def _mean_dims(c) -> tuple[int, ...]:
    """The dims of ``c["dims"]`` made non-negative, checked against the input's rank."""
    rank = len(c.x)
    dims = []
    for d in c["dims"]:
        if not -rank <= d < rank:
            raise ShapeError(f"dim {d} is out of range for {fmt_shape(c.x)}", "in")
        d %= rank
        if d == 0:
            raise ShapeError("cannot average over the batch dimension 0", "in")
        if d in dims:
            raise ShapeError(f"dim {d} is named twice", "in")
        dims.append(d)
    return tuple(sorted(dims))


def _mean_infer(c):
    dims = _mean_dims(c)
    if c["keepdim"]:
        return [tuple(1 if i in dims else s for i, s in enumerate(c.x))]
    return [tuple(s for i, s in enumerate(c.x) if i not in dims)]


def _mean_forward(c):
    dims = tuple(c["dims"])
    arg = str(dims[0]) if len(dims) == 1 else repr(dims)
    keep = ", keepdim=True" if c["keepdim"] else ""
    return f"{c.in_vars[0]}.mean(dim={arg}{keep})"


def _select_dim(c) -> int:
    rank = len(c.x)
    d = c["dim"]
    if not -rank <= d < rank:
        raise ShapeError(f"dim {d} is out of range for {fmt_shape(c.x)}", "in")
    if d % rank == 0:
        raise ShapeError("cannot select along the batch dimension 0", "in")
    return d % rank


def _select_infer(c):
    d = _select_dim(c)
    size, i = c.x[d], c["index"]
    if isinstance(size, int) and not -size <= i < size:
        raise ShapeError(f"index {i} is out of range for dim {c['dim']} of size {size}", "in")
    return [tuple(s for j, s in enumerate(c.x) if j != d)]


def _select_forward(c):
    d = _select_dim(c)
    # x[:, -1] reads better than x.select(1, -1) for the usual "last step" case
    if d <= 3:
        return f"{c.in_vars[0]}[{':, ' * d}{c['index']}]"
    return f"{c.in_vars[0]}.select({c['dim']}, {c['index']})"


REGISTRY.register(
    LayerSpec(
        "Mean", "Reshape",
        "Averages over dimensions: (2, 3) is global average pooling of an image.",
        infer=_mean_infer,
        params=(Ints("dims", (1,), -8, 7, max_len=6, doc="dimensions to average over",
                     key=True),
                Bool("keepdim", False, "keep each averaged dimension with size 1")),
        forward=_mean_forward, name_hint="mean",
    ),
    LayerSpec(
        "Select", "Reshape",
        "Picks one position along a dimension: index -1 of dim 1 is a sequence's last step.",
        infer=_select_infer,
        params=(Int("dim", 1, -8, 7, "dimension to pick from"),
                Int("index", -1, -1_000_000, 1_000_000, "position (negative counts from "
                    "the end)", key=True)),
        forward=_select_forward, name_hint="select",
    ),
)
