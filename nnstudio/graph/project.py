"""A project: one or more named graphs (a network and the blocks it uses, or the
networks of a GAN), its title and description, what it trains on and with
(``training``) and free facts about it (``meta``).  Signals as in :mod:`.document`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from psygnal import Signal

from .document import Graph
from .document_rules import GraphError, _check_name, _port_nodes
from .elements import Node


class Project:
    """One or more named graphs plus what it takes to train them.

    ``training`` and ``meta`` are plain JSON-able dicts owned by the engine and the
    roadmap (dataset, recipe, hyperparameters, challenge); the document stores them
    and reports their change.
    """

    graph_added = Signal(object)
    graph_removed = Signal(object)
    changed = Signal()

    def __init__(self, title: str = "Untitled", description: str = ""):
        self.title = title
        self.description = description
        self.graphs: list[Graph] = []
        self.training: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        # the folder of the file this project was read from or saved to: a Block's
        # ``source`` path is relative to it (None until the project has a file)
        self.folder: Path | None = None
        self._followers: dict[int, Any] = {}  # id(graph) -> its changed-slot
        # graph name -> (io_version, ((Input ids, names), (Output ids, names))): how each
        # graph's ports looked, so that a renamed Input or Output moves the wires on the
        # port of a block that runs it
        self._ports: dict[str, tuple] = {}
        self._cascading: set[str] = set()

    def graph(self, name: str | None = None) -> Graph:
        """The graph called ``name``; with no name, the first one."""
        if name is None:
            if not self.graphs:
                raise GraphError("the project has no graph")
            return self.graphs[0]
        for g in self.graphs:
            if g.name == name:
                return g
        raise GraphError(f"the project has no graph named {name!r}")

    def add_graph(self, graph: Graph | None = None, name: str = "Net", index: int | None = None
                  ) -> Graph:
        if graph is None:  # not `graph or ...`: an empty Graph is falsy (len 0)
            graph = Graph(name)
        _check_name(graph.name, "a graph's name")
        if any(g.name == graph.name for g in self.graphs):
            raise GraphError(f"a graph named {graph.name!r} already exists")
        if graph._project is not None and graph._project is not self:
            raise GraphError(f"graph {graph.name!r} already belongs to another project")
        self.graphs.insert(len(self.graphs) if index is None else index, graph)
        graph._project = self
        graph.changed.connect(self.changed.emit)

        def follow(graph=graph):
            self._graph_changed(graph)

        self._followers[id(graph)] = follow
        graph.changed.connect(follow)
        self._ports[graph.name] = (graph.io_version, _port_nodes(graph))
        self.graph_added.emit(graph)
        self.changed.emit()
        # blocks that name it (a graph put back by undo) find it again
        self._refresh_uses(graph.name)
        return graph

    def remove_graph(self, name: str) -> int:
        """Remove graph ``name``; refused while a block runs it."""
        g = self.graph(name)
        users = self.block_uses(name)
        if users:
            where = ", ".join(f"'{n.name}' in '{h.name}'" for h, n in users[:3])
            more = f" and {len(users) - 3} more" if len(users) > 3 else ""
            raise GraphError(f"graph '{name}' is used by block {where}{more}; delete those "
                             "blocks or point them at another graph first")
        idx = self.graphs.index(g)
        self.graphs.remove(g)
        g._project = None
        g.changed.disconnect(self.changed.emit)
        g.changed.disconnect(self._followers.pop(id(g)))
        self._ports.pop(name, None)
        self.graph_removed.emit(g)
        self.changed.emit()
        return idx

    # ----------------------------------------------------------------- blocks
    def block_uses(self, name: str) -> list[tuple[Graph, Node]]:
        """(graph, Block node) for every block of this project that runs graph ``name``."""
        return [(g, n) for g in self.graphs for n in g.block_nodes()
                if n.params.get("graph") == name and not n.params.get("source")]

    def block_path(self, start: str, goal: str) -> list[str] | None:
        """Graph names from ``start`` to ``goal`` following blocks (``start`` runs a block
        of the next, …), or None when ``goal`` cannot be reached that way."""
        by_name = {g.name: g for g in self.graphs}
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            name, path = stack.pop()
            if name == goal:
                return path
            if name in seen or name not in by_name:
                continue
            seen.add(name)
            for n in by_name[name].block_nodes():
                if not n.params.get("source") and n.params.get("graph"):
                    stack.append((n.params["graph"], [*path, n.params["graph"]]))
        return None

    def sync_blocks(self) -> None:
        """Derive every block's ports again from the graph it runs (after loading a file
        that was edited by hand, say)."""
        for g in self.graphs:
            for n in g.block_nodes():
                g._refresh_block(n.id)

    def _graph_changed(self, graph: Graph) -> None:
        # a graph changed: the blocks that run it change with it (their ports, shapes,
        # parameter counts and code), and so on up through blocks of blocks
        name = graph.name
        if name in self._cascading:
            return
        cached = self._ports.get(name)
        rename: dict[str, dict[str, str]] = {}
        if cached is None or cached[0] != graph.io_version:  # O(graph) only then
            old = cached[1] if cached is not None else None
            new = _port_nodes(graph)
            self._ports[name] = (graph.io_version, new)
        else:
            old = new = cached[1]
        if old is not None and old != new:
            for side, (old_ids, old_names), (new_ids, new_names) in (
                    ("in", old[0], new[0]), ("out", old[1], new[1])):
                now = dict(zip(new_ids, new_names))
                moved = {o: now[i] for i, o in zip(old_ids, old_names)
                         if i in now and now[i] != o}
                if moved:
                    rename[side] = moved
        self._refresh_uses(name, rename)

    def _refresh_uses(self, name: str, rename=None) -> None:
        self._cascading.add(name)
        try:
            for holder, node in self.block_uses(name):
                holder._refresh_block(node.id, rename)
        finally:
            self._cascading.discard(name)

    def _graph_renamed(self, graph: Graph, old: str) -> None:
        """Blocks follow a renamed graph (so rename, and its undo, keep them working)."""
        self._ports[graph.name] = self._ports.pop(old, None) or (graph.io_version,
                                                                 _port_nodes(graph))
        followers = self.block_uses(old)
        waiting = self.block_uses(graph.name)  # blocks that named a graph it now is
        for holder, node in followers:
            node.params = {**node.params, "graph": graph.name}
            holder._touch(node.id)
            holder.node_changed.emit(node.id)
            holder.changed.emit()
        for holder, node in waiting:
            holder._refresh_block(node.id)

    def set_training(self, training: Mapping[str, Any]) -> dict[str, Any]:
        old, self.training = self.training, dict(training)
        self.changed.emit()
        return old
