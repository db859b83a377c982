"""The graphics item of one layer node.

A :class:`NodeItem` keeps only the id of its node.  Name, type, parameters and ports
are read from the document (through its :class:`~.scene.GraphScene`) when it paints;
shapes, parameter counts and errors come from the latest shape inference.  What it
caches — its geometry and a painted pixmap — is derived from those and rebuilt when the
document says the node changed.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from .geometry import (
    BADGE_R,
    HEADER,
    LOD_TEXT,
    LOD_TITLE,
    PORT_HIT,
    PORT_R,
    RADIUS,
    ROW,
    NodeGeom,
    PortGeom,
    node_geometry,
)

if TYPE_CHECKING:
    from .scene import GraphScene

NODE_Z = 10.0
MARGIN = PORT_HIT  # the item reaches beyond the node's rectangle to take port clicks


class NodeItem(QGraphicsRectItem):
    """A rectangle item so that Qt knows its bounds without calling into Python (it asks
    for them many times a frame); ``paint`` draws the node itself."""

    def __init__(self, doc: GraphScene, node_id: str):
        super().__init__()
        self.setPen(QPen(Qt.NoPen))
        self._doc = doc
        self.node_id = node_id
        self.serial = 0  # creation order, set by the scene
        # no ItemSendsGeometryChanges/itemChange: whoever moves the item tells the scene
        # (move_to), which keeps a drag cheap and avoids PySide's itemChange overhead
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(NODE_Z)
        self.badge = ErrorBadge(self)
        self.badge.setVisible(False)
        # transient highlight of ports while a wire is dragged: (side, port) -> colour
        self._marks: dict[tuple[str, str], QColor] = {}
        self._geom: NodeGeom | None = None
        self._header = QPainterPath()
        self._node_tip = ""
        self.refresh()

    # ------------------------------------------------------------ document
    def refresh(self) -> None:
        """Re-read the node's spec and parameters (after ``node_changed``)."""
        node = self._doc.graph.node(self.node_id)
        geom = node_geometry(node.spec, node.params)
        if self._geom is None or (geom.width, geom.height) != (self._geom.width,
                                                                 self._geom.height):
            # the item reaches beyond the node's rectangle to take clicks on its ports
            self.setRect(QRectF(-MARGIN, -2.0, geom.width + 2 * MARGIN, geom.height + 4.0))
            self._header = _header_path(geom.width)
            self.apply_cache(self._doc.cache_band)
        self._geom = geom
        self.badge.setPos(geom.width - 3.0, 3.0)
        doc = html.escape(node.spec.doc)
        self._node_tip = f"<b>{html.escape(node.type)}</b> · {html.escape(node.name)}<br>{doc}"
        self.setToolTip(self._node_tip)
        self.update()

    def sync_position(self) -> None:
        """Put the item where the document says the node is."""
        x, y = self._doc.graph.node(self.node_id).pos
        self.move_to(QPointF(x, y))

    def move_to(self, pos: QPointF) -> None:
        """Move the item (during a drag, or to follow the document); its wires follow."""
        if self.pos() != pos:
            self.setPos(pos)
            self._doc.node_item_moved(self)

    def apply_cache(self, band: float | None) -> None:
        """Cache the painted node at screen resolution (``band`` None: sharp, but redrawn
        at every zoom step) or at ``band`` times its size (reused while zooming)."""
        if band is None:
            self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        else:
            r = self.rect()
            self.setCacheMode(QGraphicsItem.ItemCoordinateCache,
                              QSize(math.ceil(r.width() * band), math.ceil(r.height() * band)))

    @property
    def geom(self) -> NodeGeom:
        return self._geom

    def node_rect(self) -> QRectF:
        """The node's rectangle in scene coordinates (without the port margin)."""
        return QRectF(self.x(), self.y(), self._geom.width, self._geom.height)

    # --------------------------------------------------------------- ports
    def port_pos(self, side: str, name: str) -> QPointF | None:
        """Scene position of a port's centre."""
        p = self._geom.port(side, name)
        if p is None:
            return None
        x = 0.0 if side == "in" else self._geom.width
        return QPointF(self.x() + x, self.y() + p.y)

    def port_at(self, local: QPointF, side: str | None = None) -> tuple[str, PortGeom] | None:
        """The port within grabbing distance of ``local`` (item coordinates)."""
        best, best_d = None, PORT_HIT * PORT_HIT
        for s, ports, x in (("in", self._geom.inputs, 0.0), ("out", self._geom.outputs,
                                                              self._geom.width)):
            if side is not None and s != side:
                continue
            for p in ports:
                d = (local.x() - x) ** 2 + (local.y() - p.y) ** 2
                if d <= best_d:
                    best, best_d = (s, p), d
        return best

    def nearest_port(self, local: QPointF, side: str) -> PortGeom | None:
        """The ``side`` port closest in height to ``local`` (dropping a wire on the body)."""
        ports = self._geom.inputs if side == "in" else self._geom.outputs
        if not ports:
            return None
        return min(ports, key=lambda p: abs(p.y - local.y()))

    def set_mark(self, side: str, name: str, color: QColor | None) -> None:
        key = (side, name)
        if color is None:
            if self._marks.pop(key, None) is not None:
                self.update()
        elif self._marks.get(key) != color:
            self._marks[key] = color
            self.update()

    def clear_marks(self) -> None:
        if self._marks:
            self._marks.clear()
            self.update()

    # ---------------------------------------------------------- QGraphicsItem
    def hoverMoveEvent(self, event):
        hit = self.port_at(event.pos())
        self.setToolTip(self._port_tip(*hit) if hit else self._node_tip)
        if hit:  # a wire can be pulled from here
            self.setCursor(Qt.CrossCursor)
        else:
            self.unsetCursor()
        super().hoverMoveEvent(event)

    def _port_tip(self, side: str, port: PortGeom) -> str:
        shape = self._doc.port_shape_text(self.node_id, side, port.name)
        what = "input" if side == "in" else "output"
        kind = {"float": "real values", "long": "integer ids", "any": "any tensor"}[port.dtype]
        tip = f"<b>{what} '{html.escape(port.name)}'</b> · {kind}"
        if shape:
            tip += f"<br>{html.escape(shape)}"
        if port.doc:
            tip += f"<br>{html.escape(port.doc)}"
        return tip

    def paint(self, p, option, widget=None):
        doc = self._doc
        st = doc.style
        if self.node_id not in doc.graph:  # being removed
            return
        node = doc.graph.node(self.node_id)
        g = self._geom
        w, h = g.width, g.height
        lod = option.levelOfDetailFromTransform(p.worldTransform())
        status = doc.status(self.node_id)
        rect = QRectF(0.0, 0.0, w, h)

        p.setPen(Qt.NoPen)
        p.setBrush(st.body)
        p.drawRoundedRect(rect, RADIUS, RADIUS)
        p.setBrush(st.category(node.spec.category))
        p.drawPath(self._header)
        if self.isSelected():
            pen = st.selected_pen
        elif status.errors:
            pen = st.error_pen
        else:
            pen = st.border_pen
        p.setPen(pen)
        p.setBrush(Qt.NoBrush)
        p.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)

        self._paint_ports(p, st)
        if lod < LOD_TITLE:
            return

        # header: type on the left, the node's name on the right
        p.setFont(st.title_font)
        p.setPen(st.header_text)
        type_w = st.title_metrics.horizontalAdvance(node.type)
        p.drawText(QRectF(10.0, 0.0, w - 20.0, HEADER), Qt.AlignLeft | Qt.AlignVCenter, node.type)
        name = ("❄ " if node.frozen else "") + node.name
        right = 22.0 if status.errors else 10.0  # keep clear of the error badge
        room = w - 10.0 - right - type_w - 8.0
        if room > 12.0:
            p.setFont(st.name_font)
            p.setPen(st.header_name)
            text = st.name_metrics.elidedText(name, Qt.ElideRight, room)
            p.drawText(QRectF(10.0, 0.0, w - 10.0 - right, HEADER),
                       Qt.AlignRight | Qt.AlignVCenter, text)
        if lod < LOD_TEXT:
            return

        if g.show_port_names:
            p.setFont(st.small_font)
            p.setPen(st.param_text)
            for port in g.inputs:
                p.drawText(QRectF(10.0, port.y - ROW / 2, w / 2 - 12.0, ROW),
                           Qt.AlignLeft | Qt.AlignVCenter, port.name)
            for port in g.outputs:
                p.drawText(QRectF(w / 2, port.y - ROW / 2, w / 2 - 10.0, ROW),
                           Qt.AlignRight | Qt.AlignVCenter, port.name)
        y = g.text_top
        if g.param_line:
            p.setFont(st.param_font)
            p.setPen(st.param_text)
            p.drawText(QRectF(12.0, y, w - 24.0, ROW), Qt.AlignLeft | Qt.AlignVCenter,
                       st.param_metrics.elidedText(g.param_line, Qt.ElideRight, w - 24.0))
            y += ROW
        p.setFont(st.small_font)
        count_w = 0.0
        if status.count_text:
            count_w = st.small_metrics.horizontalAdvance(status.count_text) + 8.0
            p.setPen(st.muted)
            p.drawText(QRectF(12.0, y, w - 24.0, ROW), Qt.AlignRight | Qt.AlignVCenter,
                       status.count_text)
        left = status.error_line or status.shape_text
        if left:
            p.setPen(st.error if status.error_line else st.text)
            p.drawText(QRectF(12.0, y, w - 24.0 - count_w, ROW), Qt.AlignLeft | Qt.AlignVCenter,
                       st.small_metrics.elidedText(left, Qt.ElideRight, w - 24.0 - count_w))

    def _paint_ports(self, p, st) -> None:
        g = self._geom
        doc = self._doc
        for side, ports, x in (("in", g.inputs, 0.0), ("out", g.outputs, g.width)):
            for port in ports:
                c = QPointF(x, port.y)
                color = st.port(port.dtype)
                mark = self._marks.get((side, port.name))
                if mark is not None:
                    p.setPen(QPen(mark, 2.0))
                    p.setBrush(Qt.NoBrush)
                    p.drawEllipse(c, PORT_R + 3.5, PORT_R + 3.5)
                if doc.port_connected(self.node_id, side, port.name):
                    p.setPen(QPen(st.node_body, 1.5))
                    p.setBrush(color)
                else:  # an open port is a ring: something can still be plugged in here
                    p.setPen(QPen(color, 2.0))
                    p.setBrush(st.body)
                p.drawEllipse(c, PORT_R, PORT_R)


def _header_path(width: float) -> QPainterPath:
    """The header: the top of the rounded node rectangle, square at the bottom."""
    path = QPainterPath()
    path.addRoundedRect(QRectF(0.0, 0.0, width, HEADER + RADIUS * 2), RADIUS, RADIUS)
    cut = QPainterPath()
    cut.addRect(QRectF(0.0, 0.0, width, HEADER))
    return path.intersected(cut)


class ErrorBadge(QGraphicsItem):
    """A red circle with '!' on the corner of a node whose shapes cannot be inferred; its
    tooltip is the inference error."""

    def __init__(self, parent: NodeItem):
        super().__init__(parent)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)

    def boundingRect(self) -> QRectF:
        r = BADGE_R + 1.0
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, p, option, widget=None):
        st = self.parentItem()._doc.style
        p.setPen(QPen(st.node_body, 1.5))
        p.setBrush(st.error)
        p.drawEllipse(QPointF(0.0, 0.0), BADGE_R, BADGE_R)
        p.setPen(QColor("#ffffff"))
        p.setFont(st.badge_font)
        p.drawText(QRectF(-BADGE_R, -BADGE_R, 2 * BADGE_R, 2 * BADGE_R), Qt.AlignCenter, "!")
