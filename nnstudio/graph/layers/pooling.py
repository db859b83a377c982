"""Pooling and resampling."""

from ..params import Choice, Int, Ints
from ..shapes import ShapeError, conv_out, expect_rank, fmt_shape
from ..spec import REGISTRY, LayerSpec


def _pool_infer(rank, what):
    def infer(c):
        expect_rank(c.x, (rank,), what)
        k, s, p = c["kernel_size"], c["stride"] or c["kernel_size"], c["padding"]
        if p > k // 2:
            raise ShapeError(f"padding {p} must be at most half the kernel size {k}", "in")
        spatial = []
        for size in c.x[2:]:
            n = conv_out(size, k, s, p)
            if isinstance(n, int) and n < 1:
                raise ShapeError(f"kernel {k} does not fit input {fmt_shape(c.x)}", "in")
            spatial.append(n)
        return [tuple(c.x[:2]) + tuple(spatial)]
    return infer


def _pool_ctor(name):
    def ctor(c):
        args = [f"kernel_size={c['kernel_size']}"]
        if c["stride"] and c["stride"] != c["kernel_size"]:
            args.append(f"stride={c['stride']}")
        if c["padding"]:
            args.append(f"padding={c['padding']}")
        return f"nn.{name}({', '.join(args)})"
    return ctor


def _pool(name, rank, what, doc):
    return LayerSpec(
        name, "Pooling", doc, infer=_pool_infer(rank, what),
        params=(Int("kernel_size", 2, 1, 99, "window size", key=True),
                Int("stride", 0, 0, 99, "step between windows (0: same as the window)"),
                Int("padding", 0, 0, 49, "padding on each side")),
        module=_pool_ctor(name), name_hint="pool",
    )


def _adaptive_infer(c):
    expect_rank(c.x, (4,), "[B, C, H, W]")
    size = c["output_size"]
    hw = (size[0], size[0]) if len(size) == 1 else tuple(size)
    return [tuple(c.x[:-2]) + hw]


def _adaptive_ctor(c):
    size = c["output_size"]
    arg = str(size[0]) if len(size) == 1 else repr(tuple(size))
    return f"nn.AdaptiveAvgPool2d({arg})"


def _upsample_infer(c):
    expect_rank(c.x, (3, 4), "[B, C, L] or [B, C, H, W]")
    if c["mode"] == "bilinear" and len(c.x) != 4:
        raise ShapeError(f"bilinear mode needs [B, C, H, W], got {fmt_shape(c.x)}", "in")
    f = c["scale_factor"]
    return [tuple(c.x[:2]) + tuple(d * f if isinstance(d, int) else d for d in c.x[2:])]


def _upsample_ctor(c):
    extra = ", align_corners=False" if c["mode"] == "bilinear" else ""
    return f"nn.Upsample(scale_factor={c['scale_factor']}, mode={c['mode']!r}{extra})"


REGISTRY.register(
    _pool("MaxPool1d", 3, "[B, C, L]", "Keeps the largest value in each window of a sequence."),
    _pool("MaxPool2d", 4, "[B, C, H, W]", "Keeps the largest value in each window of an image."),
    _pool("AvgPool2d", 4, "[B, C, H, W]", "Averages each window of an image."),
    LayerSpec(
        "AdaptiveAvgPool2d", "Pooling",
        "Averages an image down to a fixed output size, whatever the input size.",
        infer=_adaptive_infer,
        params=(Ints("output_size", (1,), 1, 10_000, max_len=2,
                     doc="output height (and width)", key=True),),
        module=_adaptive_ctor, name_hint="avgpool",
    ),
    LayerSpec(
        "Upsample", "Pooling", "Enlarges a feature map by an integer factor.",
        infer=_upsample_infer,
        params=(Int("scale_factor", 2, 1, 16, "enlargement factor", key=True),
                Choice("mode", "nearest", ("nearest", "bilinear"), "interpolation")),
        module=_upsample_ctor, name_hint="upsample",
    ),
)
