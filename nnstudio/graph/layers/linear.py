"""Fully connected layers."""

from ..params import Bool, Int
from ..shapes import ShapeError, fmt_shape
from ..spec import REGISTRY, LayerSpec


def _features(c) -> int:
    x = c.x
    if len(x) < 2 or len(x) > 3:
        hint = ": add a Flatten" if len(x) > 3 else ""
        raise ShapeError(
            f"expects [B, features] or [B, T, features], got {fmt_shape(x)}{hint}", "in")
    if not isinstance(x[-1], int):
        raise ShapeError(f"needs a known feature size, got {fmt_shape(x)}", "in")
    return x[-1]


def _infer(c):
    _features(c)
    return [c.x[:-1] + (c["out_features"],)]


REGISTRY.register(
    LayerSpec(
        "Linear", "Dense", "Fully connected layer: y = x Wᵀ + b on the last dimension.",
        infer=_infer,
        params=(Int("out_features", 10, 1, 1_000_000, "number of output units", key=True),
                Bool("bias", True, "learn an additive bias")),
        module=lambda c: (f"nn.Linear({_features(c)}, {c['out_features']}"
                          + ("" if c["bias"] else ", bias=False") + ")"),
        count=lambda c: _features(c) * c["out_features"] + (c["out_features"] if c["bias"] else 0),
        name_hint="fc",
    ),
)
