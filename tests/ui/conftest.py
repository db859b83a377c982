"""Fixtures shared by the UI tests: a session on a blank project, canvases that are
closed (and checked for leaked document connections) after each test, and a driver that
works a canvas with real mouse, keyboard and drag-and-drop events."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import nnstudio.graph  # noqa: F401  (registers the layer catalog)
from nnstudio.graph import Graph, Project
from nnstudio.graph.templates import load_template
from nnstudio.ui.session import ProjectSession


@pytest.fixture
def shown(qtbot):
    """``shown(widget, width, height)``: the widget, owned by the test, at that size and
    on screen (exposed) — for tests that look at what a widget draws."""

    def show(widget, width: int, height: int):
        qtbot.addWidget(widget)
        widget.resize(width, height)
        widget.show()
        qtbot.waitExposed(widget)
        return widget

    return show


GRAPH_SIGNALS = ("node_added", "node_removed", "node_changed", "node_moved", "edge_added",
                 "edge_removed", "changed")


@pytest.fixture
def session(qapp):
    """A session on a blank project with one empty graph called "Net"."""
    s = ProjectSession()
    yield s
    s.undo_stack.clear()
    s.deleteLater()


@pytest.fixture
def graph(session) -> Graph:
    return session.current_graph


def canonical(graph: Graph) -> dict:
    """``graph.to_dict()`` with nodes and edges sorted, for comparing documents whose
    node order may differ."""
    d = graph.to_dict()
    d["nodes"] = sorted(d["nodes"], key=lambda n: n["id"])
    d["edges"] = sorted(d["edges"], key=lambda e: (e["dst"], e["dst_port"]))
    return d


@pytest.fixture
def canonical_dict():
    return canonical


def connection_counts(graph: Graph) -> dict[str, int]:
    return {name: len(getattr(graph, name)) for name in GRAPH_SIGNALS}


@pytest.fixture
def make_canvas(qapp):
    """``make_canvas(session, graph=None, size=(1000, 700))`` → a shown GraphCanvas.

    At teardown every canvas is closed, and the graph must have no more connections to
    its signals than before the canvas was made (no leaks when a tab closes)."""
    from nnstudio.ui.canvas import GraphCanvas

    made = []

    def make(session, graph=None, size=(1000, 700)):
        graph = graph if graph is not None else session.current_graph
        before = connection_counts(graph)
        canvas = GraphCanvas(session, graph)
        canvas.resize(*size)
        canvas.show()
        QApplication.processEvents()
        made.append((canvas, graph, before))
        return canvas

    yield make
    for canvas, graph, before in made:
        canvas.close()
        assert connection_counts(graph) == before, "the canvas left connections behind"
        canvas.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def canvas(session, make_canvas):
    return make_canvas(session)


@pytest.fixture
def second_session(qapp):
    s = ProjectSession(_blank("Other"))
    yield s
    s.undo_stack.clear()
    s.deleteLater()


def _blank(name: str) -> Project:
    p = Project(name)
    p.add_graph(Graph("Net"))
    return p


LENET = [
    ("Input", "x", {"shape": (1, 28, 28)}),
    ("Conv2d", "conv1", {"out_channels": 6, "kernel_size": 5, "padding": 2}),
    ("ReLU", "relu1", {}),
    ("MaxPool2d", "pool1", {"kernel_size": 2}),
    ("Conv2d", "conv2", {"out_channels": 16, "kernel_size": 5}),
    ("ReLU", "relu2", {}),
    ("MaxPool2d", "pool2", {"kernel_size": 2}),
    ("Flatten", "flatten", {}),
    ("Linear", "fc1", {"out_features": 120}),
    ("ReLU", "relu3", {}),
    ("Linear", "fc2", {"out_features": 84}),
    ("ReLU", "relu4", {}),
    ("Linear", "fc3", {"out_features": 10}),
    ("Output", "output", {}),
]


@pytest.fixture
def lenet_layers():
    """LeNet-5 as (type, name, params) in data-flow order."""
    return list(LENET)


@pytest.fixture
def build_chain():
    """``build_chain(graph, layers, spacing=300)`` adds ``layers`` ((type, name, params))
    through the document API, left to right, each wired to the previous one; returns the
    new ids."""

    def build(graph: Graph, layers, spacing: float = 300.0, y: float = 0.0):
        ids, prev = [], None
        for i, (t, name, params) in enumerate(layers):
            node = graph.add_node(t, name, params, pos=(i * spacing, y))
            if prev is not None:
                graph.connect(prev, "out", node.id, "in")
            ids.append(node.id)
            prev = node.id
        return ids

    return build


def _drag_event(cls, pos: QPointF, mime: QMimeData):
    try:
        return cls(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    except TypeError:  # PySide6 before 6.12 takes the position as a QPoint
        return cls(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)


class CanvasDriver:
    """Works a canvas the way a person does: mouse drags on its viewport, keys, drops."""

    def __init__(self, qtbot):
        self.qtbot = qtbot

    @staticmethod
    def port_pos(canvas, node_id: str, side: str, port: str) -> QPointF:
        return canvas.scene_model.nodes[node_id].port_pos(side, port)

    @staticmethod
    def node_center(canvas, node_id: str) -> QPointF:
        return canvas.scene_model.nodes[node_id].node_rect().center()

    @staticmethod
    def to_view(canvas, scene_pos: QPointF) -> QPoint:
        return canvas.mapFromScene(scene_pos)

    def show(self, canvas, *scene_points: QPointF) -> None:
        """Scroll so that all ``scene_points`` are inside the viewport."""
        xs = [p.x() for p in scene_points]
        ys = [p.y() for p in scene_points]
        canvas.centerOn(QPointF((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
        QApplication.processEvents()

    def drag(self, canvas, a: QPointF, b: QPointF, steps: int = 6,
             button=Qt.LeftButton, modifiers=Qt.NoModifier, release: bool = True) -> None:
        """Press at scene point ``a``, move in ``steps`` to ``b``, release there."""
        self.show(canvas, a, b)
        vp = canvas.viewport()
        pa, pb = self.to_view(canvas, a), self.to_view(canvas, b)
        QTest.mouseMove(vp, pa)
        QTest.mousePress(vp, button, modifiers, pa)
        for i in range(1, steps + 1):
            t = i / steps
            QTest.mouseMove(vp, QPoint(round(pa.x() + (pb.x() - pa.x()) * t),
                                       round(pa.y() + (pb.y() - pa.y()) * t)))
        if release:
            QTest.mouseRelease(vp, button, modifiers, pb)
        QApplication.processEvents()

    def drag_release(self, canvas, b: QPointF, button=Qt.LeftButton,
                     modifiers=Qt.NoModifier, via: bool = False) -> None:
        """Finish a drag started with ``release=False`` at scene point ``b`` (moving
        there first when ``via``)."""
        pb = self.to_view(canvas, b)
        if via:
            QTest.mouseMove(canvas.viewport(), pb)
        QTest.mouseRelease(canvas.viewport(), button, modifiers, pb)
        QApplication.processEvents()

    def connect(self, canvas, src: str, src_port: str, dst: str, dst_port: str) -> None:
        self.drag(canvas, self.port_pos(canvas, src, "out", src_port),
                  self.port_pos(canvas, dst, "in", dst_port))

    def click(self, canvas, scene_pos: QPointF, modifiers=Qt.NoModifier) -> None:
        self.show(canvas, scene_pos)
        QTest.mouseClick(canvas.viewport(), Qt.LeftButton, modifiers,
                         self.to_view(canvas, scene_pos))
        QApplication.processEvents()

    def key(self, canvas, key, modifiers=Qt.NoModifier) -> None:
        canvas.setFocus()
        QTest.keyClick(canvas, key, modifiers)
        QApplication.processEvents()

    def drop_layer(self, canvas, type_name: str, scene_pos: QPointF) -> bool:
        """A palette drag of ``type_name`` entering the canvas and dropped at
        ``scene_pos``; returns whether the drop was accepted."""
        from nnstudio.ui.canvas import LAYER_MIME

        self.show(canvas, scene_pos)
        mime = QMimeData()
        mime.setData(LAYER_MIME, type_name.encode("utf-8"))
        pos = QPointF(self.to_view(canvas, scene_pos))
        vp = canvas.viewport()
        enter = _drag_event(QDragEnterEvent, pos, mime)
        QApplication.sendEvent(vp, enter)
        move = _drag_event(QDragMoveEvent, pos, mime)
        QApplication.sendEvent(vp, move)
        drop = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(vp, drop)
        QApplication.processEvents()
        return drop.isAccepted()

    def quick_add(self, canvas, text: str, scene_pos: QPointF) -> None:
        """Open quick-add at ``scene_pos``, type ``text``, press Enter."""
        self.show(canvas, scene_pos)
        canvas.show_quick_add(scene_pos)
        QTest.keyClicks(canvas.quick_add.edit, text)
        QTest.keyClick(canvas.quick_add.edit, Qt.Key_Return)
        QApplication.processEvents()


@pytest.fixture
def drive(qtbot) -> CanvasDriver:
    return CanvasDriver(qtbot)


# ----------------------------------------------------------------------------------------
# Main-window fixtures (window, palette, inspector tests).


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path_factory):
    """Every UI test reads and writes QSettings in a fresh folder of its own, never the
    person's real settings; the theme is dark again afterwards."""
    from PySide6.QtCore import QSettings

    from nnstudio.ui.theme import THEMES

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    qapp.setOrganizationName("nnstudio-tests")
    qapp.setApplicationName("nnstudio-tests")
    yield folder
    THEMES.set("dark")
    qapp.setStyleSheet("")


@pytest.fixture
def lenet_session(qapp):
    """A session on the LeNet-5 example (unsaved, clean)."""
    from nnstudio.graph.templates import load_template

    s = ProjectSession(load_template("lenet5"))
    yield s
    s.undo_stack.clear()
    s.deleteLater()


@pytest.fixture
def make_window(qapp, qtbot):
    """``make_window(session=None, size=None)`` → a shown MainWindow (on LeNet-5 by
    default; size None keeps the size restored from settings).

    At teardown unsaved changes are dropped (no prompt) and every window is closed."""
    from nnstudio.graph.templates import load_template
    from nnstudio.ui.main_window import MainWindow

    made = []

    def make(session: ProjectSession | None = None, size=None):
        session = session or ProjectSession(load_template("lenet5"))
        window = MainWindow(session)
        if size is not None:
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        if window.start_page is not None:
            window.start_page.close()
        window.session.undo_stack.setClean()
        window.close()
        window.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def window(make_window):
    return make_window()


# ---- the Training panel on a small, fast project (shared by the training UI tests)
def small_project(template: str = "mlp", n_samples: int = 400, **config):
    """A template with a small data set and a short, CPU-only configuration."""
    project = load_template(template)
    project.training["dataset"]["n_samples"] = n_samples
    project.training["config"].update({"epochs": 3, "device": "cpu", **config})
    return project


@pytest.fixture
def train_window(make_window):
    """``train_window(project)`` → a shown MainWindow on it; runs are stopped and joined
    at teardown even when a test fails half-way."""
    made = []

    def make(project=None, size=(1400, 900)):
        window = make_window(ProjectSession(project or small_project()), size=size)
        made.append(window)
        return window

    yield make
    for window in made:
        assert window.training.shutdown(5000)
        # belt and braces: ProjectSession.__del__ now clears its stack before a collector
        # pass could free a command's wrapper first (a PySide 6.11 double delete), and a
        # closed window no longer ends in a reference cycle (test_window_lifetime.py)
        window.session.undo_stack.clear()


def dock_of(window):
    return window.training.dock


def finish(qtbot, dock, timeout=60_000):
    qtbot.waitUntil(lambda: not dock.is_running, timeout=timeout)


# ---- the Live page alone (the renderers' tests)
@pytest.fixture
def page(qtbot):
    """A shown, empty Live page."""
    from nnstudio.ui.training.live_view import LiveView

    view = LiveView()
    view.resize(900, 500)
    qtbot.addWidget(view)
    view.show()
    return view


def draw(page, *previews):
    """Show ``previews`` on ``page`` now; returns their renderers, in order."""
    page.set_previews(list(previews))
    page.refresh()
    return [page.renderers[p.title] for p in previews]


# ------------------------------------------------------------------ live curves
CURVE_COLOR = "#ffb347"


@pytest.fixture
def curve_plot(shown):
    """A styled training plot (with a legend) on screen at 400×300, x 0–10, y 0–1, not
    auto-ranging, for tests of :class:`~nnstudio.ui.training.path_curve.PathCurve`."""
    from nnstudio.ui.training.plot_style import make_plot

    plot = shown(make_plot(None, "t", "epoch", "loss", legend=True), 400, 300)
    plot.getPlotItem().enableAutoRange(x=False, y=False)
    plot.setXRange(0, 10, padding=0)
    plot.setYRange(0, 1, padding=0)
    return plot


def add_curve(plot, **kw):
    """A PathCurve in ``CURVE_COLOR`` added to ``plot`` (keywords go to PathCurve)."""
    from PySide6.QtGui import QColor

    from nnstudio.ui.training.path_curve import PathCurve

    curve = PathCurve(plot.getPlotItem().getViewBox(), QColor(CURVE_COLOR), **kw)
    plot.getPlotItem().addItem(curve)
    return curve
