"""What the common functional calls and tensor methods become in an nnstudio graph.

The second half of the importer's tables (the first, modules, is
:mod:`nnstudio.export.import_map`, which also holds the types these converters use):

* :data:`FUNCTIONS`, keyed by the function object (``F.relu``, ``torch.cat``,
  ``operator.add``), and :data:`METHODS`, keyed by the tensor method's name
  (``x.view``, ``x.mean``) → a converter from an :class:`~nnstudio.export.import_map.Op`
  to an :class:`~nnstudio.export.import_map.Emit` (add this node on these wires) or an
  :class:`~nnstudio.export.import_map.Alias` (the result is the input itself:
  ``x.contiguous()``);
* :func:`function_label`: how messages name a traced function.

Converters see the traced shapes (batch first), so reshapes are written from what
really happened rather than from the arguments' arithmetic.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from nnstudio.export.import_map import (
    Alias,
    Emit,
    Op,
    Unmappable,
    Wire,
    _adaptive_size,
    _dim,
    _one,
    _pool_stride,
    _require,
    _upsample_params,
)


# ------------------------------------------------------------------ functions
def _unary(type_name: str, names: Sequence[str] = ("input",), fixed: dict | None = None,
           params: Callable[[dict], dict] | None = None, **defaults):
    """A converter for ``f(x, ...)``: checks ``fixed`` arguments, reads ``params``."""
    def convert(op: Op) -> Emit:
        a = op.bind(names, **defaults)
        x = op.tensor(a[names[0]])
        for key, want in (fixed or {}).items():
            if a.get(key, want) != want:
                raise Unmappable(f"{op.label}({key}={a[key]!r}) has no nnstudio layer")
        return Emit(type_name, params(a) if params else {}, (x,))
    return convert


def _softmax_fn(type_name: str):
    def convert(op: Op) -> Emit:
        a = op.bind(("input", "dim"), _stacklevel=3, dtype=None)
        _require(a["dim"] is not None, f"{op.label} without dim")
        _require(a["dtype"] is None, f"{op.label}(dtype=...)")
        return Emit(type_name, {"dim": int(a["dim"])}, (op.tensor(a["input"]),))
    return convert


def _dropout(op: Op) -> Emit | Alias:
    a = op.bind(("input", "p", "training", "inplace"), p=0.5, training=True, inplace=False)
    x = op.tensor(a["input"])
    if not a["training"]:
        return Alias(x)
    return Emit("Dropout", {"p": float(a["p"])}, (x,))


def _max_pool(type_name: str):
    def convert(op: Op) -> Emit:
        a = op.bind(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                     "return_indices"), stride=None, padding=0, dilation=1, ceil_mode=False,
                    return_indices=False)
        _require(_one(a["dilation"], "dilation") == 1 and not a["ceil_mode"]
                 and not a["return_indices"],
                 f"{op.label} with dilation, ceil_mode or return_indices")
        k = _one(a["kernel_size"], "kernel_size")
        return Emit(type_name, {"kernel_size": k, "stride": _pool_stride(a["stride"], k),
                                "padding": _one(a["padding"], "padding")},
                    (op.tensor(a["input"]),))
    return convert


def _avg_pool(op: Op) -> Emit:
    a = op.bind(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                 "divisor_override"), stride=None, padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None)
    _require(not a["ceil_mode"] and a["count_include_pad"] and a["divisor_override"] is None,
             f"{op.label} with ceil_mode, count_include_pad=False or divisor_override")
    k = _one(a["kernel_size"], "kernel_size")
    return Emit("AvgPool2d", {"kernel_size": k, "stride": _pool_stride(a["stride"], k),
                              "padding": _one(a["padding"], "padding")},
                (op.tensor(a["input"]),))


def _adaptive_fn(op: Op) -> Emit:
    a = op.bind(("input", "output_size"))
    return Emit("AdaptiveAvgPool2d", {"output_size": _adaptive_size(a["output_size"])},
                (op.tensor(a["input"]),))


def _interpolate(op: Op) -> Emit:
    a = op.bind(("input", "size", "scale_factor", "mode", "align_corners",
                 "recompute_scale_factor", "antialias"), size=None, scale_factor=None,
                mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False)
    _require(not a["recompute_scale_factor"] and not a["antialias"],
             f"{op.label} with recompute_scale_factor or antialias")
    return Emit("Upsample", _upsample_params(a["size"], a["scale_factor"], a["mode"],
                                             a["align_corners"]), (op.tensor(a["input"]),))


def _flatten(op: Op) -> Emit:
    # torch.flatten(x) starts at dim 0 (the batch); the method and nn.Flatten at 1 too only
    # when asked: read them all the same way
    a = op.bind(("input", "start_dim", "end_dim"), start_dim=0, end_dim=-1)
    x = op.tensor(a["input"])
    rank = len(x.shape)
    start, end = _dim(a["start_dim"], rank, op.label), _dim(a["end_dim"], rank, op.label)
    _require(start != 0, f"{op.label} from dim 0 merges the batch dimension; flatten from 1")
    if (start, end) == (rank - 1, rank - 1):
        return Alias(x)
    return Emit("Flatten", {"start_dim": a["start_dim"], "end_dim": a["end_dim"]}, (x,))


def _reshape_like(op: Op) -> Emit | Alias:
    """view / reshape / squeeze / unsqueeze / unflatten: written from the traced shapes."""
    x = op.tensor(op.args[0] if op.args else op.kwargs.get("input"))
    out = op.out_shape
    if out is None:
        raise Unmappable(f"{op.label} does not give a tensor")
    if tuple(out) == tuple(x.shape):
        return Alias(x)
    example = tuple(out[1:])
    if len(x.shape) > 2 and len(out) == 2:
        return Emit("Flatten", {}, (x,))  # x.view(x.size(0), -1): the usual CNN → MLP step
    _require(1 <= len(example) <= 6, f"{op.label} to {len(example)} dimensions per example "
                                     "(nnstudio's Reshape takes 1 to 6)")
    return Emit("Reshape", {"shape": example}, (x,))


def _permute(op: Op) -> Emit | Alias:
    x = op.tensor(op.args[0])
    rest = op.args[1:] or tuple(op.kwargs.get("dims", ()))
    dims = tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else rest
    rank = len(x.shape)
    dims = tuple(_dim(int(d), rank, op.label) for d in dims)
    return _permutation(op, x, dims)


def _transpose(op: Op) -> Emit | Alias:
    a = op.bind(("input", "dim0", "dim1"))
    x = op.tensor(a["input"])
    rank = len(x.shape)
    d0, d1 = _dim(a["dim0"], rank, op.label), _dim(a["dim1"], rank, op.label)
    dims = list(range(rank))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return _permutation(op, x, tuple(dims))


def _permutation(op: Op, x: Wire, dims: tuple[int, ...]) -> Emit | Alias:
    if dims == tuple(range(len(dims))):
        return Alias(x)
    _require(dims[0] == 0, f"{op.label} moves the batch dimension away from the front")
    return Emit("Permute", {"dims": dims}, (x,))


def _same_dtype(op: Op) -> Alias:
    """``.contiguous()``, ``.float()``, ``.to(torch.float32)`` on what already is one."""
    x = op.tensor(op.args[0])
    _require(op.out_dtype is None or op.out_dtype == x.dtype,
             f"{op.label} changes the dtype; nnstudio's wires keep theirs")
    return Alias(x)


def _cat(op: Op) -> Emit:
    a = op.bind(("tensors", "dim"), dim=0)
    tensors = tuple(op.tensor(t, "every joined value") for t in a["tensors"])
    rank = len(tensors[0].shape)
    _require(_dim(a["dim"], rank, op.label) != 0,
             f"{op.label} along dim 0 joins batches, not features")
    _require(2 <= len(tensors) <= 8, f"{op.label} of {len(tensors)} tensors (Concat takes 2 "
                                     "to 8)")
    return Emit("Concat", {"inputs": len(tensors), "dim": int(a["dim"])}, tensors)


def _elementwise(type_name: str, word: str):
    def convert(op: Op) -> Emit:
        a = op.bind(("input", "other"), alpha=1)
        _require(a.get("alpha", 1) == 1, f"{op.label}(alpha=...)")
        if not all(isinstance(v, Wire) for v in (a["input"], a["other"])):
            raise Unmappable(f"{op.label} {word} a constant; nnstudio's {type_name} joins two "
                             "tensors of the network")
        x, y = a["input"], a["other"]
        _require(x.shape == y.shape, f"{op.label} broadcasts {list(x.shape)} with "
                                     f"{list(y.shape)}; nnstudio's {type_name} needs equal "
                                     "shapes")
        return Emit(type_name, {"inputs": 2}, (x, y))
    return convert


def _mean(op: Op) -> Emit:
    a = op.bind(("input", "dim", "keepdim"), dim=None, keepdim=False, dtype=None)
    x = op.tensor(a["input"])
    _require(a["dim"] is not None, f"{op.label} over every dimension averages the batch away")
    _require(a["dtype"] is None, f"{op.label}(dtype=...)")
    dims = (a["dim"],) if isinstance(a["dim"], int) else tuple(a["dim"])
    rank = len(x.shape)
    _require(all(_dim(d, rank, op.label) != 0 for d in dims),
             f"{op.label} over dim 0 averages the batch away")
    return Emit("Mean", {"dims": tuple(int(d) for d in dims), "keepdim": bool(a["keepdim"])},
                (x,))


def _getitem(op: Op) -> Emit:
    """``x[:, -1]``, ``x[:, 0, :]``, ``x[..., 2]``: one position along one dimension."""
    x = op.tensor(op.args[0])
    index = op.args[1]
    items = index if isinstance(index, tuple) else (index,)
    rank = len(x.shape)
    full = slice(None, None, None)
    offset = 0
    if items and items[0] is Ellipsis:
        items = items[1:]
        offset = rank - len(items)
    ints = [j for j, v in enumerate(items) if isinstance(v, int) and not isinstance(v, bool)]
    ok = len(ints) == 1 and all(isinstance(v, slice) and v == full
                                for j, v in enumerate(items) if j != ints[0])
    dim = offset + ints[0] if ok else -1
    if not 0 < dim < rank:
        raise Unmappable(f"indexing {_show_index(index)}: nnstudio's Select picks one position "
                         "of one dimension (such as x[:, -1]); slices and masks have no node")
    return Emit("Select", {"dim": dim, "index": int(items[ints[0]])}, (x,))


def _show_index(index) -> str:
    def one(v):
        if isinstance(v, slice):
            parts = ["" if p is None else str(p) for p in (v.start, v.stop, v.step)]
            return ":".join(parts[:2] if v.step is None else parts)
        return "..." if v is Ellipsis else str(v) if isinstance(v, int) else "<tensor>"
    items = index if isinstance(index, tuple) else (index,)
    return "x[" + ", ".join(one(v) for v in items) + "]"


_RELU = _unary("ReLU", ("input", "inplace"), inplace=False)
_SIGMOID = _unary("Sigmoid")
_TANH = _unary("Tanh")

FUNCTIONS: dict[Any, Callable[[Op], Emit | Alias]] = {
    F.relu: _RELU, torch.relu: _unary("ReLU"),
    F.sigmoid: _SIGMOID, torch.sigmoid: _SIGMOID,
    F.tanh: _TANH, torch.tanh: _TANH,
    F.gelu: _unary("GELU", ("input", "approximate"), fixed={"approximate": "none"},
                   approximate="none"),
    F.silu: _unary("SiLU", ("input", "inplace"), inplace=False),
    F.leaky_relu: _unary("LeakyReLU", ("input", "negative_slope", "inplace"),
                         params=lambda a: {"negative_slope": float(a["negative_slope"])},
                         negative_slope=0.01, inplace=False),
    F.elu: _unary("ELU", ("input", "alpha", "inplace"),
                  params=lambda a: {"alpha": float(a["alpha"])}, alpha=1.0, inplace=False),
    F.softplus: _unary("Softplus", ("input", "beta", "threshold"), fixed={"threshold": 20},
                       params=lambda a: {"beta": float(a["beta"])}, beta=1.0, threshold=20),
    F.softmax: _softmax_fn("Softmax"), torch.softmax: _softmax_fn("Softmax"),
    F.log_softmax: _softmax_fn("LogSoftmax"), torch.log_softmax: _softmax_fn("LogSoftmax"),
    F.dropout: _dropout,
    F.max_pool1d: _max_pool("MaxPool1d"), F.max_pool2d: _max_pool("MaxPool2d"),
    F.avg_pool2d: _avg_pool,
    F.adaptive_avg_pool2d: _adaptive_fn,
    F.interpolate: _interpolate,
    torch.flatten: _flatten,
    torch.reshape: _reshape_like,
    torch.squeeze: _reshape_like, torch.unsqueeze: _reshape_like,
    torch.permute: _permute, torch.transpose: _transpose,
    torch.cat: _cat, torch.concat: _cat,
    operator.add: _elementwise("Add", "adds"), torch.add: _elementwise("Add", "adds"),
    operator.iadd: _elementwise("Add", "adds"),
    operator.mul: _elementwise("Multiply", "multiplies by"),
    torch.mul: _elementwise("Multiply", "multiplies by"),
    operator.imul: _elementwise("Multiply", "multiplies by"),
    torch.mean: _mean,
    operator.getitem: _getitem,
}

METHODS: dict[str, Callable[[Op], Emit | Alias]] = {
    "relu": _unary("ReLU"), "sigmoid": _SIGMOID, "tanh": _TANH,
    "softmax": _softmax_fn("Softmax"), "log_softmax": _softmax_fn("LogSoftmax"),
    "flatten": _flatten,
    "view": _reshape_like, "reshape": _reshape_like, "squeeze": _reshape_like,
    "unsqueeze": _reshape_like, "unflatten": _reshape_like,
    "permute": _permute, "transpose": _transpose,
    "contiguous": _same_dtype, "float": _same_dtype, "to": _same_dtype, "type_as": _same_dtype,
    "add": _elementwise("Add", "adds"), "mul": _elementwise("Multiply", "multiplies by"),
    "mean": _mean,
}


def function_label(target: Any) -> str:
    """``F.relu``, ``torch.cat``, ``operator.add``: how a traced function is named."""
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", None) or repr(target)
    if target in (getattr(F, name, None),):
        return f"F.{name}"
    if module.startswith("torch") or getattr(torch, name, None) is target:
        return f"torch.{name}"
    if module in ("_operator", "operator"):
        return {"getitem": "indexing", "add": "+", "iadd": "+=", "mul": "*",
                "imul": "*=", "matmul": "@", "sub": "-", "truediv": "/"}.get(name, name)
    return f"{module}.{name}" if module else name
