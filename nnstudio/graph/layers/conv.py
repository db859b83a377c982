"""Convolutions over sequences and images."""

from ..params import Bool, Int
from ..shapes import ShapeError, conv_out, conv_transpose_out, expect_rank, fmt_shape
from ..spec import REGISTRY, LayerSpec

_COMMON = (
    Int("kernel_size", 3, 1, 99, "size of the (square) kernel", key=True),
    Int("stride", 1, 1, 99, "step between kernel positions"),
    Int("padding", 0, 0, 99, "zeros added on each side"),
    Int("dilation", 1, 1, 99, "spacing between kernel taps"),
    Int("groups", 1, 1, 4096, "split channels into independent groups"),
    Bool("bias", True, "learn an additive bias"),
)


def _in_channels(c, rank, what):
    expect_rank(c.x, (rank,), what)
    ch = c.x[1]
    if not isinstance(ch, int):
        raise ShapeError(f"needs a known channel count, got {fmt_shape(c.x)}", "in")
    g = c["groups"]
    if ch % g or c["out_channels"] % g:
        raise ShapeError(
            f"groups={g} must divide both {ch} input and {c['out_channels']} output channels",
            "in")
    return ch


def _conv_infer(rank, what, transpose=False):
    def infer(c):
        _in_channels(c, rank, what)
        if transpose and c["output_padding"] >= max(c["stride"], c["dilation"]):
            # PyTorch refuses this when the layer runs; say so while drawing
            raise ShapeError(
                f"output_padding {c['output_padding']} must be smaller than the stride "
                f"({c['stride']}) or the dilation ({c['dilation']})", "in")
        spatial = []
        for size in c.x[2:]:
            if transpose:
                n = conv_transpose_out(size, c["kernel_size"], c["stride"], c["padding"],
                                       c["output_padding"], c["dilation"])
            else:
                n = conv_out(size, c["kernel_size"], c["stride"], c["padding"], c["dilation"])
            if isinstance(n, int) and n < 1:
                raise ShapeError(
                    f"kernel {c['kernel_size']} (dilation {c['dilation']}, padding "
                    f"{c['padding']}) does not fit input {fmt_shape(c.x)}: the output would "
                    "be empty; use a smaller kernel or more padding", "in")
            spatial.append(n)
        return [(c.x[0], c["out_channels"], *spatial)]
    return infer


def _conv_ctor(name, rank, what, transpose=False):
    def ctor(c):
        args = [str(_in_channels(c, rank, what)), str(c["out_channels"]),
                f"kernel_size={c['kernel_size']}"]
        if c["stride"] != 1:
            args.append(f"stride={c['stride']}")
        if c["padding"]:
            args.append(f"padding={c['padding']}")
        if transpose and c["output_padding"]:
            args.append(f"output_padding={c['output_padding']}")
        if c["dilation"] != 1:
            args.append(f"dilation={c['dilation']}")
        if c["groups"] != 1:
            args.append(f"groups={c['groups']}")
        if not c["bias"]:
            args.append("bias=False")
        return f"nn.{name}({', '.join(args)})"
    return ctor


def _conv_count(rank, what):
    def count(c):
        cin = _in_channels(c, rank, what)
        k = c["kernel_size"] ** (rank - 2)
        return cin // c["groups"] * c["out_channels"] * k + (c["out_channels"] if c["bias"] else 0)
    return count


def _conv(name, rank, what, doc, transpose=False):
    params = (Int("out_channels", 16, 1, 100_000, "number of filters", key=True),) + _COMMON
    if transpose:
        params += (Int("output_padding", 0, 0, 98, "extra size added to one side of the output"),)
    return LayerSpec(
        name, "Convolution", doc, infer=_conv_infer(rank, what, transpose), params=params,
        module=_conv_ctor(name, rank, what, transpose), count=_conv_count(rank, what),
        name_hint="deconv" if transpose else "conv",
    )


REGISTRY.register(
    _conv("Conv1d", 3, "[B, C, L]", "1-D convolution over a sequence of channels."),
    _conv("Conv2d", 4, "[B, C, H, W]", "2-D convolution: learnt filters slid over an image."),
    _conv("ConvTranspose2d", 4, "[B, C, H, W]",
          "Transposed 2-D convolution: learnt upsampling (decoders, GAN generators).",
          transpose=True),
)
