"""The centre of the window: one canvas tab per graph of the project.

Switching tabs makes that graph the session's current one; the selection and zoom of
the canvas in front are relayed as this widget's own signals, so the window listens to
one object whichever graph is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from ..graph.document import Graph
from .canvas import GraphCanvas
from .session import ProjectSession

# below this zoom node titles and wire shapes are too small to read
READABLE_ZOOM = 0.7


class CanvasTabs(QTabWidget):
    """Signals: ``selection_changed(list[str])``, ``zoom_changed(float)`` — of the canvas
    in front."""

    selection_changed = Signal(list)
    zoom_changed = Signal(float)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("CanvasTabs")
        self.setDocumentMode(True)
        self.setTabBarAutoHide(True)  # a one-graph project needs no tab bar
        self.session = session
        self._project = None
        self._renamed: dict[int, tuple[Graph, object]] = {}
        self.currentChanged.connect(self._on_current_changed)
        session.project_replaced.connect(self.rebuild)
        session.current_graph_changed.connect(self._show_graph)
        self.rebuild()

    # ----------------------------------------------------------------- queries
    def canvases(self) -> list[GraphCanvas]:
        return [self.widget(i) for i in range(self.count())]

    def current_canvas(self) -> GraphCanvas | None:
        return self.currentWidget()

    def canvas_for(self, graph: Graph) -> GraphCanvas | None:
        return next((c for c in self.canvases() if c.graph is graph), None)

    # ----------------------------------------------------------------- building
    def rebuild(self) -> None:
        """One canvas per graph of the session's project (after a project is opened)."""
        self._detach()
        self._project = project = self.session.project
        project.graph_added.connect(self._on_graph_added)
        project.graph_removed.connect(self._on_graph_removed)
        self.blockSignals(True)
        for graph in project.graphs:
            self._add(graph)
        self.blockSignals(False)
        self._show_graph(self.session.current_graph if project.graphs else None)
        self._on_current_changed(self.currentIndex())
        # once the canvases have their size (after the window is shown and laid out)
        QTimer.singleShot(0, self.initial_view)

    def initial_view(self) -> None:
        """Frame each graph; a long one is shown from its inputs at a readable zoom
        rather than shrunk to fit (the person pans along it, or zooms out)."""
        for canvas in self.canvases():
            canvas.frame_all()
            if canvas.zoom() < READABLE_ZOOM and len(canvas.graph):
                rect = canvas.scene_model.nodes_rect()
                canvas.set_zoom(READABLE_ZOOM)
                half = canvas.viewport().width() / 2 / canvas.zoom()
                canvas.centerOn(rect.left() - 40 + half, rect.center().y())
        current = self.current_canvas()
        if current is not None:
            current.setFocus()  # Delete, Ctrl+C, … act on the drawing from the start

    def _add(self, graph: Graph, index: int | None = None) -> GraphCanvas:
        canvas = GraphCanvas(self.session, graph, self)
        canvas.selection_changed.connect(lambda ids, c=canvas: self._relay_selection(c, ids))
        canvas.zoom_changed.connect(lambda z, c=canvas: self._relay_zoom(c, z))
        self.insertTab(self.count() if index is None else index, canvas, graph.name)

        def on_renamed(name: str, graph=graph) -> None:
            c = self.canvas_for(graph)
            if c is not None:
                self.setTabText(self.indexOf(c), name)

        graph.renamed.connect(on_renamed)
        self._renamed[id(graph)] = (graph, on_renamed)
        return canvas

    def _remove(self, canvas: GraphCanvas) -> None:
        graph, callback = self._renamed.pop(id(canvas.graph), (None, None))
        if graph is not None:
            graph.renamed.disconnect(callback)
        self.removeTab(self.indexOf(canvas))
        canvas.close()
        canvas.deleteLater()

    def _detach(self) -> None:
        if self._project is not None:
            self._project.graph_added.disconnect(self._on_graph_added)
            self._project.graph_removed.disconnect(self._on_graph_removed)
            self._project = None
        self.blockSignals(True)
        for canvas in self.canvases():
            self._remove(canvas)
        self.blockSignals(False)

    def close_all(self) -> None:
        """Let go of the project and its canvases (the window is closing)."""
        self._detach()

    def _on_graph_added(self, graph: Graph) -> None:
        self._add(graph, self.session.project.graphs.index(graph))

    def _on_graph_removed(self, graph: Graph) -> None:
        canvas = self.canvas_for(graph)
        if canvas is not None:
            self._remove(canvas)

    # ----------------------------------------------------------------- following
    def _show_graph(self, graph: Graph | None) -> None:
        canvas = self.canvas_for(graph) if graph is not None else None
        if canvas is not None and canvas is not self.currentWidget():
            self.setCurrentWidget(canvas)

    def _on_current_changed(self, _index: int) -> None:
        canvas = self.current_canvas()
        if canvas is None:
            return
        self.session.set_current_graph(canvas.graph)
        self.selection_changed.emit(list(canvas.selected_ids()))
        self.zoom_changed.emit(float(canvas.zoom()))

    def _relay_selection(self, canvas: GraphCanvas, ids) -> None:
        if canvas is self.currentWidget():
            self.selection_changed.emit(list(ids))

    def _relay_zoom(self, canvas: GraphCanvas, zoom: float) -> None:
        if canvas is self.currentWidget():
            self.zoom_changed.emit(float(zoom))
