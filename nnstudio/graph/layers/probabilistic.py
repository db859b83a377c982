"""Stochastic layers."""

from ..shapes import ShapeError, fmt_shape
from ..spec import REGISTRY, LayerSpec, PortSpec


def _infer(c):
    mu, logvar = c.in_shapes
    if tuple(mu) != tuple(logvar):
        raise ShapeError(f"needs mu and logvar of equal shape, got {fmt_shape(mu)} and "
                         f"{fmt_shape(logvar)}", "logvar")
    return [mu]


REGISTRY.register(
    LayerSpec(
        "Reparameterize", "Probabilistic",
        "VAE sampling step: z = mu + exp(logvar / 2) · ε with ε ~ N(0, 1) (mu in eval mode).",
        infer=_infer,
        inputs=(PortSpec("mu", doc="mean of q(z|x)"),
                PortSpec("logvar", doc="log-variance of q(z|x)")),
        module=lambda c: "Reparameterize()", helpers=("Reparameterize",), name_hint="z",
    ),
)
