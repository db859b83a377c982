"""The Training panel: Train / Pause / Stop, progress and export in one strip on top, and
pages below: Setup (settings beside a preview of the data), Curves, Decision boundary,
Activations, Evaluation and Runs.

It turns the runner's batches into run records and view updates, and repaints at most
~10 times a second, only when something changed and only the page in view
(:mod:`.dock_follow`).  While a run lasts the session is locked ("what you see is what trains"); problems
are shown in a red banner in the panel, never in a blocking dialog.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nnstudio.data import preview
from nnstudio.train import Callback, ConfigError, Recipe, TrainResult, recipe_class
from nnstudio.train.project_run import PreparedRun, RunSetupError, prepare_run

from ..load_weights import PendingWeights
from ..session import ProjectSession
from ..theme import THEMES, Theme, theme
from .activations_view import ActivationsView
from .boundary_view import BoundaryView
from .challenge_view import ChallengeView
from .curves_view import CurvesView
from .data_preview import DataPreview
from .dock_export import DockExports
from .dock_follow import REPAINT_MS, DockFollowing
from .evaluation_view import EvaluationView
from .live_view import LiveView
from .panel_parts import Banner, FillLayout, resolved_dataset
from .plot_style import class_rgb, lut
from .prepare import prepare_with_progress, preview_with_progress
from .runs import RunRecord, RunStore
from .runs_view import RunsView
from .settings_form import TrainingSettings
from .train_each import TrainEach
from .worker import TrainingRunner

LOCK_REASON = "training is running — stop it to edit"
SETTINGS_WIDTH = 380


class TrainingDock(DockFollowing, DockExports, QWidget):
    """Signals: ``state_changed(str)`` ("running", "paused", "stopping", "idle");
    ``run_finished(TrainResult)``; ``message(str)`` for the status bar."""

    state_changed = Signal(str)
    run_finished = Signal(object)
    message = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingDock")
        self.session = session
        self.runner = TrainingRunner(self)
        self.store = RunStore(self)
        self.current: RunRecord | None = None
        self.prepared: PreparedRun | None = None
        self.extra_callbacks: list[Callback] = []  # added to every run (tests, benchmarks)
        self._pausing = False
        self._runs_dirty = False
        self._progress_dirty = False

        # ---- one strip of controls: buttons, progress, what is happening, export
        self.start_button = QPushButton("▶  Train")
        self.start_button.setObjectName("StartTraining")
        self.start_button.setToolTip("Compile the graph and train it on the chosen data set (F5)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("PauseTraining")
        self.pause_button.setToolTip("Pause or resume the run (F6)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("StopTraining")
        self.stop_button.setToolTip("Stop the run (Shift+F5)")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.train_each = TrainEach(self)  # "Train each graph": one run per network, overlaid
        self.pending_weights = PendingWeights(session, self)  # File ▸ Load Weights…
        self.progress = QProgressBar()
        self.progress.setObjectName("TrainingProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setMinimumWidth(150)
        self.progress.setMaximumWidth(260)
        self.status = QLabel("Not trained yet.")
        self.status.setObjectName("TrainingStatus")
        self.status.setProperty("role", "muted")
        self.status.setMinimumWidth(80)
        export = QPushButton("Export PNG…")
        export.setObjectName("ExportPlotPng")
        export.setToolTip("Save the page in view as a PNG picture")
        export.clicked.connect(self.export_png_dialog)
        csv_button = QPushButton("Save CSV…")
        csv_button.setObjectName("SaveRunCsv")
        csv_button.setToolTip("Save the current run's per-epoch metrics as CSV")
        csv_button.clicked.connect(self._save_current_csv)
        strip = QHBoxLayout()
        strip.setContentsMargins(6, 4, 6, 0)
        strip.setSpacing(5)
        for widget in (self.start_button, self.train_each.button, self.pause_button,
                       self.stop_button):
            strip.addWidget(widget)
        strip.addSpacing(6)
        strip.addWidget(self.progress)
        strip.addWidget(self.status, 1)
        strip.addWidget(export)
        strip.addWidget(csv_button)

        # ---- banners over the pages
        self.lock_banner = Banner("TrainingLockBanner", "lock", closable=False)
        self.error_banner = Banner("TrainingErrorBanner", "error", closable=True)

        # ---- pages: set up (settings beside the data), then the live views
        self.settings = TrainingSettings(session)
        self.settings.changed.connect(self._on_settings_changed)
        scroll = QScrollArea()
        scroll.setObjectName("TrainingSettingsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.settings)
        scroll.setMinimumWidth(SETTINGS_WIDTH)
        self.settings_scroll = scroll
        self.data = DataPreview()
        setup = QWidget()
        setup.setObjectName("TrainingSetup")
        sl = QHBoxLayout(setup)
        sl.setContentsMargins(0, 4, 0, 0)
        sl.setSpacing(6)
        sl.addWidget(scroll, 3)
        sl.addWidget(self.data, 2)
        self.setup_page = setup
        self.curves = CurvesView()
        self.live = LiveView()
        self.boundary = BoundaryView()
        self.activations = ActivationsView()
        self.evaluation = EvaluationView()
        self.runs_view = RunsView(self.store)
        self.runs_view.csv_requested.connect(self.save_csv_dialog)
        self.pages = QTabWidget()
        self.pages.setObjectName("TrainingPages")
        self.pages.setDocumentMode(True)
        for widget, title in ((setup, "Setup"), (self.curves, "Curves"), (self.live, "Live"),
                              (self.boundary, "Decision boundary"),
                              (self.activations, "Activations"), (self.evaluation, "Evaluation"),
                              (self.runs_view, "Runs")):
            self.pages.addTab(widget, title)
        self.pages.currentChanged.connect(self._on_page_changed)
        self._show_live_tab()
        # the panel scrolls rather than setting a minimum size for the whole window: a
        # small window still fits, and the panel gets scroll bars until it is enlarged
        body = QWidget()
        body.setObjectName("TrainingBody")
        outer = QScrollArea()
        outer.setObjectName("TrainingScroll")
        outer.setWidgetResizable(True)
        outer.setFrameShape(QFrame.Shape.NoFrame)
        outer.setWidget(body)
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.addWidget(outer)
        self.body_scroll = outer
        layout = FillLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(strip)
        banners = QVBoxLayout()
        banners.setContentsMargins(6, 0, 6, 0)
        banners.setSpacing(3)
        banners.addWidget(self.lock_banner)
        banners.addWidget(self.error_banner)
        self.challenge = ChallengeView(self)  # the template's goal, then each run's verdict
        banners.addWidget(self.challenge)
        layout.addLayout(banners)
        layout.addWidget(self.pages, 1)
        self._style_panels(theme())

        self._repaint_timer = QTimer(self)
        self._repaint_timer.setSingleShot(True)
        self._repaint_timer.setInterval(REPAINT_MS)
        self._repaint_timer.timeout.connect(self._repaint)
        self._repainted_at = -float("inf")
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self._refresh_preview_when_shown)
        self._preview_for: Any = None
        self._preview_pending = False
        self._preview_timer.start()

        self.runner.updated.connect(self._on_batch)
        self.runner.state_changed.connect(self._on_state)
        self.runner.finished.connect(self._on_finished)
        self.store.changed.connect(self._on_run_changed)
        session.lock_changed.connect(self._on_lock_changed)
        session.project_replaced.connect(self._on_project_replaced)
        THEMES.changed.connect(self._on_theme)
        self._on_lock_changed(session.locked, session.lock_reason)
        self._on_state("idle")

    # ================================================================ driving
    @property
    def is_running(self) -> bool:
        return self.runner.is_running

    def start(self) -> bool:
        """Prepare the current graph with the project's settings and train it.

        A project that cannot train as it stands (no dataset, a missing file, a graph
        with errors, an Input that does not fit the data) is reported in the panel and
        nothing starts.  Returns whether a run started.
        """
        if self.runner.is_running:
            return False
        self.error_banner.hide()
        project, graph = self.session.project, self.session.current_graph
        try:  # off the GUI thread, with a progress dialog and Cancel when it takes a while
            prepared = prepare_with_progress(
                self, lambda progress: prepare_run(project, graph=graph, progress=progress))
            if prepared is None:  # cancelled: nothing starts
                return False
        except RunSetupError as e:
            self.show_error(f"Cannot start training: {e}")
            return False
        except Exception as e:  # noqa: BLE001 (the person's graph: torch may refuse a layer)
            self.show_error(f"Cannot start training: {type(e).__name__}: {e}")
            return False
        return self.start_prepared(prepared)

    def start_each(self) -> bool:
        """Train each network of the project in turn, their runs overlaid (see
        :mod:`.train_each`); returns whether the first run started."""
        return self.train_each.start()

    def start_prepared(self, prepared: PreparedRun) -> bool:
        """Train an already prepared run (the graph, model, data and config)."""
        if self.runner.is_running:
            return False
        self.error_banner.hide()
        record = self.store.new_run(resolved_dataset(prepared.dataset), prepared.config.to_dict(),
                                    prepared.graph_snapshot)
        self.current = record
        self.prepared = prepared  # read by views that follow finished runs (Fairness)
        loaded = self.pending_weights.apply(prepared)  # weights loaded for this graph
        # the status bar says what runs now, not how the last run ended
        self.message.emit(f"{record.name}: {loaded}" if loaded else
                          f"{record.name}: training on {record.dataset.get('name')}…")
        self._show_data(prepared)
        self.evaluation.clear()
        self.activations.clear()
        self.live.clear()
        live = self._show_live_tab(prepared.config.recipe)
        self.curves.set_runs(record, [r for r in self.store.runs if r.overlay and r is not record])
        self.curves.set_epoch_span(prepared.config.epochs)  # axes laid out before the run
        n_classes = max(prepared.splits.info.n_classes, 1)
        self.session.set_locked(LOCK_REASON)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.status.setText(f"{record.name}: starting on {record.dataset.get('name')}…")
        if self.pages.currentWidget() is self.setup_page:
            self.pages.setCurrentWidget(self.live if live else self.curves)
        self._settle()
        try:
            self.runner.start(prepared, callbacks=list(self.extra_callbacks),
                              live={"class_rgb": class_rgb(n_classes), "lut": lut("viridis")})
        except Exception as e:  # noqa: BLE001 (a config the trainer refuses before it starts)
            self.session.set_locked("")
            record.finish(TrainResult("error", str(e)))
            self.store.touch(record)
            self.show_error(f"Cannot start training: {e}")
            return False
        return True

    def toggle_pause(self) -> None:
        if self.runner.state == "paused":
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        if self.runner.state == "running":
            self._pausing = True
            self.runner.pause()
            self._on_state(self.runner.state)

    def resume(self) -> None:
        self._pausing = False
        self.runner.resume()

    def stop(self) -> None:
        self._pausing = False
        self.runner.stop()

    def shutdown(self, ms: int = 5000) -> bool:
        """Stop a run and join its thread (bounded): for a closing window."""
        self._repaint_timer.stop()
        self._preview_timer.stop()
        return self.runner.shutdown(ms)

    def show_error(self, text: str) -> None:
        if text.startswith("Cannot start"):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("not started")
            self.status.setText("Nothing is training: fix what the red line says, then Train.")
            self.status.setToolTip("")
        self.error_banner.show_text(text)
        self.message.emit(text.splitlines()[0])

    def _on_state(self, state: str) -> None:
        if state != "running":
            self._pausing = False
        running = self.runner.is_running
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running and state != "stopping")
        self.pause_button.setEnabled(state in ("running", "paused") and not self._pausing)
        self.pause_button.setText("Resume" if state == "paused" else
                                  "Pausing…" if self._pausing else "Pause")
        self.settings.setEnabled(not running)
        if state == "paused":
            self.progress.setFormat("paused · " + self.progress.format())
            if self.current is not None:
                self.current.status = "paused"
                self.store.touch(self.current)
        elif state == "running" and self.current is not None and self.current.status == "paused":
            self.current.status = "running"
            self.store.touch(self.current)
        self.state_changed.emit("pausing" if self._pausing and state == "running" else state)

    def _on_finished(self, result: TrainResult) -> None:
        record = self.current
        if self.session.lock_reason == LOCK_REASON:
            self.session.set_locked("")
        if record is not None:
            record.finish(result)
            self.store.touch(record)
            self.curves.note_new_data()
        self._repaint()
        name = record.name if record is not None else "Run"
        if result.stopped_reason == "error":
            self.progress.setFormat("failed")
            self.status.setText(f"{name} failed (see above).")
            self.status.setToolTip(result.message)
            self.show_error(f"Training failed: {result.message}")
        else:
            summary = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.get("val", {}).items()
                                if k in ("loss", "accuracy", "r2"))
            self.progress.setFormat({"completed": "done", "stopped": "stopped",
                                     "early_stopping": "stopped early"}.get(result.stopped_reason,
                                                                            result.stopped_reason))
            self.status.setText(result.stopped_reason.replace("_", " ").capitalize()
                                + (f" · val {summary}" if summary else ""))
            self.status.setToolTip(result.message)
            self.message.emit(f"{name}: {result.message}")
        self.run_finished.emit(result)

    def _on_run_changed(self, record: RunRecord) -> None:
        self.curves.set_runs(self.current, [r for r in self.store.runs if r.overlay])
        self._schedule_repaint()

    def _on_lock_changed(self, locked: bool, reason: str) -> None:
        if locked:
            text = ("Editing is locked while training runs: the canvas shows exactly what "
                    "trains. Stop the run to edit." if reason == LOCK_REASON
                    else f"Editing is locked: {reason}")
            self.lock_banner.show_text(text)
        else:
            self.lock_banner.hide()

    def _on_project_replaced(self) -> None:
        # another project is open: its graph is not what trains, so end the run
        if self.runner.is_running:
            self.stop()
            self.message.emit("Training stopped: another project was opened.")
        self._preview_for = None
        self._preview_timer.start()
        self.live.clear()
        self._show_live_tab()

    def _on_theme(self, t: Theme) -> None:
        self.lock_banner.restyle(t)
        self.error_banner.restyle(t)
        self._style_panels(t)

    def _style_panels(self, t: Theme) -> None:
        # the settings scroll area would paint the platform's light background
        window, muted = t.colors.get("panel", "#25292f"), t.colors.get("muted", "#8c96a3")
        self.body_scroll.setStyleSheet(
            f"QScrollArea#TrainingScroll, QScrollArea#TrainingScroll > QWidget,"
            f" QWidget#TrainingBody {{ background: {window}; }}")
        self.settings_scroll.setStyleSheet(
            f"QScrollArea#TrainingSettingsScroll, QScrollArea#TrainingSettingsScroll > QWidget,"
            f" QWidget#TrainingSettings {{ background: {window}; }}"
            f" QWidget#TrainingSettings *:disabled {{ color: {muted}; }}")

    def _on_page_changed(self, _index: int) -> None:
        if self.pages.currentWidget() is self.setup_page:
            self.refresh_preview()  # nothing to do unless the data set changed meanwhile
        self._repaint()

    def _save_current_csv(self) -> None:
        self.save_csv_dialog(self.current)

    # ================================================================ data preview
    def _show_data(self, prepared: PreparedRun) -> None:
        view = preview(prepared.splits)
        view["feature_names"] = tuple(prepared.splits.info.feature_names)
        self.data.set_preview(view)
        self._set_boundary_data(view)
        self._preview_for = prepared.dataset

    def _set_boundary_data(self, view: dict[str, Any]) -> None:
        """The boundary page exists for 2-D points classified: hidden for other data."""
        self.boundary.set_data(view)
        shown = view.get("kind") == "points2d" and view.get("task") == "classification"
        self.pages.setTabVisible(self.pages.indexOf(self.boundary), shown)

    def _show_live_tab(self, recipe: str | None = None) -> bool:
        """Show the Live page only for recipes that draw something there."""
        if recipe is None:
            config = self.session.project.training.get("config", {})
            recipe = config.get("recipe", "classification") if isinstance(config, dict) else ""
        try:
            cls = recipe_class(recipe)
        except ConfigError:  # an unknown recipe is reported when training starts
            cls = Recipe
        shown = cls.preview is not Recipe.preview
        self.pages.setTabVisible(self.pages.indexOf(self.live), shown)
        return shown

    def _on_settings_changed(self) -> None:
        self._show_live_tab()
        if not self.runner.is_running:
            self._preview_timer.start()

    def _refresh_preview_when_shown(self) -> None:
        if not self.isVisible():
            # loading a data set pulls in scikit-learn and friends: not before the tab shows
            self._preview_pending = True
            return
        self.refresh_preview()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._preview_pending:
            self._preview_timer.start()

    def refresh_preview(self) -> None:
        """Load the chosen data set and show it (Setup page and the boundary's scatter).

        A person's own files are loaded only while the Setup page is in view (they can
        be large); a problem with the set-up is shown in place of the preview."""
        if self.runner.is_running:
            return
        self._preview_pending = False
        files_ok = self.pages.currentWidget() is self.setup_page
        spec, view, problem = preview_with_progress(self, self.session.project,
                                                    self._preview_for, files_ok)
        if problem:
            self.data.show_error(problem)
        elif view is not None:
            self.data.set_preview(view)
            self._set_boundary_data(view)
        if spec is not None:
            self._preview_for = spec
