"""Train each graph: the project's networks trained one after another, each as its own
run, their curves overlaid.

Some projects draw one network several times with one difference — the ``activations``
template holds the same MLP with sigmoid, tanh, ReLU and GELU — so that a person can
see the difference in one plot.  :class:`TrainEach` starts a run for each graph that
trains on its own with the project's recipe (a block graph, or the two graphs of a GAN,
do not), names each run after its graph ("MLP-relu (run 3)") and ticks it "overlay" as it
starts, so the Curves page ends with all of them on the same axes and the Runs page
lists them side by side.  Stopping a run, or a run that fails or cannot start, ends the
sequence there; the runs already done stay.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QPushButton

from nnstudio.graph.blocks import top_level_graphs
from nnstudio.graph.document import Graph, Project
from nnstudio.train import TrainResult
from nnstudio.train.errors import ConfigError
from nnstudio.train.project_run import RunSetupError, prepare_run, resolve_graphs, train_config
from nnstudio.train.recipes import recipe_class

from .prepare import is_busy, prepare_with_progress
from .runs import RunRecord

if TYPE_CHECKING:
    from .dock import TrainingDock

BUSY_RETRY_MS = 100


def graphs_to_train_each(project: Project) -> list[Graph]:
    """The graphs of ``project`` that its recipe trains one at a time: networks (graphs
    no block runs) for which the recipe picks a one-graph layout.  Empty when the
    settings name no usable recipe."""
    try:
        recipe = recipe_class(train_config(project).recipe)
    except (RunSetupError, ConfigError):
        return []
    out = []
    for graph in top_level_graphs(project):
        try:
            layout, _ = resolve_graphs(project, recipe, graph)
        except RunSetupError:
            continue
        if layout.single:
            out.append(graph)
    return out


class TrainEach(QObject):
    """The "Train each graph" button of ``dock`` and the sequence of runs it starts."""

    def __init__(self, dock: TrainingDock) -> None:
        super().__init__(dock)
        self._dock = weakref.ref(dock)
        self.queue: list[str] = []  # names of the graphs still to train
        self.records: list[RunRecord] = []  # the runs of the current (or last) sequence
        self.active = False
        self._naming: str | None = None  # graph name for the run being added
        self.button = QPushButton("Train each graph")
        self.button.setObjectName("TrainEachGraph")
        self.button.clicked.connect(self.start)
        dock.store.added.connect(self._on_added)
        dock.run_finished.connect(self._on_finished)
        dock.state_changed.connect(self.refresh)
        session = dock.session
        session.project_replaced.connect(self._on_project_replaced)
        session.undo_stack.indexChanged.connect(self.refresh)  # graphs or settings changed
        self.refresh()

    # ------------------------------------------------------------------ state
    @property
    def dock(self) -> TrainingDock:
        """The panel this belongs to (held weakly: the panel holds this, and a reference
        back would leave both to the cyclic collector)."""
        return self._dock()

    def refresh(self, *_args) -> None:
        """Show the button when the project has two or more networks to train."""
        names = [g.name for g in graphs_to_train_each(self.dock.session.project)]
        self.button.setVisible(len(names) >= 2)
        self.button.setEnabled(not self.dock.is_running)
        self.button.setToolTip(
            "Train every network of this project in turn, each as its own run, and overlay "
            f"their curves: {', '.join(names)}" if len(names) >= 2 else "")

    def _on_project_replaced(self) -> None:
        self.cancel()
        self.refresh()

    # ------------------------------------------------------------------ driving
    def start(self) -> bool:
        """Train each of the project's networks in turn; returns whether the first began."""
        if self.dock.is_running or self.active:
            return False
        graphs = graphs_to_train_each(self.dock.session.project)
        if len(graphs) < 2:
            self.dock.show_error("Cannot start training: “Train each graph” needs a project "
                                 "with two or more networks; this one has "
                                 f"{len(graphs) or 'none'} (press Train to train it)")
            return False
        self.queue = [g.name for g in graphs]
        self.records = []
        self.active = True
        return self._next()

    def cancel(self) -> None:
        """Train no further graph (the run in progress, if any, goes on)."""
        self.queue = []
        self.active = False

    def _next(self) -> bool:
        if not self.active:
            return False
        if not self.queue:
            self.active = False
            names = ", ".join(r.name for r in self.records)
            self.dock.message.emit(f"Trained each graph: {names} (overlaid on Curves)")
            return False
        if is_busy():  # the Setup page's preview is loading: try again in a moment
            QTimer.singleShot(BUSY_RETRY_MS, self._next)
            return True
        project = self.dock.session.project
        name = self.queue.pop(0)
        graph = project.graph(name)
        try:  # off the GUI thread, behind a progress dialog when it takes a while
            prepared = prepare_with_progress(
                self.dock, lambda progress: prepare_run(project, graph=graph, progress=progress))
        except RunSetupError as e:
            self.cancel()
            self.dock.show_error(f"Cannot start training graph '{name}': {e}")
            return False
        except Exception as e:  # noqa: BLE001 (the person's graph: torch may refuse a layer)
            self.cancel()
            self.dock.show_error(f"Cannot start training graph '{name}': "
                                 f"{type(e).__name__}: {e}")
            return False
        if prepared is None:  # the person cancelled the preparation
            self.cancel()
            return False
        self._naming = name
        try:
            started = self.dock.start_prepared(prepared)
        finally:
            self._naming = None
        if not started:
            self.cancel()
            return False
        record = self.dock.current
        if record is not None:
            self.records.append(record)
            self.dock.store.set_overlay(record, True)
        return True

    def _on_added(self, record: RunRecord) -> None:
        if self._naming is not None:
            # named before the curves take the name for their legend
            record.name = f"{self._naming} (run {record.index})"

    def _on_finished(self, result: TrainResult) -> None:
        if not self.active:
            return
        if result.stopped_reason in ("stopped", "error"):
            done = len(self.records)
            self.cancel()
            self.dock.message.emit(f"Train each graph ended after {done} run"
                                   f"{'s' * (done != 1)}: the last one {result.stopped_reason}")
            return
        # after the other listeners of run_finished (Fairness, the status bar)
        QTimer.singleShot(0, self._next)
