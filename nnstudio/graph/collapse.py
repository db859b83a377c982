"""Collapsing a selection into a block, and expanding a block back: the plans.

:func:`plan_collapse` works out, from a graph, a selection and its current shape
inference, what "Collapse into Block" does: the new graph (the selected layers, an Input
for every tensor that enters the selection, an Output for every tensor that leaves it,
with the shapes inference gives them now), and how the Block that replaces the
selection is wired.  :func:`plan_expand` works out the reverse for one Block node.  The
editor turns a plan into one undoable macro of ordinary document edits; nothing here
changes the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .document import BLOCK, Graph, GraphError, Project
from .shape_inference import InferenceResult

STEP = 220.0  # columns of a new block graph
ROW = 130.0


@dataclass
class CollapsePlan:
    graph: dict[str, Any]  # the new graph, Graph.to_dict-shaped
    removed: list[str]  # the selected node ids, in topological order
    block_name: str
    block_pos: tuple[float, float]
    # outer wires into the block: (src, src_port, block input port)
    wires_in: list[tuple[str, str, str]] = field(default_factory=list)
    # outer wires out of the block: (block output port, dst, dst_port)
    wires_out: list[tuple[str, str, str]] = field(default_factory=list)


def unique_graph_name(project: Project, base: str = "Block") -> str:
    """``base``, or ``base2``, ``base3``… whichever no graph of ``project`` has."""
    names = {g.name for g in project.graphs}
    if base not in names:
        return base
    i = 2
    while f"{base}{i}" in names:
        i += 1
    return f"{base}{i}"


def plan_collapse(graph: Graph, node_ids, result: InferenceResult, name: str) -> CollapsePlan:
    """What collapsing ``node_ids`` of ``graph`` into a block running a new graph
    ``name`` does; raises GraphError saying why the selection cannot be collapsed."""
    ids = [nid for nid in graph.topological_order() if nid in set(node_ids)]
    chosen = set(ids)
    if not ids:
        raise GraphError("select the layers to put into a block first")
    for nid in ids:
        if graph.node(nid).type in ("Input", "Output"):
            raise GraphError("Input and Output nodes stay in their graph: select the layers "
                             "between them")
    g = graph.nx_graph()
    after = set().union(*(nx.descendants(g, n) for n in ids)) - chosen
    before = set().union(*(nx.ancestors(g, n) for n in ids)) - chosen
    between = after & before
    if between:
        names = ", ".join(sorted(f"'{graph.node(n).name}'" for n in between)[:3])
        raise GraphError(f"{names} lies between selected layers: select it too, or the "
                         "block would feed itself")

    entering: dict[tuple[str, str], list] = {}  # outer tensor -> edges into the selection
    leaving: dict[tuple[str, str], list] = {}  # inner tensor -> edges out of it
    for nid in ids:
        node = graph.node(nid)
        for p in node.spec.input_ports(node.params):
            e = graph.edge_into(nid, p.name)
            if e is not None and e.src not in chosen:
                entering.setdefault((e.src, e.src_port), []).append(e)
        for e in graph.out_edges(nid):
            if e.dst not in chosen:
                leaving.setdefault((e.src, e.src_port), []).append(e)
    if not entering:
        raise GraphError("nothing enters the selection: a block needs an input")
    if not leaving:
        raise GraphError("nothing uses what the selection computes: a block needs an output")

    full = graph.to_dict()
    nodes = [dict(nd) for nd in full["nodes"] if nd["id"] in chosen]
    edges = [dict(ed) for ed in full["edges"] if ed["src"] in chosen and ed["dst"] in chosen]
    taken_names = {nd["name"] for nd in nodes}
    taken_ids = {nd["id"] for nd in nodes}
    xs = [nd["pos"][0] for nd in nodes]
    ys = [nd["pos"][1] for nd in nodes]
    left, top, right = min(xs), min(ys), max(xs)
    for nd in nodes:
        nd["pos"] = [round(nd["pos"][0] - left + STEP, 2), round(nd["pos"][1] - top, 2)]

    plan = CollapsePlan({}, ids, graph.unique_name("block"),
                        (sum(xs) / len(xs), sum(ys) / len(ys)))
    for i, ((src, port), es) in enumerate(entering.items()):
        shape = result.shapes.get((src, port))
        where = f"'{graph.node(es[0].dst).name}'"
        if shape is None:
            raise GraphError(f"the shape reaching {where} is not known: fix the errors before "
                             "it first")
        dims = tuple(shape[1:])
        if not all(isinstance(d, int) for d in dims):
            raise GraphError(f"the shape reaching {where}, {list(shape)}, has sizes that are "
                             "not numbers; a block's Input needs them")
        dtype = "long" if result.dtypes.get((src, port)) == "long" else "float"
        in_name = _fresh("x" if len(entering) == 1 else f"x{i + 1}", taken_names)
        in_id = _fresh(f"input{i + 1}", taken_ids)
        nodes.append({"id": in_id, "type": "Input", "name": in_name,
                      "params": {"shape": list(dims), "dtype": dtype},
                      "pos": [0.0, i * ROW]})
        for e in es:
            edges.append({"src": in_id, "src_port": "out", "dst": e.dst, "dst_port": e.dst_port})
        plan.wires_in.append((src, port, in_name))
    for i, ((src, port), es) in enumerate(leaving.items()):
        out_name = _fresh("out" if len(leaving) == 1 else f"out{i + 1}", taken_names)
        out_id = _fresh(f"output{i + 1}", taken_ids)
        nodes.append({"id": out_id, "type": "Output", "name": out_name, "params": {},
                      "pos": [round(right - left + 2 * STEP, 2), i * ROW]})
        edges.append({"src": src, "src_port": port, "dst": out_id, "dst_port": "in"})
        for e in es:
            plan.wires_out.append((out_name, e.dst, e.dst_port))
    plan.graph = {"name": name, "nodes": nodes, "edges": edges}
    return plan


@dataclass
class ExpandPlan:
    fragment: dict[str, Any]  # the inner layers, selection_fragment-shaped (ids of the inner graph)
    # outer wires to make, ends named by inner node ids where they touch the fragment:
    # (src, src_port, dst, dst_port, which ends are inner: "src" | "dst" | "both")
    wires: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    offset: tuple[float, float] = (0.0, 0.0)


def plan_expand(graph: Graph, block_id: str) -> ExpandPlan:
    """What expanding Block ``block_id`` of ``graph`` (a graph of the same project) does:
    its graph's layers put in its place, wired as the block was."""
    from .blocks import resolve
    from .shapes import ShapeError

    node = graph.node(block_id)
    if node.type != BLOCK:
        raise GraphError(f"'{node.name}' is not a block")
    if node.params.get("source"):
        raise GraphError(f"block '{node.name}' reuses another project's trained network: "
                         "expanding it would leave its weights behind")
    try:
        inner = resolve(graph, node.params).graph
    except ShapeError as e:
        raise GraphError(f"block '{node.name}' {e}") from None
    full = inner.to_dict()
    kinds = {nd["id"]: nd["type"] for nd in full["nodes"]}
    layers = [nd for nd in full["nodes"] if nd["type"] not in ("Input", "Output")]
    if not layers:
        raise GraphError(f"block '{node.name}' runs a graph with no layers to expand")
    inner_edges = [e for e in full["edges"]
                   if kinds[e["src"]] not in ("Input", "Output")
                   and kinds[e["dst"]] not in ("Input", "Output")]
    fragment = {"format": "nnstudio-fragment", "version": 1, "nodes": layers,
                "edges": inner_edges}
    by_port_in = {e.dst_port: e for e in graph.in_edges(block_id)}
    names = {nd["id"]: nd["name"] for nd in full["nodes"]}
    plan = ExpandPlan(fragment)
    through: dict[str, list] = {}  # inner Output name -> what feeds it
    for e in full["edges"]:
        src_kind, dst_kind = kinds[e["src"]], kinds[e["dst"]]
        if src_kind == "Input":
            outer = by_port_in.get(names[e["src"]])
            if outer is None:
                continue  # an unconnected block input: its consumers stay unwired
            if dst_kind == "Output":
                through.setdefault(names[e["dst"]], []).append(("outer", outer.src,
                                                                 outer.src_port))
            else:
                plan.wires.append((outer.src, outer.src_port, e["dst"], e["dst_port"], "dst"))
        elif dst_kind == "Output":
            through.setdefault(names[e["dst"]], []).append(("inner", e["src"], e["src_port"]))
    for e in graph.out_edges(block_id):
        for kind, src, port in through.get(e.src_port, []):
            plan.wires.append((src, port, e.dst, e.dst_port, "src" if kind == "inner" else ""))
    xs = [nd["pos"][0] for nd in layers]
    ys = [nd["pos"][1] for nd in layers]
    plan.offset = (node.pos[0] - min(xs), node.pos[1] - min(ys))
    return plan


def _fresh(base: str, taken: set[str]) -> str:
    name, i = base, 2
    while name in taken:
        name = f"{base}_{i}"
        i += 1
    taken.add(name)
    return name
