"""Changing the shape of a tensor without changing its values."""

from ..params import Int, Ints
from ..shapes import ShapeError, fmt_shape, numel
from ..spec import REGISTRY, LayerSpec


def _norm_dim(d: int, rank: int, shape, what="dim") -> int:
    if not -rank <= d < rank:
        raise ShapeError(f"{what} {d} is out of range for {fmt_shape(shape)}", "in")
    return d % rank


def _flatten_infer(c):
    rank = len(c.x)
    start = _norm_dim(c["start_dim"], rank, c.x, "start_dim")
    end = _norm_dim(c["end_dim"], rank, c.x, "end_dim")
    if start == 0:
        raise ShapeError("start_dim 0 would merge the batch dimension", "in")
    if end < start:
        raise ShapeError(f"end_dim {c['end_dim']} comes before start_dim {c['start_dim']}", "in")
    n = numel(c.x[start:end + 1])
    return [tuple(c.x[:start]) + ("?" if n is None else n,) + tuple(c.x[end + 1:])]


def _flatten_ctor(c):
    if (c["start_dim"], c["end_dim"]) == (1, -1):
        return "nn.Flatten()"
    return f"nn.Flatten({c['start_dim']}, {c['end_dim']})"


def _reshape_target(c):
    target = list(c["shape"])
    if target.count(-1) > 1:
        raise ShapeError("at most one size may be -1 (inferred)", "in")
    if 0 in target:
        raise ShapeError("sizes must be positive, or -1 for one inferred size", "in")
    total = numel(c.x[1:])
    if total is None:
        raise ShapeError(f"needs known sizes, got {fmt_shape(c.x)}", "in")
    known = numel(t for t in target if t != -1)
    if -1 in target:
        if total % known:
            raise ShapeError(f"cannot reshape {fmt_shape(c.x)} into {list(c['shape'])}", "in")
        target[target.index(-1)] = total // known
    elif known != total:
        raise ShapeError(
            f"cannot reshape {fmt_shape(c.x)} ({total} values per example) into "
            f"{list(c['shape'])} ({known} values)", "in")
    return tuple(target)


def _unflatten_infer(c):
    rank = len(c.x)
    d = _norm_dim(c["dim"], rank, c.x)
    if d == 0:
        raise ShapeError("cannot unflatten the batch dimension", "in")
    size, sizes = c.x[d], tuple(c["sizes"])
    if isinstance(size, int) and numel(sizes) != size:
        raise ShapeError(f"sizes {list(sizes)} do not multiply to {size} (dim {c['dim']} of "
                         f"{fmt_shape(c.x)})", "in")
    return [tuple(c.x[:d]) + sizes + tuple(c.x[d + 1:])]


def _permute_infer(c):
    dims = tuple(c["dims"])
    if sorted(dims) != list(range(len(c.x))):
        raise ShapeError(f"dims {list(dims)} must be a reordering of 0..{len(c.x) - 1} "
                         f"for {fmt_shape(c.x)}", "in")
    if dims[0] != 0:
        raise ShapeError("the batch dimension 0 must stay first", "in")
    return [tuple(c.x[d] for d in dims)]


REGISTRY.register(
    LayerSpec(
        "Flatten", "Reshape", "Merges dimensions into one (by default all but the batch).",
        infer=_flatten_infer,
        params=(Int("start_dim", 1, -8, 7, "first dimension to merge"),
                Int("end_dim", -1, -8, 7, "last dimension to merge")),
        module=_flatten_ctor, name_hint="flatten",
    ),
    LayerSpec(
        "Unflatten", "Reshape", "Splits one dimension into several.",
        infer=_unflatten_infer,
        params=(Int("dim", 1, -8, 7, "dimension to split"),
                Ints("sizes", (1, 1), 1, 1_000_000, max_len=5, doc="new sizes", key=True)),
        module=lambda c: f"nn.Unflatten({c['dim']}, {tuple(c['sizes'])!r})",
        name_hint="unflatten",
    ),
    LayerSpec(
        "Reshape", "Reshape", "Gives each example a new shape with the same number of values.",
        infer=lambda c: [(c.x[0],) + _reshape_target(c)],
        params=(Ints("shape", (-1,), -1, 1_000_000, max_len=6,
                     doc="shape of one example; one size may be -1", key=True),),
        forward=lambda c: (f"{c.in_vars[0]}.reshape({c.in_vars[0]}.shape[0], "
                           f"{', '.join(str(d) for d in _reshape_target(c))})"),
        name_hint="reshape",
    ),
    LayerSpec(
        "Permute", "Reshape", "Reorders dimensions (0 is the batch and stays first).",
        infer=_permute_infer,
        params=(Ints("dims", (0, 2, 1), 0, 7, min_len=2, max_len=6,
                     doc="new order of the dimensions", key=True),),
        forward=lambda c: f"{c.in_vars[0]}.permute({', '.join(map(str, c['dims']))})",
        name_hint="permute",
    ),
)
