"""A small picture of a graph (its nodes as category-coloured blocks, its wires as lines),
drawn from the document's node positions; the start page shows one per example."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPixmap

from ..graph.document import Graph
from .theme import theme


def graph_preview(graph: Graph, width: int, height: int, dpr: float = 2.0,
                  background: QColor | None = None) -> QPixmap:
    t = theme()
    pm = QPixmap(int(width * dpr), int(height * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(background or t.color("canvas"))
    nodes = graph.nodes
    if not nodes:
        return pm
    xs = [n.pos[0] for n in nodes]
    ys = [n.pos[1] for n in nodes]
    # a node is ~160 x 60 scene units on the canvas; keep that proportion in the thumbnail
    span_x = max(xs) - min(xs) + 160.0
    span_y = max(ys) - min(ys) + 60.0
    margin = 10.0
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    node_w, node_h = max(160.0 * scale, 4.0), max(60.0 * scale, 3.0)
    ox = (width - span_x * scale) / 2 - min(xs) * scale
    oy = (height - span_y * scale) / 2 - min(ys) * scale

    def rect(nid: str) -> QRectF:
        n = graph.node(nid)
        return QRectF(ox + n.pos[0] * scale, oy + n.pos[1] * scale, node_w, node_h)

    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    wire = t.color("wire")
    wire.setAlpha(170)
    p.setPen(QPen(wire, max(1.0, scale * 3)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    for e in graph.edges:
        a, b = rect(e.src), rect(e.dst)
        start = QPointF(a.right(), a.center().y())
        end = QPointF(b.left(), b.center().y())
        dx = max(abs(end.x() - start.x()) * 0.5, 6.0)
        path = QPainterPath(start)
        path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
        p.drawPath(path)
    radius = min(node_h * 0.3, 4.0)
    labelled = node_w >= 56  # big enough to name each block by its layer type
    font = QFont(p.font())
    font.setPixelSize(max(9, min(13, int(node_h * 0.3))))
    p.setFont(font)
    for n in nodes:
        r = rect(n.id)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(t.category(n.spec.category))
        p.drawRoundedRect(r, radius, radius)
        if labelled:
            p.setPen(QColor("#ffffff"))
            p.drawText(r.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignCenter, n.type)
    p.end()
    return pm
