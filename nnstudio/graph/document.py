"""The document: a project of named graphs, each a set of layer nodes wired port to port.

This is the single state of the program.  Every edit a person makes ends as one call
of a method here; observers (the canvas, the code preview, shape inference) follow
through the psygnal signals each :class:`Graph` and :class:`Project` emits.  Nothing
here knows about windows.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping
from typing import Any

import networkx as nx
from psygnal import Signal

from .document_rules import (
    NODE_ID,
    GraphError,
    _check_name,
    _check_pos,
    _dtype_problem,
    _numbered,
)
from .elements import Edge, Node
from .params import ParamError
from .spec import REGISTRY, Registry

_EDIT_LOG = 1024  # node edits remembered for incremental shape inference
# The layer type that runs another graph (see nnstudio.graph.blocks).  The document keeps
# its references in step: renaming a graph renames them, deleting a used graph is
# refused, a block that would contain itself is refused, and its ports follow the
# Input and Output nodes of the graph it runs.
BLOCK = "Block"


class Graph:
    """A directed acyclic graph of layer nodes.

    Signals: ``node_added(Node)``, ``node_removed(Node)``, ``node_changed(str)`` (name,
    parameters or flags), ``node_moved(str)``, ``edge_added(Edge)``,
    ``edge_removed(Edge)``, ``renamed(str)``, and ``changed()`` after any edit that can
    change shapes or code (everything but a move).
    """

    node_added = Signal(object)
    node_removed = Signal(object)
    node_changed = Signal(str)
    node_moved = Signal(str)
    edge_added = Signal(object)
    edge_removed = Signal(object)
    renamed = Signal(str)
    changed = Signal()

    def __init__(self, name: str = "Net", registry: Registry = REGISTRY):
        self.name = name
        self.registry = registry
        self._nodes: dict[str, Node] = {}
        self._by_name: dict[str, str] = {}  # display name -> node id
        # stem -> n such that stem1 .. stem(n-1) are all taken (cleared when names go)
        self._free_suffix: dict[str, int] = {}
        self._g = nx.MultiDiGraph()
        # each input port takes at most one wire: (dst, dst_port) -> Edge
        self._inputs: dict[tuple[str, str], Edge] = {}
        self._ids = itertools.count(1)
        self.version = 0  # bumped on every change; caches key on it
        # bumped only when nodes or wires come or go; the topological order keys on it
        self.structure_version = 0
        self._order: tuple[int, list[str]] | None = None
        # (version, node id) of edits that keep the wiring, for incremental inference
        self._edits: list[tuple[int, str]] = []
        self._edits_floor = 0  # versions up to this one may have been trimmed from _edits
        # Project that holds this graph, so a rename can refuse a name taken there
        self._project: Project | None = None
        self._blocks: dict[str, None] = {}  # ids of Block nodes, in insertion order
        # bumped when an Input or Output comes, goes, is renamed or moves in the order:
        # when the ports of a block that runs this graph may have changed
        self.io_version = 0

    # ----------------------------------------------------------------- reading
    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[Edge]:
        return list(self._inputs.values())

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"graph '{self.name}' has no node {node_id!r}") from None

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __bool__(self) -> bool:
        # a graph is a thing, not a container: `graph or default` must not skip an empty one
        return True

    def find(self, name: str) -> Node | None:
        """The node whose display name is ``name``, if any."""
        nid = self._by_name.get(name)
        return None if nid is None else self._nodes[nid]

    def in_edges(self, node_id: str) -> list[Edge]:
        return [d["edge"] for _, _, d in self._g.in_edges(node_id, data=True)]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [d["edge"] for _, _, d in self._g.out_edges(node_id, data=True)]

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        return self._inputs.get((node_id, port))

    def topological_order(self) -> list[str]:
        """Node ids, producers before consumers; ties broken by insertion order."""
        if self._order is None or self._order[0] != self.structure_version:
            rank = {nid: i for i, nid in enumerate(self._nodes)}
            order = list(nx.lexicographical_topological_sort(self._g, key=rank.__getitem__))
            self._order = (self.structure_version, order)
        return list(self._order[1])

    def nx_graph(self) -> nx.MultiDiGraph:
        """A read-only view of the wiring, for layout and analysis."""
        return self._g.copy(as_view=True)

    @property
    def project(self) -> Project | None:
        """The project that holds this graph (None while it stands alone)."""
        return self._project

    def block_nodes(self) -> list[Node]:
        """The Block nodes of this graph, in insertion order."""
        return [self._nodes[nid] for nid in self._blocks]

    def index_of(self, node_id: str) -> int:
        """Where ``node_id`` stands in insertion order (what undo restores)."""
        for i, nid in enumerate(self._nodes):
            if nid == node_id:
                return i
        raise GraphError(f"graph '{self.name}' has no node {node_id!r}")

    # ----------------------------------------------------------------- editing
    def new_id(self) -> str:
        while True:
            nid = f"n{next(self._ids)}"
            if nid not in self._nodes:
                return nid

    def unique_name(self, base: str) -> str:
        """``base`` if no node has that name, else ``base`` with the first free number."""
        taken = self._by_name
        if base not in taken:
            return base
        stem = base.rstrip("0123456789") or base
        i = self._free_suffix.get(stem, 1)
        while _numbered(stem, i) in taken:
            i += 1
        self._free_suffix[stem] = i
        return _numbered(stem, i)

    def full_params(self, type_name: str, params: Mapping[str, Any] | None = None
                    ) -> dict[str, Any]:
        """The parameters a new ``type_name`` node given ``params`` would have: defaults
        filled in, values checked, and what the document derives (a Block's ports)."""
        try:
            spec = self.registry.get(type_name)
        except KeyError as e:
            raise GraphError(str(e.args[0])) from None
        try:
            clean = spec.clean_params(params or {})
        except ParamError as e:
            raise GraphError(f"{type_name}: {e}") from None
        return spec.derive(clean, self) if spec.derive else clean

    def add_node(self, type_name: str, name: str | None = None,
                 params: Mapping[str, Any] | None = None, pos=(0.0, 0.0),
                 node_id: str | None = None, frozen: bool = False,
                 lr_mult: float = 1.0, index: int | None = None) -> Node:
        """Add a node of ``type_name``; parameters are checked against its spec.

        ``index`` puts the node at that place in insertion order (undo uses it to put
        a deleted node back where it was; the order decides ties in the generated code).
        """
        clean = self.full_params(type_name, params)
        spec = self.registry.get(type_name)
        if type_name == BLOCK:
            self._check_block_target(clean, name or spec.hint)
        if node_id is None:
            node_id = self.new_id()
        elif not isinstance(node_id, str) or not NODE_ID.match(node_id):
            raise GraphError(f"node ids are 1-64 letters, digits, '.', '_' or '-', "
                             f"not {node_id!r}")
        elif node_id in self._nodes:
            raise GraphError(f"a node with id {node_id!r} already exists")
        if name is None or not str(name).strip():
            name = self.unique_name(spec.hint)
        else:
            name = _check_name(name)
            if name in self._by_name:
                raise GraphError(f"a node named {name!r} already exists in '{self.name}'")
        pos = _check_pos(pos)
        lr_mult = float(lr_mult)
        if not 0.0 <= lr_mult <= 100.0:
            raise GraphError("learning-rate multiplier must be between 0 and 100")
        node = Node(node_id, type_name, name, clean, pos, bool(frozen), lr_mult)
        if index is None or index >= len(self._nodes):
            self._nodes[node_id] = node
        else:
            items = list(self._nodes.items())
            items.insert(max(0, index), (node_id, node))
            self._nodes = dict(items)
        self._by_name[name] = node_id
        if type_name == BLOCK:
            self._blocks[node_id] = None
        elif type_name in ("Input", "Output"):
            self.io_version += 1
        self._g.add_node(node_id)
        self.structure_version += 1
        self._touch()
        self.node_added.emit(node)
        self.changed.emit()
        return node

    def remove_node(self, node_id: str) -> list[Edge]:
        """Remove a node and its wires; returns the wires removed (for undo)."""
        node = self.node(node_id)
        removed = self.in_edges(node_id) + self.out_edges(node_id)
        for e in removed:
            self._drop_edge(e)
        del self._nodes[node_id]
        del self._by_name[node.name]
        self._blocks.pop(node_id, None)
        if node.type in ("Input", "Output"):
            self.io_version += 1
        self._free_suffix.clear()
        self._g.remove_node(node_id)
        self.structure_version += 1
        self._touch()
        self.node_removed.emit(node)
        self.changed.emit()
        return removed

    def reorder(self, order: list[str], wires: list[tuple[str, str]] | None = None) -> None:
        """Put the nodes in insertion order ``order`` (the same ids), and the wires in the
        order ``wires`` ((dst, dst_port) of each): undo uses it to put deleted nodes back
        exactly where they were, since ties in the generated code and the order of a
        graph's Inputs follow insertion order."""
        same_wires = wires is None or list(self._inputs) == list(wires)
        if list(self._nodes) == list(order) and same_wires:
            return
        if set(order) != set(self._nodes) or len(order) != len(self._nodes):
            raise GraphError("a new order must name every node once")
        if not same_wires:
            if set(wires) != set(self._inputs) or len(wires) != len(self._inputs):
                raise GraphError("a new order must name every wire once")
            self._inputs = {key: self._inputs[key] for key in wires}
        self._nodes = {nid: self._nodes[nid] for nid in order}
        self.structure_version += 1
        self.io_version += 1
        self._touch()
        self.changed.emit()

    def connection_problem(self, src: str, src_port: str, dst: str, dst_port: str) -> str | None:
        """Why the wire src.src_port → dst.dst_port cannot be made, or None if it can."""
        if src not in self._nodes or dst not in self._nodes:
            return "both ends must be nodes of this graph"
        s, d = self._nodes[src], self._nodes[dst]
        outs = {p.name: p for p in s.spec.output_ports(s.params)}
        ins = {p.name: p for p in d.spec.input_ports(d.params)}
        if src_port not in outs:
            return f"{s.type} '{s.name}' has no output port '{src_port}'"
        if dst_port not in ins:
            return f"{d.type} '{d.name}' has no input port '{dst_port}'"
        if src == dst:
            return "a layer cannot feed itself"
        if (dst, dst_port) in self._inputs:
            return f"input '{dst_port}' of '{d.name}' is already connected"
        problem = _dtype_problem(s, outs[src_port], d, ins[dst_port])
        if problem:
            return problem
        if nx.has_path(self._g, dst, src):
            return f"connecting '{s.name}' to '{d.name}' would make a cycle"
        return None

    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> Edge:
        problem = self.connection_problem(src, src_port, dst, dst_port)
        if problem:
            raise GraphError(problem)
        edge = Edge(src, src_port, dst, dst_port)
        self._inputs[(dst, dst_port)] = edge
        self._g.add_edge(src, dst, key=(src_port, dst_port), edge=edge)
        self.structure_version += 1
        self._touch()
        self.edge_added.emit(edge)
        self.changed.emit()
        return edge

    def disconnect(self, edge: Edge) -> None:
        if self._inputs.get((edge.dst, edge.dst_port)) != edge:
            raise GraphError("that wire is not in the graph")
        self._drop_edge(edge)
        self._touch()
        self.changed.emit()

    def _drop_edge(self, edge: Edge) -> None:
        del self._inputs[(edge.dst, edge.dst_port)]
        self._g.remove_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        self.structure_version += 1
        self.edge_removed.emit(edge)

    def set_params(self, node_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Change some parameters; returns the previous values of those changed."""
        node = self.node(node_id)
        spec = node.spec
        try:
            clean = spec.clean_params({**node.params, **params})
        except ParamError as e:
            raise GraphError(f"{node.type} '{node.name}': {e}") from None
        if spec.derive:
            clean = spec.derive(clean, self)
        if node.type == BLOCK:
            self._check_block_target(clean, node.name)
        # a parameter that removes ports, or changes what they carry, must not strand a wire
        ins = {p.name: p for p in node.spec.input_ports(clean)}
        outs = {p.name: p for p in node.spec.output_ports(clean)}
        for e in self.in_edges(node_id):
            if e.dst_port not in ins:
                raise GraphError(f"disconnect input '{e.dst_port}' of '{node.name}' first")
            s = self._nodes[e.src]
            src_port = {p.name: p for p in s.spec.output_ports(s.params)}[e.src_port]
            problem = _dtype_problem(s, src_port, node, ins[e.dst_port])
            if problem:
                raise GraphError(f"{problem}; disconnect it first")
        for e in self.out_edges(node_id):
            if e.src_port not in outs:
                raise GraphError(f"disconnect output '{e.src_port}' of '{node.name}' first")
            d = self._nodes[e.dst]
            dst_port = {p.name: p for p in d.spec.input_ports(d.params)}[e.dst_port]
            problem = _dtype_problem(node, outs[e.src_port], d, dst_port)
            if problem:
                raise GraphError(f"{problem}; disconnect it first")
        old = {k: node.params[k] for k in params if node.params[k] != clean[k]}
        if not old and clean == node.params:
            return {}
        node.params = clean
        self._touch(node_id)
        self.node_changed.emit(node_id)
        self.changed.emit()
        return old

    def rename_node(self, node_id: str, name: str) -> str:
        """Give a node a new display name; returns the old one."""
        node = self.node(node_id)
        name = _check_name(name)
        other = self.find(name)
        if other is not None and other.id != node_id:
            raise GraphError(f"a node named {name!r} already exists in '{self.name}'")
        old, node.name = node.name, name
        if old != name:
            if node.type in ("Input", "Output"):
                self.io_version += 1
            del self._by_name[old]
            self._by_name[name] = node_id
            self._free_suffix.clear()
            self._touch(node_id)
            self.node_changed.emit(node_id)
            self.changed.emit()
        return old

    def set_training_flags(self, node_id: str, frozen: bool | None = None,
                           lr_mult: float | None = None) -> tuple[bool, float]:
        node = self.node(node_id)
        old = (node.frozen, node.lr_mult)
        if frozen is not None:
            node.frozen = bool(frozen)
        if lr_mult is not None:
            if not 0.0 <= float(lr_mult) <= 100.0:
                raise GraphError("learning-rate multiplier must be between 0 and 100")
            node.lr_mult = float(lr_mult)
        if old != (node.frozen, node.lr_mult):
            self._touch(node_id)
            self.node_changed.emit(node_id)
            self.changed.emit()
        return old

    def move_node(self, node_id: str, pos: tuple[float, float]) -> tuple[float, float]:
        node = self.node(node_id)
        old, node.pos = node.pos, _check_pos(pos)
        self.node_moved.emit(node_id)
        return old

    def rename(self, name: str) -> str:
        """Give the graph a new name (unique within its project); returns the old one."""
        name = _check_name(name, "a graph's name")
        if self._project is not None and name != self.name and any(
                g.name == name for g in self._project.graphs if g is not self):
            raise GraphError(f"a graph named {name!r} already exists")
        old, self.name = self.name, name
        self._touch()
        if self._project is not None and old != name:
            self._project._graph_renamed(self, old)
        self.renamed.emit(self.name)
        self.changed.emit()
        return old

    # ----------------------------------------------------------------- blocks
    def _check_block_target(self, params: Mapping[str, Any], name: str) -> None:
        """Refuse a Block that would run the graph it is in, directly or through others."""
        target = params.get("graph", "")
        if params.get("source") or not target:
            return
        if target == self.name:
            raise GraphError(f"block '{name}' cannot run '{self.name}', the graph it is in: "
                             "a block cannot contain itself")
        if self._project is not None:
            path = self._project.block_path(target, self.name)
            if path is not None:
                chain = " → ".join(f"'{g}'" for g in [self.name, *path])
                raise GraphError(f"block '{name}' cannot run '{target}': {chain} would "
                                 "make a block contain itself")

    def _refresh_block(self, node_id: str, rename: dict[str, dict[str, str]] | None = None
                       ) -> None:
        """The graph a Block runs changed: derive its ports again, move wires whose port
        was renamed (``rename``: side -> old name -> new name), and report the node
        changed (its shapes, count and code may have)."""
        node = self._nodes[node_id]
        spec = node.spec
        new = spec.derive(dict(node.params), self) if spec.derive else dict(node.params)
        if new != node.params:
            moved: list[tuple[Edge, Edge]] = []
            for side, edges, field_ in (("in", self.in_edges(node_id), "dst_port"),
                                        ("out", self.out_edges(node_id), "src_port")):
                names = (rename or {}).get(side, {})
                for e in edges:
                    port = getattr(e, field_)
                    if port in names:
                        repl = (Edge(e.src, e.src_port, e.dst, names[port]) if side == "in"
                                else Edge(e.src, names[port], e.dst, e.dst_port))
                        moved.append((e, repl))
            for e, _ in moved:
                self._drop_edge(e)
            node.params = new
            for was, e in moved:
                if (e.dst, e.dst_port) in self._inputs:
                    e = was  # the new port is taken: the wire stays where it was
                self._inputs[(e.dst, e.dst_port)] = e
                self._g.add_edge(e.src, e.dst, key=(e.src_port, e.dst_port), edge=e)
                self.structure_version += 1
                self.edge_added.emit(e)
        self._touch(node_id)
        self.node_changed.emit(node_id)
        self.changed.emit()

    def stale_ports(self, node_id: str) -> list[tuple[str, Edge]]:
        """Wires of ``node_id`` on ports it no longer has (a Block whose graph lost an
        Input or Output): ``("in" | "out", edge)`` each."""
        node = self.node(node_id)
        ins = {p.name for p in node.spec.input_ports(node.params)}
        outs = {p.name for p in node.spec.output_ports(node.params)}
        return ([("in", e) for e in self.in_edges(node_id) if e.dst_port not in ins]
                + [("out", e) for e in self.out_edges(node_id) if e.src_port not in outs])

    def _touch(self, node_id: str | None = None) -> None:
        self.version += 1
        if node_id is not None:
            self._edits.append((self.version, node_id))
            if len(self._edits) > _EDIT_LOG:
                drop = len(self._edits) // 2
                self._edits_floor = self._edits[drop - 1][0]
                del self._edits[:drop]

    def edited_since(self, version: int) -> set[str] | None:
        """Ids of the nodes whose parameters, name or flags changed after ``version``.

        None when that is no longer known (too many edits ago).  Wiring changes are not
        listed: :attr:`structure_version` says whether there were any.
        """
        if version < self._edits_floor:
            return None
        i = bisect.bisect_right(self._edits, (version, "\U0010ffff"))
        return {nid for _, nid in self._edits[i:]}

    # ------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict[str, Any]:
        nodes = []
        for n in self._nodes.values():
            spec = n.spec
            d: dict[str, Any] = {
                "id": n.id, "type": n.type, "name": n.name,
                "params": {p.name: p.to_json(n.params[p.name]) for p in spec.params},
                "pos": [round(n.pos[0], 2), round(n.pos[1], 2)],
            }
            if n.frozen:
                d["frozen"] = True
            if n.lr_mult != 1.0:
                d["lr_mult"] = n.lr_mult
            nodes.append(d)
        return {"name": self.name, "nodes": nodes, "edges": [e.to_dict() for e in self.edges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], registry: Registry = REGISTRY) -> Graph:
        """Build a graph from :meth:`to_dict` output (already schema-checked)."""
        g = cls(str(data.get("name", "Net")), registry)
        for nd in data.get("nodes", []):
            g.add_node(nd["type"], nd["name"], nd.get("params", {}), tuple(nd.get("pos", (0, 0))),
                       node_id=nd["id"], frozen=nd.get("frozen", False),
                       lr_mult=nd.get("lr_mult", 1.0))
        for ed in data.get("edges", []):
            g.connect(ed["src"], ed["src_port"], ed["dst"], ed["dst_port"])
        return g

    def add_subgraph(self, data: Mapping[str, Any], offset=(0.0, 0.0)) -> list[str]:
        """Paste nodes and edges from a :meth:`to_dict`-shaped dict; returns the new ids.

        Ids and names are made fresh; wires to nodes outside ``data`` are dropped.
        """
        remap: dict[str, str] = {}
        for nd in data.get("nodes", []):
            name = self.unique_name(str(nd.get("name") or self.registry.get(nd["type"]).hint))
            pos = nd.get("pos", (0, 0))
            node = self.add_node(nd["type"], name, nd.get("params", {}),
                                 (pos[0] + offset[0], pos[1] + offset[1]),
                                 frozen=nd.get("frozen", False), lr_mult=nd.get("lr_mult", 1.0))
            remap[nd["id"]] = node.id
        for ed in data.get("edges", []):
            if ed["src"] in remap and ed["dst"] in remap:
                self.connect(remap[ed["src"]], ed["src_port"], remap[ed["dst"]], ed["dst_port"])
        return list(remap.values())


# the project holds graphs: it lives in its own module and is re-exported here, where
# the rest of the program has always found it
from .project import Project
