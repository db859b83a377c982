"""Mounting training in the main window: the Training tab, a Train menu and toolbar
(Train F5, Pause F6, Stop Shift+F5), the lock reason in the status bar, and a bounded
shutdown for a closing window.  The window only calls :func:`install_training`.

The panel itself (a dozen plots, and pyqtgraph with them) is built the first time it
is needed — its tab shown, or Train pressed — not while the window opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QToolBar

from ..window_part import WindowPart

if TYPE_CHECKING:
    from nnstudio.train import TrainResult

    from ..main_window import MainWindow
    from .dock import TrainingDock

TAB_TITLE = "Training"
MIN_PANEL_SHARE = 0.5  # when a run starts, the bottom panel grows to this share if smaller


class TrainingController(WindowPart):
    """Owns the Training tab of ``window`` and the actions that drive it.

    Signal ``dock_ready(TrainingDock)``: the panel was just built (see :attr:`dock`)."""

    dock_ready = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.tab = window.add_lazy_bottom_tab(TAB_TITLE, self._build_dock)
        self.tab.built.connect(self.dock_ready)
        self.actions = self._make_actions()
        self._make_menu_and_toolbar()
        self.status_label = QLabel()
        self.status_label.setObjectName("StatusTraining")
        self.status_label.setContentsMargins(10, 0, 10, 0)
        self.status_label.hide()
        window.statusBar().insertPermanentWidget(0, self.status_label)
        window.session.lock_changed.connect(self._on_lock_changed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._last_state = "idle"
        self._on_state("idle")

    @property
    def dock(self) -> TrainingDock:
        """The Training panel, built now if it was not yet."""
        return self.tab.widget

    @property
    def is_built(self) -> bool:
        return self.tab.is_built

    def when_built(self, callback) -> None:
        """Call ``callback(dock)`` once the panel exists: now if it does, else when built."""
        if self.is_built:
            callback(self.dock)
        else:
            self.dock_ready.connect(callback)

    def _build_dock(self) -> TrainingDock:
        from .dock import TrainingDock

        dock = TrainingDock(self.window.session, self.window)
        dock.state_changed.connect(self._on_state)
        dock.run_finished.connect(self._on_finished)
        dock.message.connect(self.window.show_message)
        return dock

    def _make_actions(self) -> dict[str, QAction]:
        w = self.window
        specs = (("train", "&Train", "F5", self.train, "Train the current graph on the chosen data set"),
                 ("pause", "&Pause", "F6", lambda: self.dock.toggle_pause(),
                  "Pause or resume training"),
                 ("stop", "&Stop", "Shift+F5", lambda: self.dock.stop(), "Stop training"))
        actions = {}
        for name, text, key, slot, tip in specs:
            action = QAction(text, w)
            action.setObjectName(f"action_{name}")
            action.setShortcut(QKeySequence(key))
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({key})")
            action.triggered.connect(slot)
            w.addAction(action)
            actions[name] = action
            w.menu_actions[name] = action
        return actions

    def _make_menu_and_toolbar(self) -> None:
        w = self.window
        bar = w.menuBar()
        help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        menu = bar.addMenu("T&rain") if help_action is None else None
        if menu is None:
            from PySide6.QtWidgets import QMenu

            menu = QMenu("T&rain", bar)
            bar.insertMenu(help_action, menu)
        menu.setObjectName("TrainMenu")
        for action in self.actions.values():
            menu.addAction(action)
        menu.addSeparator()
        each = QAction("Train &Each Graph", w)
        each.setObjectName("action_train_each")
        each.setStatusTip("Train every network of the project in turn, their runs overlaid")
        each.triggered.connect(self.train_each)
        menu.addAction(each)
        menu.aboutToShow.connect(self._update_train_each)
        w.menu_actions["train_each"] = each
        self.each_action = each
        self.menu = menu
        toolbar = QToolBar("Training", w)
        toolbar.setObjectName("TrainingToolBar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self.actions.values():
            toolbar.addAction(action)
        w.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    # ------------------------------------------------------------------ actions
    def train(self) -> bool:
        """Show the Training tab and start a run; returns whether one started."""
        self.show_tab()
        return self.dock.start()

    def train_each(self) -> bool:
        """Show the Training tab and train each network in turn (see ``train_each``)."""
        self.show_tab()
        return self.dock.start_each()

    def _update_train_each(self) -> None:
        from .train_each import graphs_to_train_each

        running = self.is_built and self.dock.is_running
        graphs = graphs_to_train_each(self.window.session.project)
        self.each_action.setEnabled(len(graphs) >= 2 and not running)

    def show_tab(self) -> None:
        w = self.window
        w.bottom_dock.show()
        w.bottom_tabs.setCurrentWidget(self.dock)
        want = int(w.height() * MIN_PANEL_SHARE)
        if w.bottom_dock.height() < want:
            w.resizeDocks([w.bottom_dock], [want], Qt.Orientation.Vertical)

    def shutdown(self, ms: int = 5000) -> bool:
        """Stop a run and join its thread, waiting at most ``ms``."""
        return self.dock.shutdown(ms) if self.is_built else True

    # ------------------------------------------------------------------ following
    def _on_state(self, state: str) -> None:
        running = self.is_built and self.dock.is_running
        self.actions["train"].setEnabled(not running)
        self.actions["pause"].setEnabled(state in ("running", "paused"))
        self.actions["pause"].setText("&Resume" if state == "paused" else "&Pause")
        self.actions["stop"].setEnabled(running and state != "stopping")
        if state == "running" and self._last_state == "idle":
            self.show_tab()  # a run just started, from here or from the panel's button
        self._last_state = state
        self._update_status()

    def _on_lock_changed(self, _locked: bool, _reason: str) -> None:
        self._update_status()

    def _update_status(self) -> None:
        session = self.window.session
        parts = []
        if self.is_built and self.dock.is_running:
            state = self.dock.runner.state
            parts.append({"paused": "training paused", "stopping": "stopping training…"}.get(
                state, "training"))
        if session.locked:
            parts.append(f"editing locked: {session.lock_reason}")
        self.status_label.setText(" · ".join(parts))
        self.status_label.setVisible(bool(parts))

    def _on_finished(self, result: TrainResult) -> None:
        self._on_state("idle")


def install_training(window: MainWindow) -> TrainingController:
    """Add training to ``window``; returns the controller (``window.training``)."""
    return TrainingController(window)
