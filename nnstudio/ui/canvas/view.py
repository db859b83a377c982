"""The graph canvas: a view of one graph that turns mouse and keyboard gestures into
undoable commands.

It never edits the document directly.  Every gesture ends in one command pushed on the
session's undo stack; the scene then follows the document's signals.  Zoom, pan,
selection and the wire or node being dragged are the only state kept here.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPixmapCache, QTransform
from PySide6.QtWidgets import QGraphicsView, QToolTip

from ...graph.document import Edge, Graph
from ..session import ProjectSession
from .clipboard import LAYER_MIME
from .drags import MoveDrag, WireDrag
from .edits import CanvasEdits
from .quick_add import QuickAddPopup
from .scene import GraphScene
from .wire_item import WireItem

MIN_ZOOM, MAX_ZOOM = 0.1, 4.0
WHEEL_BASE = 1.0015  # zoom factor per eighth of a degree of wheel: 1.2 per notch
ROOM = 20_000.0  # how far beyond the nodes the canvas can be panned
ZOOM_SETTLE_MS = 250
PIXMAP_CACHE_KB = 64 * 1024


def _zoom_band(scale: float) -> float:
    """The power of two at or above ``scale`` (device pixels per scene unit), 1/8 to 4."""
    band = 0.125
    while band < scale and band < 4.0:
        band *= 2.0
    return band


class _Pan:
    def __init__(self, pos: QPoint):
        self.last = pos


class GraphCanvas(CanvasEdits, QGraphicsView):
    """Signals: ``selection_changed(list[str])`` — ids of the selected nodes;
    ``zoom_changed(float)`` — 1.0 is 100 %; ``node_activated(str)`` — a node was
    double-clicked."""

    selection_changed = Signal(list)
    zoom_changed = Signal(float)
    node_activated = Signal(str)  # a node was double-clicked (e.g. focus the inspector)

    def __init__(self, session: ProjectSession, graph: Graph, parent=None):
        super().__init__(parent)
        self.session = session
        self.graph = graph
        self.snap_to_grid = True
        self.scene_model = GraphScene(graph, self)
        self.setScene(self.scene_model)
        self._zoom = 1.0
        self._drag: WireDrag | MoveDrag | _Pan | None = None
        self._space = False
        self._bulk_selection = False
        self._last_selection: list[str] = []
        self._insert_wire: WireItem | None = None
        self._wire_selection: set[WireItem] = set()
        self._quick_pos = QPointF()
        self._closed = False
        # zooming caches nodes at a coarse resolution; once it stops, sharp again
        self._zoom_settle = QTimer(self)
        self._zoom_settle.setSingleShot(True)
        self._zoom_settle.setInterval(ZOOM_SETTLE_MS)
        self._zoom_settle.timeout.connect(self._zoom_settled)

        # node pictures are cached; a thousand of them at 100 % outgrow Qt's default 10 MB
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing
                            | QPainter.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.DontSavePainterState)
        self.setCacheMode(QGraphicsView.CacheBackground)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self._on_scene_rect(self.scene_model.sceneRect())

        self.quick_add = QuickAddPopup(graph.registry, self, self._block_choices)
        self.quick_add.chosen.connect(self._quick_add_chosen)
        self.scene_model.selectionChanged.connect(self._on_selection)
        self.scene_model.sceneRectChanged.connect(self._on_scene_rect)
        session.inferred.connect(self._on_inferred)
        # if the widget is deleted without close(), still stop following the graph
        self.destroyed.connect(partial(GraphScene.detach, self.scene_model))
        self.scene_model.set_result(session.inference(graph))

    def _block_choices(self) -> list[str]:
        """Graphs of the project a block here may run (all but this one)."""
        project = self.graph.project
        if project is None:
            return []
        return [g.name for g in project.graphs if g is not self.graph]

    # ------------------------------------------------------------ lifetime
    def cleanup(self) -> None:
        """Disconnect from the document, the session and the theme (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._zoom_settle.stop()
        self._cancel_drag()
        self.quick_add.hide()
        # the popup calls back into this canvas: a reference cycle of Qt wrappers that
        # would otherwise wait for the collector, past the moment Qt deletes them
        self.quick_add.block_graphs = list
        self.scene_model.detach()
        for signal, slot in ((self.session.inferred, self._on_inferred),
                             (self.scene_model.selectionChanged, self._on_selection),
                             (self.scene_model.sceneRectChanged, self._on_scene_rect)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass

    def close(self) -> bool:
        self.cleanup()
        return super().close()

    def closeEvent(self, event):
        self.cleanup()
        super().closeEvent(event)

    def _on_inferred(self, graph, result) -> None:
        if graph is self.graph and not self._closed:
            self.scene_model.set_result(result)

    def _on_scene_rect(self, rect: QRectF) -> None:
        if rect.isNull():
            rect = QRectF(0, 0, 1, 1)
        self.setSceneRect(rect.adjusted(-ROOM, -ROOM, ROOM, ROOM))

    # ------------------------------------------------------------ selection
    def selected_ids(self) -> list[str]:
        """Ids of the selected nodes, in document order."""
        return [it.node_id for it in self.scene_model.selected_nodes()]

    def select_ids(self, ids) -> None:
        """Select exactly the nodes ``ids`` (and no wires)."""
        wanted = set(ids)
        self._clear_wire_selection()
        self._bulk_selection = True
        try:
            self.scene_model.clearSelection()
            for nid in wanted:
                item = self.scene_model.nodes.get(nid)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._bulk_selection = False
        self._on_selection()

    def select_all(self) -> None:
        self.select_ids(list(self.scene_model.nodes))

    def _on_selection(self) -> None:
        if self._bulk_selection or self._closed:
            return
        ids = self.selected_ids()
        if ids != self._last_selection:
            self._last_selection = ids
            self.selection_changed.emit(ids)

    def selected_edges(self) -> list[Edge]:
        """The selected wires' edges."""
        return [w.edge for w in self._selected_wires()]

    def select_edges(self, edges, add: bool = False) -> None:
        """Select the wires of ``edges`` (alone, unless ``add``)."""
        if not add:
            self.scene_model.clearSelection()
            self._clear_wire_selection()
        for e in edges:
            wire = self.scene_model.wires.get(e)
            if wire is not None:
                wire.set_selected(True)
                self._wire_selection.add(wire)

    def _selected_wires(self) -> list[WireItem]:
        wires = self.scene_model.wires
        return [w for w in self._wire_selection if wires.get(w.edge) is w]

    def _clear_wire_selection(self) -> None:
        for w in self._wire_selection:
            w.set_selected(False)
        self._wire_selection.clear()

    def _click_wire(self, wire: WireItem, toggle: bool) -> None:
        if toggle:
            if wire in self._wire_selection:
                wire.set_selected(False)
                self._wire_selection.discard(wire)
            else:
                self.select_edges([wire.edge], add=True)
        else:
            self.select_edges([wire.edge])

    # ------------------------------------------------------------ zoom and framing
    def zoom(self) -> float:
        return self._zoom

    def set_zoom(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom to ``factor`` (clamped to 10 %–400 %), keeping the scene point under
        ``anchor`` (viewport pixels; default: the centre) where it is."""
        z = min(MAX_ZOOM, max(MIN_ZOOM, float(factor)))
        if anchor is None:
            anchor = self.viewport().rect().center()
        fixed = self.mapToScene(anchor)
        self.setTransform(QTransform.fromScale(z, z))
        drift = self.mapFromScene(fixed) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        self.scene_model.set_detail(z)
        if z != self._zoom:
            self._zoom = z
            self.scene_model.set_cache_band(_zoom_band(z * self.devicePixelRatioF()))
            self._zoom_settle.start()
            self.zoom_changed.emit(z)

    def _zoom_settled(self) -> None:
        if not self._closed:
            self.scene_model.set_cache_band(None)

    def frame_all(self) -> None:
        self._frame(self.scene_model.nodes_rect())

    def frame_selection(self) -> None:
        ids = self.selected_ids()
        self._frame(self.scene_model.nodes_rect(ids) if ids else self.scene_model.nodes_rect())

    def _frame(self, rect: QRectF) -> None:
        if rect.isNull():
            self.set_zoom(1.0)
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-60, -60, 60, 60)
        vp = self.viewport().rect()
        z = min(vp.width() / rect.width(), vp.height() / rect.height(), 1.0)
        self.set_zoom(z)
        self.centerOn(rect.center())

    def wheelEvent(self, event):
        d = event.angleDelta()
        if event.modifiers() & Qt.ShiftModifier:  # pan sideways on a wheel or trackpad
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value()
                                                - (d.y() or d.x()))
        elif d.y():
            self.set_zoom(self._zoom * WHEEL_BASE ** d.y(), event.position().toPoint())
        event.accept()

    # ------------------------------------------------------------ mouse
    def mousePressEvent(self, event):
        if self._drag is not None:
            event.accept()
            return
        pos = event.position().toPoint()
        button = event.button()
        if button == Qt.MiddleButton or (button == Qt.LeftButton and self._space):
            self._drag = _Pan(pos)
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.LeftButton:
            sp = self.mapToScene(pos)
            toggle = bool(event.modifiers() & Qt.ControlModifier)
            item = self.scene_model.node_item_at(sp)
            if item is not None:
                hit = item.port_at(item.mapFromScene(sp))
                if hit is not None:
                    side, port = hit
                    self._drag = WireDrag(self, item.node_id, side, port.name)
                    self._drag.move(sp)
                    event.accept()
                    return
                if not toggle:
                    self._clear_wire_selection()
                super().mousePressEvent(event)  # node selection, as Qt does it
                self._drag = MoveDrag(self, item, sp)
                return
            wire = self.scene_model.wire_at(sp)
            if wire is not None:
                self._click_wire(wire, toggle)
                event.accept()
                return
            if not toggle:
                self._clear_wire_selection()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        drag = self._drag
        pos = event.position().toPoint()
        if isinstance(drag, _Pan):
            delta = pos - drag.last
            drag.last = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
        elif isinstance(drag, (WireDrag, MoveDrag)):
            drag.move(self.mapToScene(pos))
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        drag = self._drag
        button = event.button()
        if isinstance(drag, _Pan) and button in (Qt.MiddleButton, Qt.LeftButton):
            self._drag = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else Qt.ArrowCursor)
            event.accept()
        elif isinstance(drag, WireDrag) and button == Qt.LeftButton:
            self._drag = None
            drag.finish()
            event.accept()
        elif isinstance(drag, MoveDrag) and button == Qt.LeftButton:
            self._drag = None
            super().mouseReleaseEvent(event)
            drag.finish()
        else:
            super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event):
        sp = self.mapToScene(event.position().toPoint())
        if event.button() == Qt.LeftButton:
            item = self.scene_model.node_item_at(sp)
            if item is not None:
                self.node_activated.emit(item.node_id)
                self.open_block_graph(item.node_id)  # a block: show the graph it runs
                event.accept()
                return
            if self.scene_model.wire_at(sp) is None:
                self.show_quick_add(sp)
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    def _cancel_drag(self) -> None:
        drag, self._drag = self._drag, None
        if isinstance(drag, (WireDrag, MoveDrag)):
            drag.cancel()

    def viewportEvent(self, event):
        if event.type() == QEvent.ToolTip:
            sp = self.mapToScene(event.pos())
            if self.scene_model.node_item_at(sp) is None:
                wire = self.scene_model.wire_at(sp)
                if wire is not None and wire.label:
                    QToolTip.showText(event.globalPos(), wire.label, self.viewport())
                    return True
        return super().viewportEvent(event)

    # ------------------------------------------------------------ keyboard
    def event(self, event):
        if (event.type() == QEvent.KeyPress and event.key() == Qt.Key_Tab
                and not event.modifiers() and not self.quick_add.isVisible()):
            self.show_quick_add()
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key_Delete, Qt.Key_Backspace) and not mods:
            self.delete_selection()
        elif key == Qt.Key_F and not mods:
            self.frame_selection()
        elif key == Qt.Key_Escape:
            if self._drag is not None:
                self._cancel_drag()
            else:
                self.scene_model.clearSelection()
                self._clear_wire_selection()
        elif key == Qt.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self.viewport().setCursor(Qt.OpenHandCursor)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            if not isinstance(self._drag, _Pan):
                self.viewport().setCursor(Qt.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event):
        self._space = False  # the space bar may be released elsewhere
        super().focusOutEvent(event)

    # ------------------------------------------------------------ drop from the palette
    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if not event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        event.acceptProposedAction()
        self._set_insert_wire(self.scene_model.wire_at(
            self.mapToScene(event.position().toPoint())))

    def dragLeaveEvent(self, event):
        self._set_insert_wire(None)
        event.accept()

    def dropEvent(self, event):
        self._set_insert_wire(None)
        mime = event.mimeData()
        if not mime.hasFormat(LAYER_MIME):
            event.ignore()
            return
        type_name = bytes(mime.data(LAYER_MIME)).decode("utf-8", "replace").strip()
        event.acceptProposedAction()
        self.setFocus()
        self.add_node_at(type_name, self.mapToScene(event.position().toPoint()))

    def _set_insert_wire(self, wire: WireItem | None) -> None:
        if wire is self._insert_wire:
            return
        if self._insert_wire is not None:
            self._insert_wire.set_insert_target(False)
        self._insert_wire = wire
        if wire is not None:
            wire.set_insert_target(True)

    # ------------------------------------------------------------ quick add
    def show_quick_add(self, scene_pos: QPointF | None = None) -> None:
        """Open the quick-add popup; the chosen layer goes to ``scene_pos`` (default:
        the pointer, or the middle of the view)."""
        if scene_pos is None:
            scene_pos = self._cursor_scene_pos()
        if scene_pos is None:
            scene_pos = self.mapToScene(self.viewport().rect().center())
        self._quick_pos = QPointF(scene_pos)
        at = self.mapFromScene(scene_pos) + self.viewport().pos()
        self.quick_add.popup(at)

    def _quick_add_chosen(self, type_name: str) -> None:
        self.setFocus()
        self.add_node_at(type_name, self._quick_pos)
