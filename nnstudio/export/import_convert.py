"""Turning a torch.fx trace into an nnstudio graph, one traced operation at a time.

:class:`Converter` walks the trace made by :mod:`nnstudio.export.import_trace` and asks
the tables of :mod:`nnstudio.export.import_map` what each operation becomes.  Every node
it adds remembers where it came from: the module whose weights it holds
(:attr:`Converter.weights`, :attr:`Converter.module_paths`), the module calls that
enclosed it (:attr:`Converter.scopes` by module path, :attr:`Converter.call_scopes` by
call, so that a module called twice is two scopes), and the traced operation's name.
:mod:`nnstudio.export.import_blocks` groups nodes into blocks from those records.

What cannot be mapped is collected — every operation, with its name and source line —
and raised together as :class:`ModelImportError`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import fx, nn

from nnstudio.export import import_map as im
from nnstudio.export.import_functions import FUNCTIONS, METHODS, function_label
from nnstudio.export.import_map import Alias, LayerCall, Op, Unmappable, Wire
from nnstudio.export.import_trace import Location, TensorMeta, location
from nnstudio.graph.document import Graph, GraphError


@dataclass(frozen=True)
class Unmapped:
    """One traced operation with no nnstudio node: its name, where it was written, why."""

    name: str
    reason: str
    where: Location | None = None

    def __str__(self) -> str:
        at = f" at {self.where}" if self.where else ""
        return f"{self.name}{at}: {self.reason}"


class ModelImportError(ImportError):
    """The model cannot be imported; ``problems`` lists every operation at fault."""

    def __init__(self, message: str, problems: Sequence[Unmapped] = ()):
        self.problems = list(problems)
        lines = [message] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))



# ----------------------------------------------------------------------------- converting
@dataclass
class _Pending:
    """A recurrent layer's or attention's tuple result, not yet picked apart."""

    kind: str  # "rnn" | "attention"
    module: nn.Module
    target: str  # module path
    source: Wire
    params: dict[str, Any]
    path: tuple = ()
    made: dict = field(default_factory=dict)  # shared between the tuple's parts: mode -> Wire


_BROKEN = object()  # the value of an operation that could not be mapped (not reported again)


class Converter:
    def __init__(self, gm: fx.GraphModule, name: str, source, values: dict[str, Any],
                 values2: dict[str, Any], batch: int):
        self.gm = gm
        self.name = name
        self.source = source
        self.values = values
        self.values2 = values2
        self.batch = batch
        self.graph = Graph(name)
        self.env: dict[fx.Node, Any] = {}
        self.problems: list[Unmapped] = []
        self.weights: dict[str, nn.Module] = {}  # node id -> module whose state it holds
        self.module_paths: dict[str, str] = {}
        self.scopes: dict[str, tuple[str, ...]] = {}  # node id -> enclosing module paths
        self.scope_types: dict[str, str] = {}  # module path -> class name
        # node id -> the enclosing module *calls*, outermost first: a module called twice
        # is two calls ("act", "act@1") of one path
        self.call_scopes: dict[str, tuple[str, ...]] = {}
        self.call_paths: dict[str, str] = {}  # call -> module path ("act@1" -> "act")
        self.op_names: dict[str, str] = {}  # node id -> the traced operation's name
        self._used_modules: set[int] = set()
        self._folded: set[fx.Node] = set()

    # ------------------------------------------------------------------ the walk
    def convert(self, dtypes: list[str]) -> Graph:
        placeholders = iter(dtypes)
        output: fx.Node | None = None
        for n in self.gm.graph.nodes:
            if n in self._folded:
                continue
            if n.op == "output":
                output = n
                continue
            try:
                if n.op == "placeholder" and n.args:  # an argument left at its default
                    self.env[n] = n.args[0]
                elif n.op == "placeholder":
                    self.env[n] = self._input(n, next(placeholders))
                else:
                    self.env[n] = self._node(n)
            except Unmappable as e:
                self._problem(n, str(e))
                self.env[n] = _BROKEN
            except GraphError as e:  # a value the catalog refuses (a kernel of 200, say)
                self._problem(n, str(e))
                self.env[n] = _BROKEN
        if output is not None:
            self._outputs(output)
        if self.problems:
            n = len(self.problems)
            raise ModelImportError(
                f"cannot import {self.name}: {n} operation{'s' * (n != 1)} "
                f"{'have' if n != 1 else 'has'} no nnstudio equivalent; nothing was written",
                self.problems)
        return self.graph

    def _problem(self, n: fx.Node, reason: str) -> None:
        self.problems.append(Unmapped(n.name, reason, location(n, self.source)))

    def _input(self, n: fx.Node, dtype: str) -> Wire:
        meta = self.values[n.name]
        node = self.graph.add_node("Input", self._name(n.name), {"shape": meta.shape[1:],
                                                                 "dtype": dtype})
        return Wire(node.id, "out", meta.shape, meta.dtype)

    def _outputs(self, n: fx.Node) -> None:
        result = n.args[0]
        if isinstance(result, dict):
            self._problem(n, "forward returns a dict; nnstudio graphs return tensors "
                             "(one, or a tuple)")
            return
        items = list(result) if isinstance(result, (tuple, list)) else [result]
        for i, item in enumerate(items):
            value = self.env.get(item, _BROKEN) if isinstance(item, fx.Node) else item
            if value is _BROKEN:
                continue
            if not isinstance(value, Wire):
                self._problem(n, f"output {i + 1} is not a tensor computed by the network")
                continue
            out = self.graph.add_node("Output", self._name("output" if len(items) == 1
                                                           else f"output_{i}"))
            self.graph.connect(value.node_id, value.port, out.id, "in")

    # ------------------------------------------------------------------ one operation
    def _node(self, n: fx.Node) -> Any:
        if n.op == "get_attr":
            raise Unmappable(f"reads self.{n.target} directly (a parameter or buffer used "
                             "outside a layer); nnstudio's layers own their weights")
        args = fx.node.map_arg(n.args, lambda a: self.env[a])
        kwargs = fx.node.map_arg(n.kwargs, lambda a: self.env[a])
        if _contains(args, _BROKEN) or _contains(kwargs, _BROKEN):
            # its input's cause is already reported; say only what is wrong with this one
            reason = self._unknown(n)
            if reason:
                raise Unmappable(reason)
            return _BROKEN
        if n.op == "call_module":
            return self._module(n, args, kwargs)
        pending = [a for a in args if isinstance(a, _Pending)]
        if pending:
            return self._pick(n, pending[0], args, kwargs)
        meta = self.values.get(n.name)
        if not _has_tensor(meta):
            return meta  # shape arithmetic (x.size(0), x.shape[1] * 4): a plain value
        if n.op == "call_function":
            convert = FUNCTIONS.get(n.target)
            label = function_label(n.target)
        else:
            convert = METHODS.get(n.target)
            label = f"Tensor.{n.target}"
        if convert is None:
            raise Unmappable(f"{label} has no nnstudio layer")
        op = Op(label, tuple(args), dict(kwargs),
                meta.shape if isinstance(meta, TensorMeta) else None,
                meta.dtype if isinstance(meta, TensorMeta) else None)
        result = convert(op)
        if isinstance(result, Alias):
            return result.wire
        return self._emit(n, result.type, result.params, result.inputs)

    def _unknown(self, n: fx.Node) -> str | None:
        """Why ``n`` has no nnstudio node whatever its inputs are, if that is so."""
        if n.op == "call_module":
            module = self.gm.get_submodule(n.target)
            if id(module) in self._used_modules and any(True for _ in _state(module)):
                return (f"{type(module).__name__} '{n.target}' is called more than once "
                        "(shared weights); each nnstudio layer owns its weights")
            self._used_modules.add(id(module))
            known = type(module) in im.MODULES or isinstance(module, im.RECURRENT + im.ATTENTION)
            if not known:
                return f"{type(module).__name__} ('{n.target}') has no nnstudio layer"
            return None
        if n.op == "call_function" and n.target not in FUNCTIONS:
            return f"{function_label(n.target)} has no nnstudio layer"
        if n.op == "call_method" and n.target not in METHODS:
            return f"Tensor.{n.target} has no nnstudio layer"
        return None

    def _emit(self, n: fx.Node, type_name: str, params: dict, inputs: Sequence[Wire],
              module: nn.Module | None = None, name: str | None = None,
              check: fx.Node | None = None, module_path: str | None = None) -> Wire:
        """Add a node fed by ``inputs``; its value is the traced value of ``check`` (or n)."""
        check = check or n
        meta = self._batch_first(check)
        node = self.graph.add_node(type_name, self._name(name or self._display(n)), params)
        ports = node.spec.input_ports(node.params)
        for port, wire in zip(ports, inputs):
            problem = self.graph.connection_problem(wire.node_id, wire.port, node.id, port.name)
            if problem:
                self.graph.remove_node(node.id)
                raise Unmappable(problem)
            self.graph.connect(wire.node_id, wire.port, node.id, port.name)
        if module is not None:
            self.weights[node.id] = module
            self.module_paths[node.id] = module_path or str(n.target)
        self._note_scope(node.id, n)
        return Wire(node.id, node.spec.output_ports(node.params)[0].name, meta.shape, meta.dtype)

    def _batch_first(self, n: fx.Node) -> TensorMeta:
        a, b = self.values.get(n.name), self.values2.get(n.name)
        if not (isinstance(a, TensorMeta) and isinstance(b, TensorMeta)):
            raise Unmappable("does not give one tensor")
        if not (a.shape[:1] == (self.batch,) and b.shape[:1] == (self.batch + 1,)
                and a.shape[1:] == b.shape[1:]):
            raise Unmappable(f"its result {list(a.shape)} does not keep the batch in "
                             "dimension 0 (nnstudio's wires carry one example per row)")
        return a

    # ------------------------------------------------------------------ modules
    def _module(self, n: fx.Node, args: tuple, kwargs: dict) -> Any:
        module = self.gm.get_submodule(n.target)
        kind = type(module).__name__
        if id(module) in self._used_modules and any(True for _ in _state(module)):
            raise Unmappable(f"{kind} '{n.target}' is called more than once (shared weights); "
                             "each nnstudio layer owns its weights")
        self._used_modules.add(id(module))
        if isinstance(module, im.RECURRENT):
            x = self._only_input(n, kind, args, kwargs)
            return _Pending("rnn", module, str(n.target), x, im.check_recurrent(module))
        if isinstance(module, im.ATTENTION):
            return self._attention(n, module, args, kwargs)
        convert = im.MODULES.get(type(module))
        if convert is None:
            raise Unmappable(f"{kind} ('{n.target}') has no nnstudio layer")
        x = self._only_input(n, kind, args, kwargs)
        calls: list[LayerCall] = convert(module, x)
        wire = x
        for i, call in enumerate(calls):
            last = i == len(calls) - 1
            name = self._display(n) + (f"_{call.suffix}" if call.suffix else "")
            path = f"{n.target}.{call.suffix.replace('_', '.')}" if call.suffix else None
            wire = (self._emit(n, call.type, call.params, (wire,), call.module, name,
                               module_path=path)
                    if last else self._emit_unchecked(n, call, wire, name))
        return wire

    def _emit_unchecked(self, n: fx.Node, call: LayerCall, wire: Wire, name: str) -> Wire:
        # an inner node of a module that becomes several (a TransformerEncoder's layers):
        # its value was never traced on its own, but these layers keep the shape
        node = self.graph.add_node(call.type, self._name(name), call.params)
        self.graph.connect(wire.node_id, wire.port, node.id, "in")
        if call.module is not None:
            self.weights[node.id] = call.module
            self.module_paths[node.id] = f"{n.target}.{call.suffix.replace('_', '.')}"
        self._note_scope(node.id, n)
        return Wire(node.id, "out", wire.shape, wire.dtype)

    def _only_input(self, n: fx.Node, kind: str, args: tuple, kwargs: dict) -> Wire:
        extra = {k: v for k, v in kwargs.items() if v is not None and v is not False}
        tensors = [a for a in args if isinstance(a, Wire)]
        if len(args) != 1 or len(tensors) != 1 or extra:
            if isinstance(n.target, str) and kind in ("LSTM", "GRU", "RNN") and len(args) > 1:
                raise Unmappable(f"{kind} '{n.target}' is given an initial state; nnstudio's "
                                 f"{kind} starts from zeros")
            raise Unmappable(f"{kind} '{n.target}' is called with more than one input "
                             "(masks or other arguments have no nnstudio equivalent)")
        return tensors[0]

    def _attention(self, n: fx.Node, module: nn.MultiheadAttention, args: tuple,
                   kwargs: dict) -> _Pending:
        names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
                 "average_attn_weights", "is_causal")
        given = dict(zip(names, args), **kwargs)
        q, k, v = (given.get(x) for x in names[:3])
        if not (isinstance(q, Wire) and q == k == v):
            raise Unmappable(f"MultiheadAttention '{n.target}' attends to another sequence "
                             "than its query; nnstudio's attention is self-attention")
        for key in ("key_padding_mask", "attn_mask"):
            if given.get(key) is not None:
                raise Unmappable(f"MultiheadAttention '{n.target}' is given {key}")
        if given.get("is_causal"):
            raise Unmappable(f"MultiheadAttention '{n.target}' is causal")
        return _Pending("attention", module, str(n.target), q, im.check_attention(module))

    # ------------------------------------------------------------------ tuples of results
    def _pick(self, n: fx.Node, p: _Pending, args: tuple, kwargs: dict) -> Any:
        """Follow ``out, (h, c) = self.lstm(x)``-style indexing into a pending result."""
        if n.op == "call_function" and n.target is operator.getitem and args[0] is p:
            step: Any = args[1]
        elif n.op == "call_method" and n.target == "squeeze" and args[0] is p and (
                args[1:] == (0,) or kwargs == {"dim": 0}):
            step = "squeeze0"
        else:
            raise Unmappable(f"uses the tuple returned by '{p.target}' in a way nnstudio "
                             "cannot follow (take [0], or the last layer's hidden state)")
        path = (*p.path, step)
        if p.kind == "attention":
            if path != (0,):
                raise Unmappable(f"uses the attention weights of '{p.target}'; nnstudio's "
                                 "MultiheadAttention gives the attended sequence only")
            return self._make(n, p, "attention")
        mode = self._rnn_mode(p, path)
        if mode is None:
            return _Pending(p.kind, p.module, p.target, p.source, p.params, path, p.made)
        if mode == "sequence":
            last = self._last_step_user(n)
            if last is not None:
                self._folded.add(last)
                wire = self._make(n, p, "last", check=last)
                self.env[last] = wire
                return wire
        return self._make(n, p, mode)

    def _rnn_mode(self, p: _Pending, path: tuple) -> str | None:
        """"sequence" / "hidden" once ``path`` picks one of them, None while it may."""
        m = p.module
        kind = type(m).__name__
        hidden = (1, 0) if isinstance(m, nn.LSTM) else (1,)
        layers = m.num_layers * (2 if m.bidirectional else 1)
        if path == (0,):
            return "sequence"
        if path == hidden[:len(path)]:
            return None
        if path[:len(hidden)] == hidden and len(path) == len(hidden) + 1 and not m.bidirectional:
            last = path[-1]
            if last in (-1, layers - 1) or (last == "squeeze0" and layers == 1):
                return "hidden"
        raise Unmappable(f"uses {kind} '{p.target}' state {path} — nnstudio's {kind} gives "
                         "the whole sequence, its last step, or the last layer's final hidden "
                         "state (h[-1]), not the cell state or every layer's state")

    def _last_step_user(self, n: fx.Node) -> fx.Node | None:
        users = list(n.users)
        if len(users) != 1:
            return None
        u = users[0]
        full = slice(None, None, None)
        if u.op == "call_function" and u.target is operator.getitem and len(u.args) == 2:
            index = u.args[1]
            if isinstance(index, tuple) and index[:2] == (full, -1) and all(
                    v == full for v in index[2:]):
                return u
        return None

    def _make(self, n: fx.Node, p: _Pending, mode: str, check: fx.Node | None = None) -> Wire:
        if mode in p.made:
            return p.made[mode]
        if p.made:
            raise Unmappable(f"uses both the {next(iter(p.made))} and the {mode} of "
                             f"'{p.target}'; nnstudio's layer gives one of them")
        kind = type(p.module).__name__
        params = dict(p.params)
        if p.kind == "rnn":
            params["output"] = mode
        wire = self._emit(n, kind, params, (p.source,), p.module,
                          p.target.replace(".", "_"), check=check, module_path=p.target)
        p.made[mode] = wire
        return wire

    # ------------------------------------------------------------------ names and scopes
    def _display(self, n: fx.Node) -> str:
        if n.op == "call_module":
            return str(n.target).replace(".", "_")
        scope = self._scope(n)
        return f"{scope[-1].replace('.', '_')}_{n.name}" if scope else n.name

    def _scope(self, n: fx.Node) -> tuple[str, ...]:
        return tuple(self.call_paths[c] for c in self._calls(n))

    def _calls(self, n: fx.Node) -> tuple[str, ...]:
        """The module calls around ``n``, outermost first (torch.fx's nn_module_stack,
        whose keys tell two calls of one module apart)."""
        stack = n.meta.get("nn_module_stack") or {}
        calls = []
        for key, value in stack.items():
            path = str(value[0] if isinstance(value, tuple) and value else key)
            if not path:
                continue
            call = str(key) or path
            self.call_paths[call] = path
            calls.append(call)
            if isinstance(value, tuple) and len(value) > 1:
                cls = value[1]
                self.scope_types[path] = getattr(cls, "__name__", str(cls))
        if n.op == "call_module" and calls and self.call_paths[calls[-1]] == n.target:
            calls = calls[:-1]  # the layer itself is not a scope around it
        return tuple(calls)

    def _note_scope(self, node_id: str, n: fx.Node) -> None:
        calls = self._calls(n)
        self.call_scopes[node_id] = calls
        self.scopes[node_id] = tuple(self.call_paths[c] for c in calls)
        self.op_names[node_id] = n.name

    def _name(self, base: str) -> str:
        return self.graph.unique_name(base)


def _contains(value: Any, marker: object) -> bool:
    if value is marker:
        return True
    if isinstance(value, (tuple, list)):
        return any(_contains(v, marker) for v in value)
    if isinstance(value, dict):
        return any(_contains(v, marker) for v in value.values())
    return False


def _has_tensor(meta: Any) -> bool:
    if isinstance(meta, TensorMeta):
        return True
    if isinstance(meta, (tuple, list)):
        return any(_has_tensor(v) for v in meta)
    return False


def _state(module: nn.Module):
    yield from module.parameters()
    yield from module.buffers()

