"""Normalisation layers."""

from ..params import Bool, Float, Int
from ..shapes import ShapeError, expect_rank, fmt_shape, numel
from ..spec import REGISTRY, LayerSpec


def _channels(c, ranks, what):
    expect_rank(c.x, ranks, what)
    ch = c.x[1]
    if not isinstance(ch, int):
        raise ShapeError(f"needs a known channel count, got {fmt_shape(c.x)}", "in")
    return ch


def _bn(name, ranks, what, doc):
    return LayerSpec(
        name, "Normalization", doc,
        infer=lambda c: [c.x] if _channels(c, ranks, what) else [],
        params=(Float("momentum", 0.1, 0.0, 1.0, "running-statistics momentum"),
                Float("eps", 1e-5, 1e-12, 1.0, "added to the variance"),
                Bool("affine", True, "learn a scale and shift")),
        module=lambda c: (f"nn.{name}({_channels(c, ranks, what)}, eps={c['eps']!r}, "
                          f"momentum={c['momentum']!r}"
                          + ("" if c["affine"] else ", affine=False") + ")"),
        count=lambda c: 2 * _channels(c, ranks, what) if c["affine"] else 0,
        name_hint="bn",
    )


def _ln_shape(c):
    k = c["dims"]
    if len(c.x) - 1 < k:
        raise ShapeError(f"cannot normalise the last {k} dims of {fmt_shape(c.x)}", "in")
    shape = tuple(c.x[-k:])
    if numel(shape) is None:
        raise ShapeError(f"needs known sizes in the last {k} dims, got {fmt_shape(c.x)}", "in")
    return shape


def _ln_ctor(c):
    shape = _ln_shape(c)
    arg = str(shape[0]) if len(shape) == 1 else repr(tuple(shape))
    return (f"nn.LayerNorm({arg}, eps={c['eps']!r}"
            + ("" if c["affine"] else ", elementwise_affine=False") + ")")


REGISTRY.register(
    _bn("BatchNorm1d", (2, 3), "[B, C] or [B, C, L]",
        "Normalises each feature over the batch, then scales and shifts."),
    _bn("BatchNorm2d", (4,), "[B, C, H, W]",
        "Normalises each channel over the batch and the image, then scales and shifts."),
    LayerSpec(
        "LayerNorm", "Normalization",
        "Normalises each example over its last dimension(s), then scales and shifts.",
        infer=lambda c: [c.x] if _ln_shape(c) else [],
        params=(Int("dims", 1, 1, 4, "how many trailing dimensions to normalise over"),
                Float("eps", 1e-5, 1e-12, 1.0, "added to the variance"),
                Bool("affine", True, "learn a scale and shift")),
        module=_ln_ctor,
        count=lambda c: 2 * numel(_ln_shape(c)) if c["affine"] else 0,
        name_hint="norm",
    ),
)
