"""The scene: one graphics item per node and per wire of a graph, kept in step with the
document through its signals, and the background grid.

Items are created, removed and updated here only, and only in answer to the document's
signals (``node_added``, ``node_removed``, ``node_changed``, ``node_moved``,
``edge_added``, ``edge_removed``) or to a new shape inference.  Each signal touches the
items it names and the wires attached to them, never the whole graph.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsScene

from ...graph.document import Edge, Graph, Node
from ...graph.shape_inference import InferenceResult
from ...graph.shapes import fmt_shape
from ..theme import THEMES, theme
from .geometry import GRID, LOD_TEXT, MAJOR_EVERY, short_count
from .node_item import NodeItem
from .style import CanvasStyle
from .wire_item import HIT_WIDTH, WireItem, WireLabel


@dataclass(frozen=True)
class NodeStatus:
    """What shape inference says about one node, as the node shows it."""

    shape_text: str = ""
    count_text: str = ""
    errors: tuple[str, ...] = ()
    error_line: str = ""  # the first error without the node's own name, for the footer


_NO_STATUS = NodeStatus()


class GraphScene(QGraphicsScene):
    def __init__(self, graph: Graph, parent=None):
        super().__init__(parent)
        self.graph = graph
        self.style = CanvasStyle(theme())
        self.result = InferenceResult()
        self.detail = True  # zoomed in enough for small text (geometry.LOD_TEXT)
        self.thin_wires = False  # below 100 %: wires are one device pixel (fast path)
        self.cache_band: float | None = None  # see set_cache_band
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[Edge, WireItem] = {}
        self._wires_at: dict[str, set[WireItem]] = {}
        self._status: dict[str, NodeStatus] = {}
        self._serials = itertools.count()
        self._links = [
            (graph.node_added, self._on_node_added),
            (graph.node_removed, self._on_node_removed),
            (graph.node_changed, self._on_node_changed),
            (graph.node_moved, self._on_node_moved),
            (graph.edge_added, self._on_edge_added),
            (graph.edge_removed, self._on_edge_removed),
        ]
        for signal, slot in self._links:
            signal.connect(slot)
        THEMES.changed.connect(self._on_theme)
        self._attached = True
        for node in graph.nodes:
            self._on_node_added(node)
        for edge in graph.edges:
            self._on_edge_added(edge)

    def detach(self) -> None:
        """Stop following the document (the canvas is closing)."""
        if not self._attached:
            return
        self._attached = False
        for signal, slot in self._links:
            signal.disconnect(slot)
        self._links = []  # bound methods of this scene: a cycle left for the collector
        try:
            THEMES.changed.disconnect(self._on_theme)
        except (RuntimeError, TypeError):
            pass
        # let go of the items now, while the scene is whole: items and scene refer to
        # each other, and a cycle of Qt wrappers left for the collector to find later,
        # after Qt has deleted the scene, can bring the interpreter down
        self.clear()
        self.nodes.clear()
        self.wires.clear()
        self._wires_at.clear()
        self._status.clear()

    # ------------------------------------------------------------ queries
    def status(self, node_id: str) -> NodeStatus:
        return self._status.get(node_id, _NO_STATUS)

    def port_connected(self, node_id: str, side: str, port: str) -> bool:
        if side == "in":
            return self.graph.edge_into(node_id, port) is not None
        return any(w.edge.src == node_id and w.edge.src_port == port
                   for w in self._wires_at.get(node_id, ()))

    def port_shape_text(self, node_id: str, side: str, port: str) -> str:
        if side == "out":
            return fmt_shape(self.result.shapes.get((node_id, port))) \
                if (node_id, port) in self.result.shapes else ""
        e = self.graph.edge_into(node_id, port)
        if e is None or (e.src, e.src_port) not in self.result.shapes:
            return ""
        return fmt_shape(self.result.shapes[(e.src, e.src_port)])

    def wires_of(self, node_id: str) -> set[WireItem]:
        return self._wires_at.get(node_id, set())

    def node_item_at(self, scene_pos: QPointF) -> NodeItem | None:
        for it in self.items(scene_pos):
            if isinstance(it, NodeItem):
                return it
            if isinstance(it.parentItem(), NodeItem):
                return it.parentItem()
        return None

    def wire_at(self, scene_pos: QPointF) -> WireItem | None:
        """The wire within a few pixels of ``scene_pos`` (None if a node is on top)."""
        h = HIT_WIDTH / 2
        r = QRectF(scene_pos.x() - h, scene_pos.y() - h, 2 * h, 2 * h)
        for it in self.items(r, Qt.IntersectsItemBoundingRect, Qt.DescendingOrder):
            if isinstance(it, NodeItem) and it.node_rect().contains(scene_pos):
                return None  # a node covers the spot
            if isinstance(it, WireLabel):
                it = it.parentItem()
            if (isinstance(it, WireItem) and it.isVisible()
                    and it.hit_shape().contains(scene_pos)):
                return it
        return None

    def set_cache_band(self, band: float | None) -> None:
        """While zooming, nodes are cached at ``band`` times their size (a power of two
        at or above the zoom) and the cached pictures are scaled, so a zoom step redraws
        no node; at rest (None) they are cached at screen resolution, sharp.  O(nodes),
        and only when the band changes."""
        if band == self.cache_band:
            return
        self.cache_band = band
        for item in self.nodes.values():
            item.apply_cache(band)

    def set_detail(self, zoom: float) -> None:
        """Show or hide small text (wire labels) and thin the wires when zoomed out;
        costs O(wires) only when the zoom crosses a threshold.

        Below 100 % a 1.6-unit pen is about one device pixel anyway, and a one-pixel
        cosmetic pen is drawn by Qt's fast line stroker: several times cheaper."""
        detail, thin = zoom >= LOD_TEXT, zoom < 1.0
        if (detail, thin) != (self.detail, self.thin_wires):
            self.detail, self.thin_wires = detail, thin
            for wire in self.wires.values():
                wire.restyle()

    def selected_nodes(self) -> list[NodeItem]:
        """Selected node items in document order (O(selection), not O(graph))."""
        items = [it for it in self.selectedItems() if isinstance(it, NodeItem)]
        items.sort(key=lambda it: it.serial)
        return items

    def nodes_rect(self, ids=None) -> QRectF:
        """Bounding rectangle of the nodes ``ids`` (all nodes when None)."""
        items = self.nodes.values() if ids is None else [self.nodes[i] for i in ids
                                                         if i in self.nodes]
        rect = QRectF()
        for it in items:
            rect = rect.united(it.node_rect())
        return rect

    # ------------------------------------------------------------ inference
    def set_result(self, result: InferenceResult) -> None:
        """Show a new inference: repaint only the nodes and wires whose text changed."""
        self.result = result
        for nid, item in self.nodes.items():
            st = self._make_status(nid, result)
            if st != self._status.get(nid, _NO_STATUS):
                self._status[nid] = st
                item.update()
                badge = item.badge
                badge.setVisible(bool(st.errors))
                badge.setToolTip("\n".join(st.errors))
        for edge, wire in self.wires.items():
            shape = result.shapes.get((edge.src, edge.src_port))
            wire.set_label(fmt_shape(shape) if shape is not None else "")

    def _make_status(self, nid: str, result: InferenceResult) -> NodeStatus:
        errs = result.errors.get(nid)
        if errs:
            node = self.graph.node(nid)
            prefix = f"{node.type} '{node.name}' "
            first = errs[0].message
            line = first.removeprefix(prefix)
            return NodeStatus("", "", tuple(e.message for e in errs), line)
        item = self.nodes[nid]
        outs = item.geom.outputs
        if outs:
            shape = result.shapes.get((nid, outs[0].name))
        else:  # an Output node shows what it returns
            ins = item.geom.inputs
            shape = None
            if ins:
                e = self.graph.edge_into(nid, ins[0].name)
                shape = result.shapes.get((e.src, e.src_port)) if e else None
        count = result.param_counts.get(nid, 0)
        return NodeStatus(fmt_shape(shape) if shape is not None else "",
                          f"{short_count(count)} params" if count else "")

    # ------------------------------------------------------------ document
    def _on_node_added(self, node: Node) -> None:
        item = NodeItem(self, node.id)
        item.serial = next(self._serials)  # document order: nodes are only ever appended
        self.nodes[node.id] = item
        item.setPos(*node.pos)
        self.addItem(item)

    def _on_node_removed(self, node: Node) -> None:
        item = self.nodes.pop(node.id, None)
        self._status.pop(node.id, None)
        self._wires_at.pop(node.id, None)
        if item is not None:
            self.removeItem(item)

    def _on_node_changed(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.refresh()
            for w in self._wires_at.get(node_id, ()):
                w.refresh_path()

    def _on_node_moved(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.sync_position()

    def node_item_moved(self, item: NodeItem) -> None:
        """A node item moved (a drag, or following the document): its wires follow."""
        for w in self._wires_at.get(item.node_id, ()):
            w.refresh_path()

    def _on_edge_added(self, edge: Edge) -> None:
        wire = WireItem(self, edge)
        wire.restyle()
        self.wires[edge] = wire
        self._wires_at.setdefault(edge.src, set()).add(wire)
        self._wires_at.setdefault(edge.dst, set()).add(wire)
        shape = self.result.shapes.get((edge.src, edge.src_port))
        if shape is not None:
            wire.set_label(fmt_shape(shape))
        self.addItem(wire)
        self._ports_changed(edge)

    def _on_edge_removed(self, edge: Edge) -> None:
        wire = self.wires.pop(edge, None)
        if wire is None:
            return
        for nid in (edge.src, edge.dst):
            s = self._wires_at.get(nid)
            if s is not None:
                s.discard(wire)
        self.removeItem(wire)
        self._ports_changed(edge)

    def _ports_changed(self, edge: Edge) -> None:
        for nid in (edge.src, edge.dst):
            item = self.nodes.get(nid)
            if item is not None:
                item.update()  # open ports are drawn as rings

    def _on_theme(self, _theme=None) -> None:
        self.style = CanvasStyle(theme())
        for item in self.nodes.values():
            item.update()
            item.badge.update()
        for wire in self.wires.values():
            wire.restyle()
        self.update()
        for view in self.views():
            view.resetCachedContent()
            view.viewport().update()

    # ------------------------------------------------------------ background
    def drawBackground(self, p, rect: QRectF) -> None:
        st = self.style
        p.fillRect(rect, st.canvas)
        scale = p.worldTransform().m11() or 1.0
        major = GRID * MAJOR_EVERY
        for step, color in ((GRID, st.grid_minor), (major, st.grid_major)):
            if step * scale < 7.0:  # lines closer than 7 px are noise
                continue
            pen = QPen(color, 0)  # cosmetic: one device pixel at every zoom
            p.setPen(pen)
            left = math.floor(rect.left() / step) * step
            top = math.floor(rect.top() / step) * step
            lines = []
            x = left
            while x <= rect.right():
                if step == major or round(x / GRID) % MAJOR_EVERY:
                    lines.append(QLineF(x, rect.top(), x, rect.bottom()))
                x += step
            y = top
            while y <= rect.bottom():
                if step == major or round(y / GRID) % MAJOR_EVERY:
                    lines.append(QLineF(rect.left(), y, rect.right(), y))
                y += step
            p.drawLines(lines)
