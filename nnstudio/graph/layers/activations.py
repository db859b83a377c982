"""Element-wise activation functions (and the two normalising ones, Softmax/LogSoftmax)."""

from ..params import Float, Int
from ..shapes import ShapeError, fmt_shape
from ..spec import REGISTRY, LayerSpec


def _same(c):
    return [c.x]


def _simple(name, doc, ctor=None, params=(), count=None):
    return LayerSpec(name, "Activation", doc, infer=_same, params=params,
                     module=ctor or (lambda c, n=name: f"nn.{n}()"), count=count,
                     name_hint=name.lower())


def _prelu_infer(c):
    n = c["num_parameters"]
    if n != 1:
        # one slope per channel: PyTorch reads the channels from dimension 1
        ch = c.x[1] if len(c.x) > 1 else None
        if ch != n:
            raise ShapeError(f"num_parameters {n} must be 1 or the channel count (dim 1), "
                             f"got {fmt_shape(c.x)}", "in")
    return [c.x]


def _dim_infer(c):
    d = c["dim"]
    if not -len(c.x) <= d < len(c.x):
        raise ShapeError(f"dim {d} is out of range for {fmt_shape(c.x)}", "in")
    return [c.x]


REGISTRY.register(
    _simple("ReLU", "max(0, x): the default choice for hidden layers."),
    _simple("LeakyReLU", "x if x > 0 else slope·x: keeps a small gradient for negative inputs.",
            ctor=lambda c: f"nn.LeakyReLU({c['negative_slope']!r})",
            params=(Float("negative_slope", 0.01, 0.0, 1.0, "slope for x < 0", key=True),)),
    LayerSpec("PReLU", "Activation", "Leaky ReLU whose negative slope is learnt.",
              infer=_prelu_infer,
              params=(Int("num_parameters", 1, 1, 100_000,
                          "1, or the number of channels for one slope per channel"),),
              module=lambda c: f"nn.PReLU({c['num_parameters']})",
              count=lambda c: c["num_parameters"], name_hint="prelu"),
    _simple("ELU", "x if x > 0 else α(eˣ − 1): smooth, with negative outputs.",
            ctor=lambda c: f"nn.ELU(alpha={c['alpha']!r})",
            params=(Float("alpha", 1.0, 0.0, 10.0, "saturation value for x → −∞"),)),
    _simple("GELU", "x·Φ(x): the smooth ReLU used by Transformers."),
    _simple("SiLU", "x·σ(x) (Swish): smooth, non-monotonic."),
    _simple("Sigmoid", "1 / (1 + e⁻ˣ): squashes to (0, 1); saturates for large |x|."),
    _simple("Tanh", "Hyperbolic tangent: squashes to (−1, 1), zero-centred."),
    _simple("Softplus", "log(1 + eˣ): a smooth ReLU.",
            ctor=lambda c: f"nn.Softplus(beta={c['beta']!r})",
            params=(Float("beta", 1.0, 0.01, 100.0, "sharpness"),)),
    LayerSpec("Softmax", "Activation", "Turns scores into probabilities along a dimension.",
              infer=_dim_infer, params=(Int("dim", -1, -8, 7, "dimension that sums to 1"),),
              module=lambda c: f"nn.Softmax(dim={c['dim']})", name_hint="softmax"),
    LayerSpec("LogSoftmax", "Activation", "log(softmax(x)): pair it with NLL loss.",
              infer=_dim_infer, params=(Int("dim", -1, -8, 7, "dimension that sums to 1"),),
              module=lambda c: f"nn.LogSoftmax(dim={c['dim']})", name_hint="log_softmax"),
)
