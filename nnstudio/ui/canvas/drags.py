"""What a left-button drag on the canvas does: pull a wire, or move nodes.

Each drag changes nothing in the document until the button is released; then it pushes
exactly one command (or none).  While it lasts it only moves items and draws feedback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QToolTip

from ...graph.document import Edge
from ..commands import ConnectCommand, DisconnectCommand, Macro, MoveNodesCommand
from .geometry import snap
from .node_item import NodeItem
from .wire_item import RubberWire

if TYPE_CHECKING:
    from .view import GraphCanvas


class WireDrag:
    """A wire pulled from a port.

    From an output port the loose end looks for an input; from a free input it looks
    backwards for an output.  From an occupied input the existing wire is lifted off
    (hidden, not yet removed): dropping it on another input re-plugs it, on nothing
    removes it — one undo step either way.
    """

    def __init__(self, canvas: GraphCanvas, node_id: str, side: str, port: str):
        self.canvas = canvas
        scene = canvas.scene_model
        self.detached: Edge | None = None
        if side == "in":
            edge = canvas.graph.edge_into(node_id, port)
            if edge is not None:
                self.detached = edge
                node_id, side, port = edge.src, "out", edge.src_port
                wire = scene.wires.get(edge)
                if wire is not None:
                    wire.setVisible(False)
        self.fixed = (node_id, side, port)  # the end that stays on its port
        self.want = "in" if side == "out" else "out"
        self.target: tuple[str, str] | None = None  # (node id, port) under the pointer
        self.problem: str | None = None
        self._marked: NodeItem | None = None
        self.rubber = RubberWire(scene.style.accent)
        scene.addItem(self.rubber)

    def _fixed_point(self) -> QPointF:
        nid, side, port = self.fixed
        return self.canvas.scene_model.nodes[nid].port_pos(side, port)

    def move(self, scene_pos: QPointF) -> None:
        scene = self.canvas.scene_model
        st = scene.style
        target, end = self._find_target(scene_pos)
        if target != self.target:
            self._unmark()
            self.target = target
            self.problem = self._problem(target) if target else None
            if target is not None:
                item = scene.nodes[target[0]]
                item.set_mark(self.want, target[1], st.refused if self.problem else st.ok)
                self._marked = item
                if self.problem:
                    self.canvas.session.message.emit(self.problem)
                    view_pos = self.canvas.mapFromScene(scene_pos)
                    QToolTip.showText(self.canvas.viewport().mapToGlobal(view_pos),
                                      self.problem, self.canvas.viewport())
                else:
                    QToolTip.hideText()
        loose = end if end is not None else scene_pos
        fixed = self._fixed_point()
        if self.want == "in":
            self.rubber.set_ends(fixed, loose)
        else:
            self.rubber.set_ends(loose, fixed)
        color = st.accent if target is None else (st.refused if self.problem else st.ok)
        self.rubber.set_color(color)

    def _find_target(self, scene_pos: QPointF):
        item = self.canvas.scene_model.node_item_at(scene_pos)
        if item is None:
            return None, None
        local = item.mapFromScene(scene_pos)
        hit = item.port_at(local, self.want)
        port = hit[1] if hit else None
        if (port is None and item.node_id != self.fixed[0]
                and item.geom.width >= local.x() >= 0):
            port = item.nearest_port(local, self.want)  # anywhere on the node will do
        if port is None:
            return None, None
        return (item.node_id, port.name), item.port_pos(self.want, port.name)

    def _ends(self, target) -> tuple[str, str, str, str]:
        nid, _, port = self.fixed
        if self.want == "in":
            return nid, port, target[0], target[1]
        return target[0], target[1], nid, port

    def _problem(self, target) -> str | None:
        ends = self._ends(target)
        if self.detached is not None and (ends[2], ends[3]) == (self.detached.dst,
                                                                self.detached.dst_port):
            return None  # back where it was
        return self.canvas.graph.connection_problem(*ends)

    def finish(self) -> None:
        """The button was released: connect, re-plug, unplug, or leave things be."""
        canvas = self.canvas
        graph = canvas.graph
        command = None
        if self.target is not None:
            if not self.problem:
                ends = self._ends(self.target)
                if self.detached is None:
                    command = ConnectCommand(graph, *ends)
                elif (ends[2], ends[3]) != (self.detached.dst, self.detached.dst_port):
                    command = Macro("Reconnect", [DisconnectCommand(graph, self.detached),
                                                  ConnectCommand(graph, *ends)])
        elif self.detached is not None:
            command = DisconnectCommand(graph, self.detached)
        self.cancel()
        if command is not None:
            canvas.session.push(command)

    def cancel(self) -> None:
        self._unmark()
        QToolTip.hideText()
        scene = self.canvas.scene_model
        scene.removeItem(self.rubber)
        if self.detached is not None:
            wire = scene.wires.get(self.detached)
            if wire is not None:
                wire.setVisible(True)

    def _unmark(self) -> None:
        if self._marked is not None:
            self._marked.clear_marks()
            self._marked = None


class MoveDrag:
    """Selected nodes follow the pointer; on release one MoveNodesCommand records where
    they went.  The node under the pointer snaps to the grid; the others keep their
    offsets to it."""

    def __init__(self, canvas: GraphCanvas, anchor: NodeItem, press_scene: QPointF):
        self.canvas = canvas
        self.anchor = anchor
        self.press = press_scene
        items = canvas.scene_model.selected_nodes()
        if anchor not in items:
            items.append(anchor)
        self.items = items
        self.starts = {it.node_id: it.pos() for it in items}
        self.moved = False

    def move(self, scene_pos: QPointF) -> None:
        delta = scene_pos - self.press
        start = self.starts[self.anchor.node_id]
        target = start + delta
        if self.canvas.snap_to_grid:
            target = QPointF(snap(target.x()), snap(target.y()))
        d = target - start
        if not self.moved and d.isNull():
            return
        self.moved = True
        for it in self.items:
            it.move_to(self.starts[it.node_id] + d)

    def finish(self) -> None:
        if not self.moved:
            return
        graph = self.canvas.graph
        moves = {}
        for it in self.items:
            if it.node_id not in graph:
                continue
            old = graph.node(it.node_id).pos
            new = (it.x(), it.y())
            if new != old:
                moves[it.node_id] = (old, new)
        if moves and not self.canvas.session.push(MoveNodesCommand(graph, moves)):
            self.cancel()

    def cancel(self) -> None:
        for it in self.items:
            if it.node_id in self.canvas.graph:
                it.sync_position()
