"""Regularisation layers."""

from ..params import Float
from ..spec import REGISTRY, LayerSpec

REGISTRY.register(
    LayerSpec(
        "Dropout", "Regularization",
        "Zeroes a random fraction p of activations while training (and rescales the rest).",
        infer=lambda c: [c.x],
        params=(Float("p", 0.5, 0.0, 1.0, "probability of dropping a unit", key=True),),
        module=lambda c: f"nn.Dropout(p={c['p']!r})", name_hint="dropout",
    ),
)
