"""Grouping an imported graph into blocks: one per call of an ``nn.Sequential`` or of a
class of the person's own.

The converter (:mod:`nnstudio.export.import_convert`) builds one flat graph and
remembers, for every node, the module calls around it.  :func:`group_into_blocks` then
collapses those calls into Block nodes, innermost first, with the editor's own
"Collapse into Block" plan (:func:`nnstudio.graph.collapse.plan_collapse`), so an
imported ResNet reads ``stem → layer1 → layer2 → pool → fc`` and ``layer1`` is a graph
of two ``BasicBlock`` blocks.

Reuse: the layers of a block graph are named from the module paths relative to the
call (``conv1``, ``bn1``; ``conv2d_0`` for the first layer of an ``nn.Sequential``)
and the functional operations by what they are (``add``, ``relu``), so two calls of one
class give the same graph when they compute the same thing — and then share it.
Blocks take their input sizes from what reaches them (the generated class then takes
``in_channels`` as an argument), so ``BasicBlock(8)`` used twice, or a VGG stage used at
16 and at 32 input channels with the same layers, is one graph.  Calls whose layers
differ in a parameter of the catalog (``out_channels=16`` vs ``32``, a downsampling
shortcut) get one graph per distinct structure: ``BasicBlock``, ``BasicBlock2``.

A call that cannot become a block (its nodes are not one connected stretch of the
graph, nothing enters it) stays inlined, and :attr:`Blocks.notes` says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from nnstudio.export.import_convert import Converter
from nnstudio.graph.collapse import plan_collapse, unique_graph_name
from nnstudio.graph.document import BLOCK, Graph, GraphError, Project
from nnstudio.graph.names import class_name
from nnstudio.graph.shape_inference import ShapeInference


@dataclass
class BlockUse:
    """One Block node the grouping made: the graph it runs, and for each node of that
    graph (by name) the node of the flat import it stands for (a layer holding weights,
    or another Block node)."""

    graph: str
    members: dict[str, str]
    module_path: str  # the call's module ("layer1.0")


@dataclass
class Blocks:
    uses: dict[str, BlockUse] = field(default_factory=dict)  # Block node id -> its use
    graphs: list[Graph] = field(default_factory=list)  # the block graphs, in order made
    notes: list[str] = field(default_factory=list)  # calls left inlined, and why


def becomes_block(module: nn.Module) -> bool:
    """An ``nn.Sequential``, or a class that is not one of torch's own layers."""
    if isinstance(module, nn.Sequential):
        return True
    return type(module).__module__.split(".")[0] != "torch"


def group_into_blocks(project: Project, graph: Graph, conv: Converter,
                      model: nn.Module) -> Blocks:
    """Collapse each qualifying module call of ``graph`` (a graph of ``project`` just
    made by ``conv`` from ``model``) into a Block node, adding the block graphs to
    ``project``.  Changes ``graph`` in place; the nodes keep their ids."""
    out = Blocks()
    scope_of = {nid: calls for nid, calls in conv.call_scopes.items() if nid in graph}
    depth_order: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for nid in graph.topological_order():
        for depth, call in enumerate(scope_of.get(nid, ())):
            if call not in seen:
                seen.add(call)
                depth_order.append((-depth, len(depth_order), call))
    signatures: dict[str, tuple[str, str]] = {}  # block graph -> (its family, signature)
    for _neg_depth, _order, call in sorted(depth_order):
        path = conv.call_paths[call]
        try:
            module = model.get_submodule(path)
        except AttributeError:
            continue
        if not becomes_block(module):
            continue
        members = [nid for nid in graph.topological_order() if call in scope_of.get(nid, ())]
        if not members:
            continue  # a call that only passes its input on
        try:
            made = _collapse(project, graph, conv, out, call, members, scope_of, signatures)
        except GraphError as e:
            out.notes.append(f"{path} ({type(module).__name__}) stays inlined: {e}")
            continue
        outer = scope_of[members[0]]
        scope_of[made] = outer[:outer.index(call)]
        for nid in members:
            scope_of.pop(nid, None)
    _order_graphs(project, graph, out)
    return out


def _order_graphs(project: Project, top: Graph, out: Blocks) -> None:
    """Put the block graphs in the order a reader meets them (the network first, then
    depth first along the blocks in the order they run), not innermost first."""
    order: list[str] = []

    def visit(g: Graph) -> None:
        if g.name in order:
            return
        order.append(g.name)
        for nid in g.topological_order():
            node = g.node(nid)
            if node.type == BLOCK:
                visit(project.graph(node.params["graph"]))

    visit(top)
    rank = {name: i for i, name in enumerate(order)}
    # the project was made by the import and nothing observes it yet: reorder in place
    project.graphs.sort(key=lambda g: rank.get(g.name, len(rank)))
    out.graphs.sort(key=lambda g: rank.get(g.name, len(rank)))


def _collapse(project: Project, graph: Graph, conv: Converter, out: Blocks, call: str,
              members: list[str], scope_of: dict[str, tuple[str, ...]],
              signatures: dict[str, tuple[str, str]]) -> str:
    """Replace ``members`` (the nodes of ``call``) by one Block node; returns its id."""
    path = conv.call_paths[call]
    kind = conv.scope_types.get(path, "Sequential")
    result = ShapeInference(graph).run()
    plan = plan_collapse(graph, members, result, "_")
    names = _inner_names(plan.graph, graph, conv, out, path)
    for nd in plan.graph["nodes"]:
        nd["name"] = names.get(nd["id"], nd["name"])
    key = (kind, _signature(plan.graph))  # calls of one class (or two Sequentials) alike
    reused = next((name for name, known in signatures.items() if known == key), None)
    if reused is None:
        name = unique_graph_name(project, _graph_base(path, kind))
        plan.graph["name"] = name
        inner = project.add_graph(Graph.from_dict(plan.graph))
        out.graphs.append(inner)
        signatures[name] = key
    else:
        name = reused
    for nid in members:
        graph.remove_node(nid)
    block = graph.add_node(BLOCK, graph.unique_name(path.replace(".", "_")), {"graph": name},
                           plan.block_pos)
    for src, port, block_port in plan.wires_in:
        graph.connect(src, port, block.id, block_port)
    for block_port, dst, dst_port in plan.wires_out:
        graph.connect(block.id, block_port, dst, dst_port)
    by_id = {nd["id"]: nd["name"] for nd in plan.graph["nodes"]}
    out.uses[block.id] = BlockUse(name, {by_id[nid]: nid for nid in members}, path)
    conv.scope_types.setdefault(path, kind)
    return block.id


def _graph_base(path: str, kind: str) -> str:
    """A block graph's name: its class (``BasicBlock``), or for an ``nn.Sequential`` its
    attribute (``features`` → ``Features``)."""
    if kind != "Sequential":
        return class_name(kind, "Block")
    parts = path.split(".")
    if parts[-1].isdigit():  # an item of another Sequential: features.0 → FeaturesBlock
        named = [p for p in parts if not p.isdigit()]
        return class_name(f"{named[-1]}_block" if named else "block", "Block")
    return class_name(parts[-1], "Block")


_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")


def _snake(text: str) -> str:
    """``BatchNorm2d`` → ``batch_norm2d``, ``ReLU`` → ``relu``, ``BasicBlock`` →
    ``basic_block``."""
    return _SNAKE.sub("_", text).lower()


def relative_name(path: str, scope: str, hint: str) -> str:
    """A node's name inside the block of module ``scope``: its module path relative to
    it (``layer1.0.conv1`` in ``layer1.0`` → ``conv1``); a bare index, as the children
    of an ``nn.Sequential`` have, is prefixed with ``hint`` (``conv2d_0``)."""
    rel = path[len(scope) + 1:] if path.startswith(scope + ".") else path
    name = rel.replace(".", "_")
    return f"{_snake(hint)}_{name}" if name[:1].isdigit() else name


def _inner_names(plan_graph: dict[str, Any], graph: Graph, conv: Converter, out: Blocks,
                 scope: str) -> dict[str, str]:
    """Names for the layers of a new block graph that do not depend on where the call
    sits in the model (so that two calls of one class compare equal)."""
    taken = {nd["name"] for nd in plan_graph["nodes"] if nd["type"] in ("Input", "Output")}
    names: dict[str, str] = {}
    for nd in plan_graph["nodes"]:
        nid = nd["id"]
        if nd["type"] in ("Input", "Output"):
            continue
        if nid in out.uses:
            use = out.uses[nid]
            base = relative_name(use.module_path, scope,
                                 conv.scope_types.get(use.module_path, "block"))
        elif nid in conv.module_paths:
            base = relative_name(conv.module_paths[nid], scope, nd["type"])
        else:
            base = re.sub(r"_\d+$", "", conv.op_names.get(nid, nd["name"]))
        name, i = base, 2
        while name in taken:
            name = f"{base}_{i}"
            i += 1
        taken.add(name)
        names[nid] = name
    return names


def _signature(plan_graph: dict[str, Any]) -> str:
    """What makes two block graphs the same: names, types and parameters of the nodes
    (an Input's sizes left out: a block takes them from what reaches it) and wires."""
    by_id = {nd["id"]: nd["name"] for nd in plan_graph["nodes"]}
    nodes = []
    for nd in plan_graph["nodes"]:
        params = dict(nd.get("params", {}))
        if nd["type"] == "Input":
            params["shape"] = len(params.get("shape", ()))
        nodes.append((nd["name"], nd["type"], params, bool(nd.get("frozen", False))))
    ports = [nd["name"] for nd in plan_graph["nodes"] if nd["type"] in ("Input", "Output")]
    edges = sorted((by_id[e["src"]], e["src_port"], by_id[e["dst"]], e["dst_port"])
                   for e in plan_graph["edges"])
    return json.dumps([sorted(nodes, key=lambda t: t[0]), ports, edges], sort_keys=True,
                      default=str)
