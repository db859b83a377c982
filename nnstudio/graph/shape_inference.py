"""Shapes on every wire, errors on the nodes that cause them.

:class:`ShapeInference` walks a graph in topological order and asks each node's spec
for its output shapes.  It remembers, per node, the parameters and input shapes it
last saw, so re-running after an edit only recomputes the nodes whose inputs changed —
cheap enough to run on every keystroke of a parameter.  It never raises for a bad
graph: problems come back as :class:`NodeError`s that name the node and the port.
"""

from __future__ import annotations

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


def describe(node: Node) -> str:
    return f"{node.type} '{node.name}'"


class ShapeInference:
    """Incremental shape inference for one graph."""

    def __init__(self, graph: Graph):
        self.graph = graph
        # node id -> (key, outputs | None, error | None, count)
        self._memo: dict[str, tuple] = {}
        self._result: InferenceResult | None = None
        self._version = -1

    def run(self) -> InferenceResult:
        g = self.graph
        if self._result is not None and self._version == g.version:
            return self._result
        res = InferenceResult()
        memo: dict[str, tuple] = {}
        for nid in g.topological_order():
            node = g.node(nid)
            spec = node.spec
            in_ports = spec.input_ports(node.params)
            in_shapes: list[Shape] = []
            missing: list[str] = []
            upstream_failed = False
            for p in in_ports:
                e = g.edge_into(nid, p.name)
                if e is None:
                    missing.append(p.name)
                    continue
                s = res.shapes.get((e.src, e.src_port))
                if s is None:
                    upstream_failed = True
                else:
                    in_shapes.append(s)
            if missing:
                ports = ", ".join(f"'{m}'" for m in missing)
                word = "input" if len(missing) == 1 else "inputs"
                res.errors[nid] = [NodeError(
                    nid, missing[0], f"{describe(node)} has nothing connected to {word} {ports}")]
                continue
            if upstream_failed:
                continue  # the error is reported where it starts
            key = (node.type, tuple(sorted(node.params.items())), tuple(in_shapes))
            cached = self._memo.get(nid)
            if cached is not None and cached[0] == key:
                entry = cached
            else:
                entry = self._infer_node(node, in_shapes, key)
            memo[nid] = entry
            _, outs, err, count = entry
            if err is not None:
                res.errors[nid] = [err]
                continue
            for p, s in zip(spec.output_ports(node.params), outs):
                res.shapes[(nid, p.name)] = s
            res.param_counts[nid] = count
        self._memo = memo
        self._result, self._version = res, g.version
        return res

    @staticmethod
    def _infer_node(node: Node, in_shapes: list[Shape], key) -> tuple:
        spec = node.spec
        ctx = Ctx(node.params, tuple(in_shapes))
        try:
            outs = [tuple(s) for s in spec.infer(ctx)]
            ctx.out_shapes = outs
            count = int(spec.count(ctx)) if spec.count else 0
        except ShapeError as e:
            port = e.port if e.port else None
            msg = f"{describe(node)} {e}"
            return key, None, NodeError(node.id, port, msg), 0
        except (ValueError, TypeError, ZeroDivisionError, KeyError, IndexError) as e:
            # a shape rule that trips over odd input still names the node, never crashes
            msg = f"{describe(node)} cannot take inputs {', '.join(map(fmt_shape, in_shapes))}: {e}"
            return key, None, NodeError(node.id, None, msg), 0
        return key, outs, None, count


def infer_shapes(graph: Graph) -> InferenceResult:
    """One-shot shape inference of ``graph`` (see :class:`ShapeInference`)."""
    return ShapeInference(graph).run()
