"""Undoable edits.  Each command calls one document method (or a short, fixed series of
them) and can put the document back exactly as it was.  The canvas never changes the
document directly; it pushes one of these onto the session's undo stack."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtGui import QUndoCommand

from ..graph.document import Edge, Graph, GraphError, Project
from ..graph.spec import REGISTRY


class Command(QUndoCommand):
    """An undoable edit: ``apply`` changes the document, ``revert`` puts it back.

    :meth:`ProjectSession.push` calls ``apply`` itself first, so a refused edit raises
    a GraphError in Python (and is never put on the stack); the stack's own first call of
    ``redo`` is then skipped.
    """

    def __init__(self, text: str = ""):
        super().__init__(text)
        self._applied = False

    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def redo(self):
        if self._applied:
            self._applied = False  # the stack's first redo: already done by push
            return
        with one_change_signal(self.graphs()):
            self.apply()

    def undo(self):
        with one_change_signal(self.graphs()):
            self.revert()

    def apply_first(self) -> None:
        with one_change_signal(self.graphs()):
            self.apply()
        self._applied = True

    def graphs(self) -> list[Graph]:
        """The graphs this command edits."""
        g = getattr(self, "graph", None)
        return [g] if g is not None else []


class Macro(Command):
    """Several edits as one step; if one is refused, those before it are reverted."""

    def __init__(self, text: str, commands: list[Command]):
        super().__init__(text)
        self.commands = commands

    def apply(self):
        done: list[Command] = []
        for c in self.commands:
            try:
                c.apply()
            except GraphError:
                for d in reversed(done):
                    d.revert()
                raise
            done.append(c)

    def revert(self):
        for c in reversed(self.commands):
            c.revert()

    def graphs(self) -> list[Graph]:
        out: dict[int, Graph] = {}
        for c in self.commands:
            for g in c.graphs():
                out[id(g)] = g
        return list(out.values())


# graph id -> how many commands are running on it (commands do not nest often, but a
# command may run inside another's undo)
_holding: dict[int, int] = {}


@contextmanager
def one_change_signal(graphs: list[Graph]) -> Iterator[None]:
    """Run a command's document calls so that each graph emits ``changed`` once, at the
    end, however many nodes and wires the command touched.

    ``changed`` is what triggers shape inference and code generation (O(graph) each);
    deleting or restoring a thousand nodes would otherwise run them thousands of times.
    The finer signals (node_added, edge_removed, ...) still come one by one.
    """
    started = []
    for g in graphs:
        depth = _holding.get(id(g), 0)
        if depth == 0:
            g.changed.pause()
            started.append(g)
        _holding[id(g)] = depth + 1
    try:
        yield
    finally:
        for g in graphs:
            depth = _holding[id(g)] - 1
            if depth:
                _holding[id(g)] = depth
            else:
                del _holding[id(g)]
        for g in started:
            g.changed.resume(reducer=lambda first, _later: first)  # one emission, if any


def _node_record(graph: Graph, nid: str) -> dict[str, Any]:
    n = graph.node(nid)
    return {"id": n.id, "type": n.type, "name": n.name, "params": dict(n.params),
            "pos": n.pos, "frozen": n.frozen, "lr_mult": n.lr_mult}


def _restore_node(graph: Graph, rec: dict[str, Any]) -> None:
    graph.add_node(rec["type"], rec["name"], rec["params"], rec["pos"], node_id=rec["id"],
                   frozen=rec["frozen"], lr_mult=rec["lr_mult"])


class AddNodeCommand(Command):
    def __init__(self, graph: Graph, type_name: str, pos=(0.0, 0.0), params=None, name=None):
        super().__init__()
        self.graph = graph
        spec = graph.registry.get(type_name)
        # fix id and name now so that redo after undo recreates the very same node
        self.node_id = graph.new_id()
        self.rec = {"id": self.node_id, "type": type_name,
                    "name": name or graph.unique_name(spec.hint),
                    "params": dict(params or {}), "pos": tuple(pos), "frozen": False,
                    "lr_mult": 1.0}
        self.setText(f"Add {type_name}")

    def apply(self):
        _restore_node(self.graph, self.rec)

    def revert(self):
        self.graph.remove_node(self.node_id)


class RemoveNodesCommand(Command):
    """Delete nodes with all their wires."""

    def __init__(self, graph: Graph, node_ids):
        super().__init__()
        self.graph = graph
        self.ids = [nid for nid in graph.topological_order() if nid in set(node_ids)]
        self.records: list[dict] = []
        self.edges: list[Edge] = []
        n = len(self.ids)
        self.setText(f"Delete {graph.node(self.ids[0]).name}" if n == 1 else f"Delete {n} nodes")

    def apply(self):
        self.records = [_node_record(self.graph, nid) for nid in self.ids]
        edges: dict[Edge, None] = {}
        for nid in self.ids:
            for e in self.graph.in_edges(nid) + self.graph.out_edges(nid):
                edges[e] = None
        self.edges = list(edges)
        self.order = [n.id for n in self.graph.nodes]
        self.wire_order = [(e.dst, e.dst_port) for e in self.graph.edges]
        for nid in self.ids:
            self.graph.remove_node(nid)

    def revert(self):
        for rec in self.records:
            _restore_node(self.graph, rec)
        for e in self.edges:
            self.graph.connect(e.src, e.src_port, e.dst, e.dst_port)
        # back in their places: the order decides ties in the code and the Inputs' order
        self.graph.reorder(self.order, self.wire_order)


class MoveNodesCommand(Command):
    """Moves from a drag (pushed once, on release) or from auto-layout."""

    def __init__(self, graph: Graph, moves: dict[str, tuple[tuple, tuple]], text: str = ""):
        super().__init__()
        self.graph = graph
        self.moves = moves  # id -> (old pos, new pos)
        self.setText(text or (f"Move {len(moves)} nodes" if len(moves) > 1 else "Move node"))

    def apply(self):
        for nid, (_, new) in self.moves.items():
            self.graph.move_node(nid, new)

    def revert(self):
        for nid, (old, _) in self.moves.items():
            self.graph.move_node(nid, old)


class ConnectCommand(Command):
    def __init__(self, graph: Graph, src: str, src_port: str, dst: str, dst_port: str):
        super().__init__()
        self.graph, self.ends = graph, (src, src_port, dst, dst_port)
        self.setText("Connect")

    def apply(self):
        self.graph.connect(*self.ends)

    def revert(self):
        self.graph.disconnect(Edge(*self.ends))


class DisconnectCommand(Command):
    def __init__(self, graph: Graph, edge: Edge):
        super().__init__()
        self.graph, self.edge = graph, edge
        self.setText("Disconnect")

    def apply(self):
        self.graph.disconnect(self.edge)

    def revert(self):
        e = self.edge
        self.graph.connect(e.src, e.src_port, e.dst, e.dst_port)


class SetParamsCommand(Command):
    """Change parameters of one node; successive edits of the same parameter merge."""

    ID = 1001

    def __init__(self, graph: Graph, node_id: str, params: dict[str, Any]):
        super().__init__()
        self.graph, self.node_id = graph, node_id
        node = graph.node(node_id)
        self.new = dict(params)
        self.old = {k: node.params[k] for k in params}
        self.setText(f"Set {', '.join(params)} of {node.name}")

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other) -> bool:
        if (other.node_id != self.node_id or other.graph is not self.graph
                or set(other.new) != set(self.new)):
            return False
        self.new = dict(other.new)
        return True

    def apply(self):
        self.graph.set_params(self.node_id, self.new)

    def revert(self):
        self.graph.set_params(self.node_id, self.old)


class RenameNodeCommand(Command):
    def __init__(self, graph: Graph, node_id: str, name: str):
        super().__init__()
        self.graph, self.node_id, self.new = graph, node_id, name
        self.old = graph.node(node_id).name
        self.setText(f"Rename {self.old} to {name}")

    def apply(self):
        self.graph.rename_node(self.node_id, self.new)

    def revert(self):
        self.graph.rename_node(self.node_id, self.old)


class SetTrainingFlagsCommand(Command):
    def __init__(self, graph: Graph, node_id: str, frozen=None, lr_mult=None):
        super().__init__()
        node = graph.node(node_id)
        self.graph, self.node_id = graph, node_id
        self.old = (node.frozen, node.lr_mult)
        self.new = (node.frozen if frozen is None else bool(frozen),
                    node.lr_mult if lr_mult is None else float(lr_mult))
        self.setText(f"{'Freeze' if self.new[0] else 'Unfreeze'} {node.name}"
                     if frozen is not None else f"Set learning-rate multiplier of {node.name}")

    def apply(self):
        self.graph.set_training_flags(self.node_id, *self.new)

    def revert(self):
        self.graph.set_training_flags(self.node_id, *self.old)


class AddGraphCommand(Command):
    """Add a graph (built from a ``Graph.to_dict``-shaped dict) to the project."""

    def __init__(self, project: Project, data: dict, index: int | None = None):
        super().__init__()
        self.project = project
        self.graph = Graph.from_dict(data, project.graphs[0].registry if project.graphs
                                     else REGISTRY)
        self.index = index
        self.setText(f"Add graph {self.graph.name}")

    def apply(self):
        self.project.add_graph(self.graph, index=self.index)

    def revert(self):
        self.project.remove_graph(self.graph.name)


class RenameGraphCommand(Command):
    """Rename a graph; the blocks that run it follow (see ``Graph.rename``)."""

    def __init__(self, graph: Graph, name: str):
        super().__init__()
        self.graph, self.new, self.old = graph, name, graph.name
        self.setText(f"Rename graph {self.old} to {name}")

    def apply(self):
        self.graph.rename(self.new)

    def revert(self):
        self.graph.rename(self.old)

    def graphs(self) -> list[Graph]:
        project = self.graph.project
        users = [g for g, _ in project.block_uses(self.old)] if project is not None else []
        return [self.graph, *users]


class PasteCommand(Command):
    """Add the nodes and inner wires of a copied fragment (``Graph.to_dict`` shape)."""

    def __init__(self, graph: Graph, data: dict, offset=(40.0, 40.0)):
        super().__init__()
        self.graph = graph
        taken_names = {n.name for n in graph.nodes}
        remap: dict[str, str] = {}
        self.records: list[dict] = []
        next_ids: set[str] = set()
        for nd in data.get("nodes", []):
            nid = graph.new_id()
            while nid in next_ids:
                nid = graph.new_id()
            next_ids.add(nid)
            remap[nd["id"]] = nid
            name = str(nd.get("name") or graph.registry.get(nd["type"]).hint)
            base, i = name, 1
            while name in taken_names:
                name = f"{base.rstrip('0123456789') or base}{i}"
                i += 1
            taken_names.add(name)
            pos = nd.get("pos", (0, 0))
            self.records.append({
                "id": nid, "type": nd["type"], "name": name, "params": nd.get("params", {}),
                "pos": (pos[0] + offset[0], pos[1] + offset[1]),
                "frozen": nd.get("frozen", False), "lr_mult": nd.get("lr_mult", 1.0)})
        self.edges = [Edge(remap[e["src"]], e["src_port"], remap[e["dst"]], e["dst_port"])
                      for e in data.get("edges", []) if e["src"] in remap and e["dst"] in remap]
        self.node_ids = [r["id"] for r in self.records]
        self.remap = remap  # the fragment's ids -> the new nodes' ids
        self.setText(f"Paste {len(self.records)} node{'s' * (len(self.records) != 1)}")

    def apply(self):
        added: list[str] = []
        try:
            for rec in self.records:
                _restore_node(self.graph, rec)
                added.append(rec["id"])
            for e in self.edges:
                self.graph.connect(e.src, e.src_port, e.dst, e.dst_port)
        except GraphError:
            # a fragment with one bad node or wire (say, from a hand-edited clipboard)
            # is refused whole, leaving the document as it was
            for nid in reversed(added):
                self.graph.remove_node(nid)
            raise

    def revert(self):
        for nid in reversed(self.node_ids):
            self.graph.remove_node(nid)


def insert_on_wire(graph: Graph, type_name: str, pos, edge: Edge, params=None) -> Macro:
    """One undoable step: cut ``edge`` and put a new ``type_name`` node in between."""
    add = AddNodeCommand(graph, type_name, pos, params)
    spec = graph.registry.get(type_name)
    full = graph.full_params(type_name, params)
    in_port = spec.input_ports(full)[0].name
    out_port = spec.output_ports(full)[0].name
    return Macro(f"Insert {type_name}", [
        add,
        DisconnectCommand(graph, edge),
        ConnectCommand(graph, edge.src, edge.src_port, add.node_id, in_port),
        ConnectCommand(graph, add.node_id, out_port, edge.dst, edge.dst_port),
    ])


def selection_fragment(graph: Graph, node_ids) -> dict:
    """The selected nodes and the wires among them, as a ``Graph.to_dict``-shaped dict
    (what copy puts on the clipboard)."""
    ids = set(node_ids)
    full = graph.to_dict()
    return {
        "format": "nnstudio-fragment", "version": 1,
        "nodes": [n for n in full["nodes"] if n["id"] in ids],
        "edges": [e for e in full["edges"] if e["src"] in ids and e["dst"] in ids],
    }


def collapse_into_block(project: Project, graph: Graph, node_ids, result,
                        name: str | None = None) -> Macro:
    """One undoable step: the selected nodes become a new graph of the project, and a
    Block running it takes their place, wired as they were (see graph.collapse)."""
    from ..graph.collapse import plan_collapse, unique_graph_name

    name = name or unique_graph_name(project)
    plan = plan_collapse(graph, node_ids, result, name)
    add_graph = AddGraphCommand(project, plan.graph)
    block = AddNodeCommand(graph, "Block", plan.block_pos, {"graph": name}, plan.block_name)
    commands: list[Command] = [add_graph, RemoveNodesCommand(graph, plan.removed), block]
    commands += [ConnectCommand(graph, src, port, block.node_id, dst_port)
                 for src, port, dst_port in plan.wires_in]
    commands += [ConnectCommand(graph, block.node_id, src_port, dst, dst_port)
                 for src_port, dst, dst_port in plan.wires_out]
    n = len(plan.removed)
    return Macro(f"Collapse {n} node{'s' * (n != 1)} into block {name}", commands)


def expand_block(graph: Graph, block_id: str) -> Macro:
    """One undoable step: a Block node replaced by the layers of the graph it runs, wired
    as the block was (the graph itself stays in the project)."""
    from ..graph.collapse import plan_expand

    plan = plan_expand(graph, block_id)
    name = graph.node(block_id).name
    remove = RemoveNodesCommand(graph, [block_id])
    paste = PasteCommand(graph, plan.fragment, plan.offset)
    commands: list[Command] = [remove, paste]
    for src, src_port, dst, dst_port, inner in plan.wires:
        if inner in ("src", "both"):
            src = paste.remap[src]
        if inner in ("dst", "both"):
            dst = paste.remap[dst]
        commands.append(ConnectCommand(graph, src, src_port, dst, dst_port))
    return Macro(f"Expand block {name}", commands)
