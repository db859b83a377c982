"""What each PyTorch module, function and tensor method becomes in an nnstudio graph.

The importer (:mod:`nnstudio.export.importer`) walks a torch.fx trace and asks these
tables, one traced operation at a time:

* :data:`MODULES` — an ``nn.Module`` class the catalog knows → the layer node(s) it
  becomes, with parameters read from the module (``nn.Conv2d(3, 8, 5, padding=2)`` →
  ``Conv2d {out_channels: 8, kernel_size: 5, padding: 2}``).  A configuration the
  catalog cannot say (a non-square kernel, ``padding_mode="reflect"``) raises
  :class:`Unmappable` with the reason, so the person learns exactly what stopped it.
* :data:`~nnstudio.export.import_functions.FUNCTIONS` (keyed by the function object)
  and :data:`~nnstudio.export.import_functions.METHODS` (keyed by the tensor method's
  name), in :mod:`nnstudio.export.import_functions` — ``F.relu``, ``torch.cat``, ``x.view(...)``, ``x.mean(...)``
  and the like → an :class:`Emit` (add this node on these wires) or an :class:`Alias`
  (the result is the input itself: ``x.contiguous()``).

Converters see the traced shapes (:attr:`Wire.shape`, batch first), so reshapes are
written from what really happened rather than from the arguments' arithmetic.
Recurrent layers and attention, whose outputs are tuples picked apart afterwards, are
handled by the importer itself; their checks live here (:func:`check_recurrent`,
:func:`check_attention`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


class Unmappable(Exception):
    """This operation has no nnstudio layer (as configured); the message says why."""


@dataclass(frozen=True)
class Wire:
    """A tensor of the graph being built: output ``port`` of node ``node_id``."""

    node_id: str
    port: str
    shape: tuple[int, ...]  # as traced, batch first
    dtype: torch.dtype = torch.float32


@dataclass(frozen=True)
class LayerCall:
    """One layer node a module becomes; ``module``'s state dict becomes its weights."""

    type: str
    params: dict[str, Any]
    module: nn.Module | None = None
    suffix: str = ""  # appended to the node's name when a module becomes several nodes


@dataclass(frozen=True)
class Emit:
    """Add a ``type`` node with ``params`` fed by ``inputs`` (in port order)."""

    type: str
    params: dict[str, Any]
    inputs: tuple[Wire, ...]


@dataclass(frozen=True)
class Alias:
    """The operation returns its input unchanged (``x.contiguous()``, a no-op ``.float()``)."""

    wire: Wire


@dataclass
class Op:
    """A traced call as converters see it: arguments with tensors as :class:`Wire` s."""

    label: str  # how messages name the callee: "torch.cat", "Tensor.view", "F.relu"
    args: tuple
    kwargs: dict[str, Any]
    out_shape: tuple[int, ...] | None  # the traced result's shape (batch first), if a tensor
    out_dtype: torch.dtype | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def bind(self, names: Sequence[str], **defaults: Any) -> dict[str, Any]:
        """Arguments by name: positional ones matched to ``names`` in order, then keywords.

        Anything not in ``names`` or ``defaults`` (an argument nnstudio would silently
        drop) raises Unmappable.
        """
        if len(self.args) > len(names):
            raise Unmappable(f"{self.label} is called with more arguments than nnstudio reads")
        values = dict(defaults)
        values.update(zip(names, self.args))
        for key, value in self.kwargs.items():
            if key not in names and key not in defaults:
                raise Unmappable(f"{self.label}: the argument {key}= has no nnstudio equivalent")
            values[key] = value
        missing = [n for n in names if n not in values]
        if missing:
            raise Unmappable(f"{self.label} is missing {', '.join(missing)}")
        return values

    def tensor(self, value: Any, what: str = "its input") -> Wire:
        if not isinstance(value, Wire):
            raise Unmappable(f"{self.label}: {what} is not a tensor of the network "
                             "(a constant, or a value computed outside the layers)")
        return value


# ------------------------------------------------------------------ small helpers
def _one(value: Any, what: str) -> int:
    """``3`` or ``(3, 3)`` → 3; ``(3, 5)`` cannot be said by a square-kernel layer."""
    if isinstance(value, int):
        return value
    values = tuple(value)
    if len(set(values)) != 1:
        raise Unmappable(f"{what} {values} differs between dimensions; nnstudio's layers take "
                         "one size for all")
    return int(values[0])


def _int_factor(value: Any, what: str) -> int:
    if isinstance(value, (tuple, list)):
        value = _one(tuple(float(v) for v in value), what)
    f = float(value)
    if not f.is_integer():
        raise Unmappable(f"{what} {value} is not a whole number")
    return int(f)


def _require(ok: bool, reason: str) -> None:
    if not ok:
        raise Unmappable(reason)


def _dim(d: int, rank: int, label: str) -> int:
    if not -rank <= d < rank:
        raise Unmappable(f"{label}: dim {d} is out of range")
    return d % rank


# ------------------------------------------------------------------ modules
def _linear(m: nn.Linear, x) -> list[LayerCall]:
    return [LayerCall("Linear", {"out_features": m.out_features, "bias": m.bias is not None}, m)]


def _conv_padding(m) -> int:
    if isinstance(m.padding, str):
        if m.padding == "valid":
            return 0
        k, d = _one(m.kernel_size, "kernel_size"), _one(m.dilation, "dilation")
        total = d * (k - 1)
        _require(total % 2 == 0, f"padding='same' with kernel {k} pads unevenly; nnstudio "
                                 "pads both sides alike")
        return total // 2
    return _one(m.padding, "padding")


def _conv(m, x) -> list[LayerCall]:
    name = type(m).__name__
    _require(m.padding_mode == "zeros",
             f"{name} with padding_mode={m.padding_mode!r}: nnstudio pads with zeros")
    params = {"out_channels": m.out_channels, "kernel_size": _one(m.kernel_size, "kernel_size"),
              "stride": _one(m.stride, "stride"), "padding": _conv_padding(m),
              "dilation": _one(m.dilation, "dilation"), "groups": m.groups,
              "bias": m.bias is not None}
    if isinstance(m, nn.ConvTranspose2d):
        params["output_padding"] = _one(m.output_padding, "output_padding")
    return [LayerCall(name, params, m)]


def _batchnorm(m, x) -> list[LayerCall]:
    name = type(m).__name__
    _require(m.track_running_stats, f"{name}(track_running_stats=False): nnstudio's batch "
                                    "norm keeps running statistics")
    _require(m.momentum is not None, f"{name}(momentum=None) (a cumulative average): give a "
                                     "momentum")
    return [LayerCall(name, {"momentum": float(m.momentum), "eps": float(m.eps),
                             "affine": m.affine}, m)]


def _layernorm(m: nn.LayerNorm, x) -> list[LayerCall]:
    affine = m.elementwise_affine
    _require(not affine or m.bias is not None,
             "LayerNorm(bias=False): nnstudio's LayerNorm learns a shift with its scale")
    return [LayerCall("LayerNorm", {"dims": len(m.normalized_shape), "eps": float(m.eps),
                                    "affine": affine}, m)]


def _simple(type_name: str, params: Callable[[Any], dict] | None = None):
    def convert(m, x) -> list[LayerCall]:
        return [LayerCall(type_name, params(m) if params else {}, m)]
    return convert


def _gelu(m: nn.GELU, x) -> list[LayerCall]:
    _require(m.approximate == "none", f"GELU(approximate={m.approximate!r}): nnstudio's GELU "
                                      "is the exact one")
    return [LayerCall("GELU", {}, m)]


def _softplus(m: nn.Softplus, x) -> list[LayerCall]:
    _require(m.threshold == 20, "Softplus with a threshold other than 20")
    return [LayerCall("Softplus", {"beta": float(m.beta)}, m)]


def _softmax(m, x) -> list[LayerCall]:
    name = type(m).__name__
    _require(m.dim is not None, f"{name}() without dim: say which dimension sums to 1")
    return [LayerCall(name, {"dim": m.dim}, m)]


def _pool_stride(stride, kernel: int) -> int:
    if stride is None or stride == []:
        return 0
    s = _one(stride, "stride")
    return 0 if s == kernel else s


def _maxpool(m, x) -> list[LayerCall]:
    name = type(m).__name__
    _require(_one(m.dilation, "dilation") == 1, f"{name} with dilation")
    _require(not m.ceil_mode, f"{name}(ceil_mode=True)")
    _require(not m.return_indices, f"{name}(return_indices=True)")
    k = _one(m.kernel_size, "kernel_size")
    return [LayerCall(name, {"kernel_size": k, "stride": _pool_stride(m.stride, k),
                             "padding": _one(m.padding, "padding")}, m)]


def _avgpool(m: nn.AvgPool2d, x) -> list[LayerCall]:
    _require(not m.ceil_mode, "AvgPool2d(ceil_mode=True)")
    _require(m.count_include_pad, "AvgPool2d(count_include_pad=False)")
    _require(m.divisor_override is None, "AvgPool2d with divisor_override")
    k = _one(m.kernel_size, "kernel_size")
    return [LayerCall("AvgPool2d", {"kernel_size": k, "stride": _pool_stride(m.stride, k),
                                    "padding": _one(m.padding, "padding")}, m)]


def _adaptive_size(size) -> tuple[int, ...]:
    sizes = (size,) if isinstance(size, int) or size is None else tuple(size)
    _require(None not in sizes, "adaptive pooling that keeps a dimension (None) as it is")
    return (sizes[0],) if len(set(sizes)) == 1 else sizes


def _adaptive(m: nn.AdaptiveAvgPool2d, x) -> list[LayerCall]:
    return [LayerCall("AdaptiveAvgPool2d", {"output_size": _adaptive_size(m.output_size)}, m)]


def _upsample_params(size, scale, mode, align_corners) -> dict[str, Any]:
    _require(size is None, "resizing to a fixed size: nnstudio's Upsample scales by a factor")
    _require(scale is not None, "Upsample without scale_factor")
    _require(mode in ("nearest", "bilinear"), f"Upsample mode {mode!r}: nnstudio has "
                                              "'nearest' and 'bilinear'")
    _require(not align_corners, "Upsample(align_corners=True)")
    return {"scale_factor": _int_factor(scale, "scale_factor"), "mode": mode}


def _upsample(m: nn.Upsample, x) -> list[LayerCall]:
    _require(not getattr(m, "recompute_scale_factor", None), "recompute_scale_factor=True")
    return [LayerCall("Upsample", _upsample_params(m.size, m.scale_factor, m.mode,
                                                   m.align_corners), m)]


def _embedding(m: nn.Embedding, x) -> list[LayerCall]:
    _require(m.padding_idx is None, "Embedding(padding_idx=...): nnstudio's Embedding has no "
                                    "padding row")
    _require(m.max_norm is None, "Embedding(max_norm=...)")
    _require(not m.scale_grad_by_freq and not m.sparse,
             "Embedding with scale_grad_by_freq or sparse gradients")
    return [LayerCall("Embedding", {"num_embeddings": m.num_embeddings,
                                    "embedding_dim": m.embedding_dim}, m)]


def _encoder_layer_params(m: nn.TransformerEncoderLayer) -> dict[str, Any]:
    name = "TransformerEncoderLayer"
    _require(m.self_attn.batch_first, f"{name}(batch_first=False): nnstudio's attention "
                                      "layers take [B, T, features]")
    kind = getattr(m, "activation_relu_or_gelu", 0)
    _require(kind in (1, 2), f"{name} with an activation other than relu or gelu")
    _require(m.norm1.eps == 1e-5 and m.norm2.eps == 1e-5, f"{name} with layer_norm_eps "
                                                          "other than 1e-5")
    _require(m.linear1.bias is not None and m.norm1.bias is not None, f"{name}(bias=False)")
    return {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features,
            "dropout": float(m.dropout.p), "activation": "relu" if kind == 1 else "gelu",
            "norm_first": bool(m.norm_first)}


def _encoder_layer(m: nn.TransformerEncoderLayer, x) -> list[LayerCall]:
    return [LayerCall("TransformerEncoderLayer", _encoder_layer_params(m), m)]


def _encoder(m: nn.TransformerEncoder, x) -> list[LayerCall]:
    # a stack of identical layers: one node per layer (its weights), then the final norm
    calls = [LayerCall("TransformerEncoderLayer", _encoder_layer_params(layer), layer,
                       f"layers_{i}")
             for i, layer in enumerate(m.layers)]
    if m.norm is not None:
        _require(isinstance(m.norm, nn.LayerNorm), "TransformerEncoder whose norm is not a "
                                                   "LayerNorm")
        calls += [LayerCall(c.type, c.params, c.module, "norm") for c in _layernorm(m.norm, x)]
    return calls


MODULES: dict[type, Callable[[Any, Wire], list[LayerCall]]] = {
    nn.Linear: _linear,
    nn.Conv1d: _conv,
    nn.Conv2d: _conv,
    nn.ConvTranspose2d: _conv,
    nn.BatchNorm1d: _batchnorm,
    nn.BatchNorm2d: _batchnorm,
    nn.LayerNorm: _layernorm,
    nn.Dropout: _simple("Dropout", lambda m: {"p": float(m.p)}),
    nn.Identity: _simple("Identity"),
    nn.ReLU: _simple("ReLU"),
    nn.LeakyReLU: _simple("LeakyReLU", lambda m: {"negative_slope": float(m.negative_slope)}),
    nn.PReLU: _simple("PReLU", lambda m: {"num_parameters": m.num_parameters}),
    nn.ELU: _simple("ELU", lambda m: {"alpha": float(m.alpha)}),
    nn.GELU: _gelu,
    nn.SiLU: _simple("SiLU"),
    nn.Sigmoid: _simple("Sigmoid"),
    nn.Tanh: _simple("Tanh"),
    nn.Softplus: _softplus,
    nn.Softmax: _softmax,
    nn.LogSoftmax: _softmax,
    nn.MaxPool1d: _maxpool,
    nn.MaxPool2d: _maxpool,
    nn.AvgPool2d: _avgpool,
    nn.AdaptiveAvgPool2d: _adaptive,
    nn.Upsample: _upsample,
    nn.Flatten: _simple("Flatten", lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim}),
    nn.Unflatten: _simple("Unflatten", lambda m: {"dim": m.dim,
                                                   "sizes": tuple(m.unflattened_size)}),
    nn.Embedding: _embedding,
    nn.TransformerEncoderLayer: _encoder_layer,
    nn.TransformerEncoder: _encoder,
}

# modules whose call returns a tuple that the forward picks apart: the importer follows
# the indexing (``out, (h, c) = self.lstm(x)``) before it knows which node to make
RECURRENT = (nn.RNN, nn.LSTM, nn.GRU)
ATTENTION = (nn.MultiheadAttention,)


def check_recurrent(m: nn.RNNBase) -> dict[str, Any]:
    """The parameters of nnstudio's RNN/LSTM/GRU for ``m`` (all but ``output``)."""
    name = type(m).__name__
    _require(m.batch_first, f"{name}(batch_first=False): nnstudio's recurrent layers take "
                            "[B, T, features]; build it with batch_first=True")
    _require(m.bias, f"{name}(bias=False)")
    _require(getattr(m, "proj_size", 0) == 0, f"{name} with proj_size")
    params = {"hidden_size": m.hidden_size, "num_layers": m.num_layers,
              "bidirectional": m.bidirectional, "dropout": float(m.dropout)}
    if isinstance(m, nn.RNN):
        params["nonlinearity"] = m.nonlinearity
    return params


def check_attention(m: nn.MultiheadAttention) -> dict[str, Any]:
    """The parameters of nnstudio's MultiheadAttention for ``m``."""
    _require(m.batch_first, "MultiheadAttention(batch_first=False): nnstudio's attention "
                            "takes [B, T, features]")
    _require(m._qkv_same_embed_dim, "MultiheadAttention with kdim or vdim")
    _require(m.in_proj_bias is not None, "MultiheadAttention(bias=False)")
    _require(m.bias_k is None and not m.add_zero_attn,
             "MultiheadAttention with add_bias_kv or add_zero_attn")
    return {"num_heads": m.num_heads, "dropout": float(m.dropout)}
