"""Shapes on every wire, errors on the nodes that cause them.

:class:`ShapeInference` walks a graph in topological order and asks each node's spec
for its output shapes.  It remembers, per node, the parameters and input shapes it
last saw, so re-running after an edit only recomputes the nodes whose inputs changed —
cheap enough to run on every keystroke of a parameter.  It never raises for a bad
graph: problems come back as :class:`NodeError`s that name the node and the port.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field

from .document import Graph, Node
from .shapes import Shape, ShapeError, fmt_shape
from .spec import Ctx


@dataclass(frozen=True)
class NodeError:
    node: str  # node id
    port: str | None
    message: str  # a whole sentence naming the node

    def __str__(self) -> str:
        return self.message


@dataclass
class InferenceResult:
    # (node id, output port) -> shape; missing when it could not be computed
    shapes: dict[tuple[str, str], Shape] = field(default_factory=dict)
    errors: dict[str, list[NodeError]] = field(default_factory=dict)
    param_counts: dict[str, int] = field(default_factory=dict)
    # (node id, output port) -> "float" | "long" | "any": what the wire carries, with the
    # "any" of pass-through layers (Identity) resolved from their input
    dtypes: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_params(self) -> int:
        return sum(self.param_counts.values())

    def all_errors(self) -> list[NodeError]:
        return [e for errs in self.errors.values() for e in errs]

    def output_shape(self, node_id: str, port: str = "out") -> Shape | None:
        return self.shapes.get((node_id, port))

    def input_shapes(self, graph: Graph, node_id: str) -> list[Shape | None]:
        node = graph.node(node_id)
        out = []
        for p in node.spec.input_ports(node.params):
            e = graph.edge_into(node_id, p.name)
            out.append(self.shapes.get((e.src, e.src_port)) if e else None)
        return out


_DTYPE_WORDS = {"long": "integer token ids", "float": "real-valued tensors"}


def describe(node: Node) -> str:
    return f"{node.type} '{node.name}'"


class ShapeInference:
    """Incremental shape inference for one graph.

    After an edit that keeps the wiring (a parameter, a name, a flag), :meth:`run`
    revisits only the edited nodes and, downstream, the nodes whose inputs changed; any
    other edit re-walks the whole graph, reusing each node's memo when its type, name,
    parameters and input shapes are unchanged.
    """

    def __init__(self, graph: Graph, input_shapes: Mapping[str, Shape] | None = None):
        """``input_shapes`` (Input node id -> shape with the batch dimension) replaces
        those Input nodes' own shapes: how a Block infers the graph it runs with the
        shapes that reach it."""
        self.graph = graph
        self._input_shapes = dict(input_shapes or {})
        # node id -> (key, outputs | None, error | None, count)
        self._memo: dict[str, tuple] = {}
        self._result: InferenceResult | None = None
        self._version = -1
        self._structure = -1
        self._rank: dict[str, int] = {}  # topological position, for the incremental walk
        self._keys: dict[str, tuple] = {}  # node id -> the (node, port) keys it wrote

    def run(self) -> InferenceResult:
        g = self.graph
        if self._result is not None and self._version == g.version:
            return self._result
        if self._result is not None and self._structure == g.structure_version:
            edited = g.edited_since(self._version)
            if edited is not None:
                res = self._update(edited)
                self._result, self._version = res, g.version
                return res
        res = InferenceResult()
        memo: dict[str, tuple] = {}
        self._keys = {}
        order = g.topological_order()
        for nid in order:
            self._visit(nid, res, memo)
        self._memo = memo
        self._rank = {nid: i for i, nid in enumerate(order)}
        self._result, self._version = res, g.version
        self._structure = g.structure_version
        return res

    def _update(self, edited: set[str]) -> InferenceResult:
        """Revisit ``edited`` and, in topological order, whatever their change reaches."""
        g, old = self.graph, self._result
        res = InferenceResult(dict(old.shapes), dict(old.errors), dict(old.param_counts),
                              dict(old.dtypes))
        pending = [(self._rank[nid], nid) for nid in edited if nid in self._rank]
        # error messages quote the upstream node's name, so its consumers are revisited too
        pending += [(self._rank[e.dst], e.dst) for nid in edited if nid in self._rank
                    for e in g.out_edges(nid)]
        heapq.heapify(pending)
        done: set[str] = set()
        errors_changed = False
        while pending:
            _, nid = heapq.heappop(pending)
            if nid in done:
                continue
            done.add(nid)
            before = self._outcome(nid, res)
            self._forget(nid, res)
            self._visit(nid, res, self._memo)
            after = self._outcome(nid, res)
            if before != after:
                errors_changed = errors_changed or before[2] != after[2]
                for e in g.out_edges(nid):
                    heapq.heappush(pending, (self._rank[e.dst], e.dst))
        if errors_changed or any(nid in res.errors for nid in done):
            # keep errors in topological order, as a full pass lists them
            res.errors = dict(sorted(res.errors.items(), key=lambda kv: self._rank[kv[0]]))
        return res

    def _outcome(self, nid: str, res: InferenceResult) -> tuple:
        """What the node's consumers can see of it: shapes, dtypes, errors, count."""
        keys = self._keys.get(nid, ())
        return (tuple(res.shapes.get(k) for k in keys), tuple(res.dtypes.get(k) for k in keys),
                tuple(e.message for e in res.errors.get(nid, ())), res.param_counts.get(nid))

    def _forget(self, nid: str, res: InferenceResult) -> None:
        for key in self._keys.pop(nid, ()):
            res.shapes.pop(key, None)
            res.dtypes.pop(key, None)
        res.errors.pop(nid, None)
        res.param_counts.pop(nid, None)

    def _visit(self, nid: str, res: InferenceResult, memo: dict[str, tuple]) -> None:
        """Infer one node from the shapes already in ``res``; record the outcome there."""
        g = self.graph
        node = g.node(nid)
        spec = node.spec
        in_ports = spec.input_ports(node.params)
        in_shapes: list[Shape] = []
        in_dtypes: list[str] = []
        in_dtype = "any"
        missing: list[str] = []
        upstream_failed = False
        wrong_dtype: NodeError | None = None
        for p in in_ports:
            e = g.edge_into(nid, p.name)
            if e is None:
                missing.append(p.name)
                continue
            s = res.shapes.get((e.src, e.src_port))
            if s is None:
                upstream_failed = True
                continue
            in_shapes.append(s)
            got = res.dtypes.get((e.src, e.src_port), "any")
            in_dtypes.append(got)
            if in_dtype == "any":
                in_dtype = got
            if wrong_dtype is None and "any" not in (got, p.dtype) and got != p.dtype:
                wrong_dtype = NodeError(nid, p.name, (
                    f"{describe(node)} input '{p.name}' takes {_DTYPE_WORDS[p.dtype]}, "
                    f"but {describe(g.node(e.src))} passes on {_DTYPE_WORDS[got]}"))
        if missing:
            ports = ", ".join(f"'{m}'" for m in missing)
            word = "input" if len(missing) == 1 else "inputs"
            res.errors[nid] = [NodeError(
                nid, missing[0], f"{describe(node)} has nothing connected to {word} {ports}")]
            return
        if upstream_failed:
            return  # the error is reported where it starts
        if wrong_dtype is not None:
            res.errors[nid] = [wrong_dtype]
            return
        if nid in g._blocks:
            stale = g.stale_ports(nid)
            if stale:
                res.errors[nid] = [_stale_error(g, node, stale)]
                return
        # the name is part of the key because error messages quote it
        key = (node.type, node.name, tuple(sorted(node.params.items())), tuple(in_shapes),
               tuple(in_dtypes))
        if spec.context_key is not None:
            key += (spec.context_key(node, g),)
        override = self._input_shapes.get(nid)
        if override is not None:
            key += (override,)
        cached = self._memo.get(nid)
        if cached is not None and cached[0] == key:
            entry = cached
        else:
            entry = self._infer_node(node, in_shapes, key, g, in_dtypes, override)
        memo[nid] = entry
        _, outs, err, count, out_dtypes = entry
        if err is not None:
            res.errors[nid] = [err]
            return
        keys = []
        for i, (p, s) in enumerate(zip(spec.output_ports(node.params), outs)):
            res.shapes[(nid, p.name)] = s
            if out_dtypes is not None and p.dtype == "any":
                res.dtypes[(nid, p.name)] = out_dtypes[i]
            else:
                res.dtypes[(nid, p.name)] = in_dtype if p.dtype == "any" else p.dtype
            keys.append((nid, p.name))
        self._keys[nid] = tuple(keys)
        res.param_counts[nid] = count

    @staticmethod
    def _infer_node(node: Node, in_shapes: list[Shape], key, graph: Graph,
                    in_dtypes: list[str], override: Shape | None = None) -> tuple:
        spec = node.spec
        ctx = Ctx(node.params, tuple(in_shapes), graph=graph, in_dtypes=tuple(in_dtypes))
        try:
            if override is not None:  # an Input of a graph that a Block runs
                outs = [tuple(override)]
            else:
                outs = [tuple(s) for s in spec.infer(ctx)]
            ctx.out_shapes = outs
            count = int(spec.count(ctx)) if spec.count else 0
        except ShapeError as e:
            port = e.port if e.port else None
            msg = f"{describe(node)} {e}"
            return key, None, NodeError(node.id, port, msg), 0, None
        except RecursionError:
            msg = f"{describe(node)} nests blocks too deeply"
            return key, None, NodeError(node.id, None, msg), 0, None
        except Exception as e:  # noqa: BLE001
            # a shape rule that trips over odd input still names the node, never crashes
            msg = f"{describe(node)} cannot take inputs {', '.join(map(fmt_shape, in_shapes))}: {e}"
            return key, None, NodeError(node.id, None, msg), 0, None
        out_dtypes = tuple(ctx.out_dtypes) if ctx.out_dtypes is not None else None
        return key, outs, None, count, out_dtypes


def _stale_error(graph: Graph, node: Node, stale) -> NodeError:
    side, edge = stale[0]
    if side == "in":
        what = f"input '{edge.dst_port}' (wired from '{graph.node(edge.src).name}')"
    else:
        what = f"output '{edge.src_port}' (wired to '{graph.node(edge.dst).name}')"
    port = edge.dst_port if side == "in" else None
    return NodeError(node.id, port, f"{describe(node)} has a wire on {what}, a port its "
                                    "graph no longer has: remove that wire")


def infer_shapes(graph: Graph) -> InferenceResult:
    """One-shot shape inference of ``graph`` (see :class:`ShapeInference`)."""
    return ShapeInference(graph).run()
