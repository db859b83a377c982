"""The main window: composes the docks around the canvas and wires their signals.

It holds no document state and makes no edits itself: edits come from the canvas and
the inspector as commands, file work from :class:`FileController`, and the menus only
forward to those.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from .. import __version__
from ..graph.project_file import SUFFIX
from .appearance import apply_theme
from .canvas_tabs import CanvasTabs
from .code_view import CodeView
from .fairness_install import install_fairness
from .file_actions import FileController, RecentFiles
from .inspector import Inspector
from .lazy_tab import LazyTab
from .palette import LayerPalette
from .session import ProjectSession
from .start_page import StartPage
from .theme import THEMES, theme
from .training import install_training
from .window_menus import build_menus, fill_recent_menu

PALETTE_WIDTH, INSPECTOR_WIDTH, BOTTOM_SHARE = 220, 300, 0.30


class MainWindow(QMainWindow):
    def __init__(self, session: ProjectSession | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        apply_theme()
        self.session = session or ProjectSession(parent=self)
        self.recent = RecentFiles(self)
        self.files = FileController(self.session, self, self.recent)
        self.start_page: StartPage | None = None

        self.canvases = CanvasTabs(self.session, self)
        self.setCentralWidget(self.canvases)
        self.layer_palette = LayerPalette(parent=self)
        self.palette_dock = self._dock("Layers", "PaletteDock", self.layer_palette,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector = Inspector(self.session, self)
        self.inspector_dock = self._dock("Inspector", "InspectorDock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.code_view = CodeView(self.session, self)
        self.bottom_tabs = QTabWidget(self)
        self.bottom_tabs.setObjectName("BottomTabs")
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.tabBar().setDrawBase(False)
        self.bottom_tabs.addTab(self.code_view, "Code")
        self.bottom_dock = self._dock("Bottom Panel", "BottomDock", self.bottom_tabs,
                                      Qt.DockWidgetArea.BottomDockWidgetArea)
        self.bottom_dock.setTitleBarWidget(QWidget())  # its tabs are its title
        # the side docks run the full height; the bottom panel sits under the canvas only
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.menu_actions: dict[str, QAction] = build_menus(self)
        self._build_status_bar()
        self._wire()
        self.training = install_training(self)  # Training tab, Train menu and toolbar
        self.fairness = install_fairness(self)  # Fairness tab: per-group metrics of each run
        self.setAcceptDrops(True)
        self._restore_settings()
        self._update_title()
        self._on_selection(self.canvases.current_canvas().selected_ids()
                           if self.canvases.current_canvas() else [])

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("StatusBar")
        self.params_label = QLabel()
        self.errors_label = QLabel()
        self.selection_label = QLabel()
        self.zoom_label = QLabel()
        for name, label in (("StatusParams", self.params_label),
                            ("StatusErrors", self.errors_label),
                            ("StatusSelection", self.selection_label),
                            ("StatusZoom", self.zoom_label)):
            label.setObjectName(name)
            label.setContentsMargins(10, 0, 10, 0)
            bar.addPermanentWidget(label)
        self._update_graph_status()
        self._on_zoom(self.canvases.current_canvas().zoom() if self.canvases.current_canvas()
                      else 1.0)

    def _wire(self) -> None:
        s = self.session
        s.dirty_changed.connect(self.setWindowModified)
        # methods, not lambdas, so that Qt drops these connections with the window
        s.path_changed.connect(self._update_title)
        s.project_replaced.connect(self._update_title)
        s.inferred.connect(self._on_inferred)
        s.current_graph_changed.connect(self._update_graph_status)
        for source in (s.message, self.files.message, self.code_view.message):
            source.connect(self.show_message)
        self.canvases.selection_changed.connect(self._on_selection)
        self.canvases.zoom_changed.connect(self._on_zoom)
        self.layer_palette.layer_activated.connect(self.add_layer)
        self.code_view.node_requested.connect(self.reveal_node)
        THEMES.changed.connect(self._on_theme)

    # ----------------------------------------------------------------- public
    @property
    def canvas(self):
        """The canvas in front (None while the project has no graph)."""
        return self.canvases.current_canvas()

    @property
    def fairness_view(self):
        """The Fairness tab's view (built now if it was not yet)."""
        return self.fairness.view

    def add_bottom_tab(self, widget: QWidget, title: str) -> int:
        """Add a panel beside the code preview (e.g. Training); returns its tab index."""
        return self.bottom_tabs.addTab(widget, title)

    def add_lazy_bottom_tab(self, title: str, factory) -> LazyTab:
        """Add a panel built by ``factory()`` only when first shown or asked for."""
        return LazyTab(self.bottom_tabs, title, factory)

    def add_layer(self, type_name: str) -> None:
        """Add a ``type_name`` layer at the centre of the canvas in front."""
        canvas = self.canvas
        if canvas is not None:
            centre = canvas.mapToScene(canvas.viewport().rect().center())
            canvas.add_node_at(type_name, centre)
            canvas.setFocus()

    def reveal_node(self, node_id: str) -> None:
        canvas = self.canvas
        if canvas is not None and node_id in canvas.graph:
            canvas.select_ids([node_id])
            canvas.frame_selection()

    def show_start_page(self) -> StartPage:
        """Open the start page over the window (not blocking); returns it."""
        if self.start_page is not None:
            self.start_page.close()
        page = StartPage(self.recent.paths(), self)
        page.template_chosen.connect(self.files.new_from_template)
        page.recent_chosen.connect(self.files.open_path)
        page.blank_requested.connect(self.files.new_blank)
        page.open_requested.connect(self.files.open_dialog)
        page.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        page.finished.connect(self._on_start_page_closed)
        self.start_page = page
        page.open()
        return page

    def fill_recent_menu(self) -> None:
        fill_recent_menu(self)

    def _on_start_page_closed(self, _result: int) -> None:
        self.start_page = None

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def show_about(self) -> None:
        QMessageBox.about(
            self, "About nnstudio",
            f"<h3>nnstudio {__version__}</h3><p>Draw a neural network, watch the shapes flow "
            "through it, train it, and export clean PyTorch code.</p>"
            "<p>Built with PySide6, pyqtgraph and PyTorch.</p>")

    # ----------------------------------------------------------------- following
    def _on_inferred(self, graph, _result) -> None:
        if graph is self.session.current_graph:
            self._update_graph_status()

    def _on_theme(self, t) -> None:
        self.menu_actions[f"theme_{t.name}"].setChecked(True)
        self._update_graph_status()

    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.session.display_name}[*] — nnstudio")
        self.setWindowModified(self.session.dirty)

    def _update_graph_status(self, *_args) -> None:
        try:
            result = self.session.inference()
        except RuntimeError:  # no graph
            self.params_label.setText("")
            self.errors_label.setText("")
            return
        self.params_label.setText(f"{result.total_params:,} parameters")
        n = len(result.all_errors())
        if n:
            color = theme().colors.get("error", "#f55")
            self.errors_label.setText(
                f"<span style='color:{color}'>● {n} error{'s' * (n != 1)}</span>")
        else:
            color = theme().colors.get("ok", "#5d5")
            self.errors_label.setText(f"<span style='color:{color}'>●</span> No errors")

    def _on_selection(self, ids) -> None:
        n = len(ids)
        self.selection_label.setText(
            "Nothing selected" if n == 0 else f"{n} node{'s' * (n != 1)} selected")
        self.inspector.set_selection(ids)
        for name in ("cut", "copy", "delete", "duplicate", "frame_selection"):
            self.menu_actions[name].setEnabled(n > 0)

    def _on_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{round(zoom * 100)} %")

    # ----------------------------------------------------------------- settings
    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        state = settings.value("window/state")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry) \
                and isinstance(state, QByteArray) and self.restoreState(state):
            return
        width, height = 1440, 900
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:  # a first start on a small laptop screen still fits
            avail = screen.availableGeometry()
            width = min(width, int(avail.width() * 0.92))
            height = min(height, int(avail.height() * 0.92))
        self.resize(width, height)
        self.resizeDocks([self.palette_dock, self.inspector_dock],
                         [PALETTE_WIDTH, INSPECTOR_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [int(height * BOTTOM_SHARE)], Qt.Orientation.Vertical)

    def save_settings(self) -> None:
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.sync()

    # ----------------------------------------------------------------- closing, dropping
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.training.shutdown()  # stop a run and join its thread (bounded wait)
        self.save_settings()
        self.canvases.close_all()
        event.accept()

    @staticmethod
    def _project_paths(event) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls()
                if u.isLocalFile() and u.toLocalFile().endswith(SUFFIX)]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._project_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._project_paths(event)
        if paths:
            event.acceptProposedAction()
            self.files.open_path(str(Path(paths[0])))
        else:
            event.ignore()
