"""Wires: a cubic Bézier from an output port to an input port, with the inferred shape of
the tensor it carries written on a small pill near its middle.

A :class:`WireItem` is named by its :class:`~nnstudio.graph.document.Edge` (the edge's
identity, as a node item is named by its id) and reads its end points from the node
items, so it follows a node while that node is being dragged.

For speed with thousands of wires the curve is a plain ``QGraphicsPathItem`` — drawn by
Qt without calling back into Python — and only the label (a small, cached child item)
paints in Python.  Hit-testing a wire is done by the scene (``GraphScene.wire_at``)
against a wide stroke of the curve, so wires are not Qt-selectable items; the canvas
keeps which wires are selected and tells them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem

from ...graph.document import Edge
from .geometry import cubic_controls

if TYPE_CHECKING:
    from .scene import GraphScene

WIRE_Z = 0.0
WIRE_SELECTED_Z = 1.0
RUBBER_Z = 30.0
LABEL_PAD_X = 6.0
LABEL_H = 16.0
HIT_WIDTH = 10.0


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """The curve of a wire from output point ``a`` to input point ``b``."""
    c1x, c1y, c2x, c2y = cubic_controls(a.x(), a.y(), b.x(), b.y())
    path = QPainterPath(a)
    path.cubicTo(QPointF(c1x, c1y), QPointF(c2x, c2y), b)
    return path


class WireItem(QGraphicsPathItem):
    def __init__(self, doc: GraphScene, edge: Edge):
        super().__init__()
        self._doc = doc
        self.edge = edge
        self.setZValue(WIRE_Z)
        self.label_item = WireLabel(self)
        self._hit: QPainterPath | None = None
        self._label = ""  # derived from the latest inference
        self._dtype = "float"
        self.selected = False
        self.insert_target = False  # a dragged layer hovers here (drop inserts it)
        self.refresh_path()

    # ------------------------------------------------------------ document
    def refresh_path(self) -> None:
        """Recompute the curve from the current positions of the two node items."""
        doc = self._doc
        e = self.edge
        src, dst = doc.nodes.get(e.src), doc.nodes.get(e.dst)
        if src is None or dst is None:
            return
        a = src.port_pos("out", e.src_port)
        b = dst.port_pos("in", e.dst_port)
        if a is None or b is None:
            return
        port = src.geom.port("out", e.src_port)
        dtype = port.dtype if port else "float"
        if dtype != self._dtype:
            self._dtype = dtype
            self.restyle()
        self.setPath(wire_path(a, b))
        self._hit = None
        self._place_label(src.node_rect(), dst.node_rect())

    def set_label(self, text: str) -> None:
        """Show ``text`` (a shape such as ``[B, 6, 28, 28]``) on the wire."""
        if text != self._label:
            self._label = text
            src, dst = self._doc.nodes.get(self.edge.src), self._doc.nodes.get(self.edge.dst)
            if src is not None and dst is not None:
                self._place_label(src.node_rect(), dst.node_rect())
            self.label_item.update()

    @property
    def label(self) -> str:
        """The inferred shape carried by the wire, shown or not."""
        return self._label

    def label_text(self) -> str:
        """The shape written on the wire ('' when there is no room to show it)."""
        return self._label if self.label_item.fits else ""

    def _place_label(self, src_rect: QRectF, dst_rect: QRectF) -> None:
        lab = self.label_item
        lab.fits = False
        if self._label:
            mid = self.path().pointAtPercent(0.5)
            w = self._doc.style.label_metrics.horizontalAdvance(self._label) + 2 * LABEL_PAD_X
            r = QRectF(mid.x() - w / 2, mid.y() - LABEL_H / 2, w, LABEL_H)
            # never cover a node: a wire too short for its label shows it as a tooltip
            lab.fits = not (r.intersects(src_rect.adjusted(-4, -4, 4, 4))
                            or r.intersects(dst_rect.adjusted(-4, -4, 4, 4)))
            if lab.fits and lab.rect() != r:
                lab.setRect(r)
        lab.setVisible(lab.fits and self._doc.detail)

    # ------------------------------------------------------------ looks
    def restyle(self) -> None:
        """Set the pen for the wire's state, the theme and the level of detail."""
        st = self._doc.style
        if self.selected:
            pen = QPen(st.wire_selected, 2.6)
        elif self.insert_target:
            pen = QPen(st.accent, 3.0)
        else:
            pen = QPen(st.ports["long"] if self._dtype == "long" else st.wire, 1.6)
        if self._doc.thin_wires:  # zoomed out: one crisp device pixel, drawn fast
            pen.setWidthF(2.0 if (self.selected or self.insert_target) else 1.0)
            pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(WIRE_SELECTED_Z if self.selected else WIRE_Z)
        self.label_item.setVisible(self.label_item.fits and self._doc.detail)
        self.label_item.update()

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self.restyle()

    def set_insert_target(self, on: bool) -> None:
        if on != self.insert_target:
            self.insert_target = on
            self.restyle()

    def hit_shape(self) -> QPainterPath:
        """A wide band around the curve (and the label): where a click takes the wire."""
        if self._hit is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(HIT_WIDTH)
            self._hit = stroker.createStroke(self.path())
            if self.label_item.fits:
                self._hit.addRect(self.label_item.rect())
        return self._hit

    def tooltip(self) -> str:
        return self._label


class WireLabel(QGraphicsRectItem):
    """The pill with the shape text, a child of its wire (drawn above it, below nodes)."""

    def __init__(self, wire: WireItem):
        super().__init__(wire)
        self.fits = False
        self.setPen(QPen(Qt.NoPen))
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setVisible(False)

    def paint(self, p, option, widget=None):
        wire = self.parentItem()
        st = wire._doc.style
        r = self.rect()
        p.setPen(QPen(st.wire_selected, 1.0) if wire.selected else st.wire_label_border)
        p.setBrush(st.wire_label_bg)
        p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), LABEL_H / 2, LABEL_H / 2)
        p.setPen(st.wire_label)
        p.setFont(st.label_font)
        p.drawText(r, Qt.AlignCenter, wire.label)


class RubberWire(QGraphicsPathItem):
    """The wire that follows the pointer while a connection is being dragged."""

    def __init__(self, color: QColor):
        super().__init__()
        self.setZValue(RUBBER_Z)
        self.set_color(color)

    def set_color(self, color: QColor) -> None:
        pen = QPen(color, 2.0, Qt.DashLine)
        pen.setCapStyle(Qt.RoundCap)
        self.setPen(pen)

    def set_ends(self, out_point: QPointF, in_point: QPointF) -> None:
        self.setPath(wire_path(out_point, in_point))
