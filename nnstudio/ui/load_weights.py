"""File ▸ Load Weights…: a state-dict file loaded into the drawn network wherever names
and shapes fit, with a report of exactly what did not.

The graph in front is compiled (as a run compiles it) and
:func:`~nnstudio.graph.transfer.load_matching_weights` copies each tensor of the file
whose name and shape fit.  The report lists every tensor: loaded; kept (the model has
it, the file does not: a new head, say); not used (the file has it, the model does not);
and shapes that differ, with the model's shape beside the file's.  The tensors that fit
become the starting point of that graph's next training run: the Training panel loads
them into the freshly compiled model when it starts the run, and says so.

Files are read with ``weights_only=True`` (:func:`~nnstudio.graph.weights.load_weights`):
nothing in them runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..graph.codegen import CodegenError
from ..graph.document import Graph
from ..graph.transfer import WeightsReport, load_matching_weights
from ..graph.weights import WeightsError, load_weights
from .theme import theme

if TYPE_CHECKING:
    from nnstudio.train.project_run import PreparedRun

    from .main_window import MainWindow

FILE_FILTER = "PyTorch weights (*.pt *.pth *.bin);;All files (*)"
# report rows: what happened to a tensor, in the order the table lists them
MISMATCHED, MISSING, UNEXPECTED, LOADED = ("shapes differ: not loaded",
                                           "kept: not in the file",
                                           "not used: not in the model", "loaded")


@dataclass
class LoadedWeights:
    """What loading ``path`` into graph ``graph`` gave: the fitting tensors and the report,
    with every tensor's shape in the model and in the file (for the table)."""

    graph: str
    path: Path
    state: dict[str, Any]  # the file's tensors that fit (name -> tensor)
    report: WeightsReport
    model_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    file_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(tensor, shape in the model, shape in the file, what happened), problems first."""
        r = self.report

        def shape(table: dict, name: str) -> str:
            return str(list(table[name])) if name in table else "—"

        out = [(n, str(list(want)), str(list(got)), MISMATCHED) for n, want, got in r.mismatched]
        out += [(n, shape(self.model_shapes, n), "—", MISSING) for n in r.missing]
        out += [(n, "—", shape(self.file_shapes, n), UNEXPECTED) for n in r.unexpected]
        out += [(n, shape(self.model_shapes, n), shape(self.file_shapes, n), LOADED)
                for n in r.loaded]
        return out


def match_weights(graph: Graph, path: str | Path) -> LoadedWeights:
    """Load the weights file ``path`` into ``graph`` compiled; raises WeightsError (the
    file) or CodegenError (the graph cannot be built) with the reason."""
    path = Path(path)
    state = load_weights(path)
    from ..graph.compiler import compile_graph

    model = compile_graph(graph)
    model_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    report = load_matching_weights(model, state)
    return LoadedWeights(graph.name, path, {k: state[k] for k in report.loaded}, report,
                         model_shapes, {k: tuple(v.shape) for k, v in state.items()})


class PendingWeights(QObject):
    """Weights loaded for a graph, waiting for its next training run (one run each)."""

    def __init__(self, session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._by_graph: dict[str, LoadedWeights] = {}
        session.project_replaced.connect(self.clear)

    def set(self, loaded: LoadedWeights) -> None:
        self._by_graph[loaded.graph] = loaded

    def get(self, graph: str) -> LoadedWeights | None:
        return self._by_graph.get(graph)

    def clear(self) -> None:
        self._by_graph.clear()

    def apply(self, prepared: PreparedRun) -> str | None:
        """Load the weights waiting for the graphs ``prepared`` trains into their freshly
        compiled modules; a line saying what was loaded, or None when nothing waited.
        The graph may have changed since: what no longer fits is left as compiled."""
        from nnstudio.train.graph_set import GraphSet

        lines = []
        graphs = prepared.graphs or {"model": prepared.graph}
        for role, graph in graphs.items():
            loaded = self._by_graph.pop(graph.name, None)
            if loaded is None:
                continue
            module = prepared.model[role] if isinstance(prepared.model, GraphSet) \
                else prepared.model
            report = load_matching_weights(module, loaded.state)
            total = len(module.state_dict())
            lines.append(f"'{graph.name}' starts from {len(report.loaded)} of {total} tensors "
                         f"loaded from {loaded.path.name}")
        return "; ".join(lines) or None


class WeightsReportDialog(QDialog):
    """The report of one load: a summary line and one table row per tensor."""

    def __init__(self, loaded: LoadedWeights, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WeightsReportDialog")
        self.setWindowTitle(f"Weights from {loaded.path.name}")
        self.loaded = loaded
        r = loaded.report
        n_model = len(loaded.model_shapes)
        if r.loaded:
            head = (f"<b>{len(r.loaded)} of {n_model} tensors</b> of graph "
                    f"<b>{escape(loaded.graph)}</b> were loaded from "
                    f"<b>{escape(loaded.path.name)}</b>. The next training run of this graph "
                    "starts from them.")
        else:
            head = (f"Nothing in <b>{escape(loaded.path.name)}</b> fits graph "
                    f"<b>{escape(loaded.graph)}</b>: no tensor has a name and shape the model "
                    "uses. Nothing was loaded.")
        problems = []
        if r.mismatched:
            problems.append(f"{len(r.mismatched)} with other shapes")
        if r.missing:
            problems.append(f"{len(r.missing)} of the model's not in the file (they keep "
                            "their initial values)")
        if r.unexpected:
            problems.append(f"{len(r.unexpected)} in the file that the model does not have")
        detail = ("Not loaded: " + "; ".join(problems) + ".") if problems else \
            "Every tensor of the model came from the file, and the file had nothing else."
        self.summary = QLabel(f"{head}<br>{escape(detail)}")
        self.summary.setObjectName("WeightsReportSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("WeightsReportTable")
        self.table.setHorizontalHeaderLabels(("tensor", "in the model", "in the file", "result"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        colors = theme().colors
        tint = {MISMATCHED: QColor(colors.get("error", "#e06c75")),
                MISSING: QColor(colors.get("warning", "#e5c07b")),
                UNEXPECTED: QColor(colors.get("muted", "#8c96a3"))}
        for row, values in enumerate(loaded.rows()):
            self.table.insertRow(row)
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                color = tint.get(values[3])
                if color is not None:
                    item.setForeground(color)
                self.table.setItem(row, col, item)
        self.table.setCurrentItem(None)  # no cell looks picked out when the report opens
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy report", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setObjectName("CopyWeightsReport")
        copy.clicked.connect(self.copy_report)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def report_text(self) -> str:
        return (f"{self.loaded.path.name} into graph '{self.loaded.graph}':\n"
                + str(self.loaded.report))

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text())


def load_weights_into(window: MainWindow, path: str | Path) -> WeightsReportDialog | None:
    """Load ``path`` into the graph in front of ``window`` and show the report (not
    modal); the fitting tensors wait for that graph's next run.  A file or a graph that
    cannot be used is reported in a message box, and None returned."""
    graph = window.session.current_graph
    try:
        loaded = match_weights(graph, path)
    except WeightsError as e:
        QMessageBox.critical(window, "Cannot load the weights", str(e))
        return None
    except CodegenError as e:
        QMessageBox.critical(window, "Cannot load the weights",
                             f"Graph '{graph.name}' cannot be built as it stands, so nothing "
                             f"can be loaded into it:\n\n{e}")
        return None
    if loaded.report.loaded:
        window.training.dock.pending_weights.set(loaded)
    dialog = WeightsReportDialog(loaded, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    window.show_message(f"{len(loaded.report.loaded)} tensors of {Path(path).name} fit "
                        f"'{graph.name}'")
    return dialog


def open_load_weights(window: MainWindow) -> WeightsReportDialog | None:
    """Ask for a weights file, then :func:`load_weights_into` the graph in front."""
    session = window.session
    start = str(Path(session.path).parent) if session.path else str(Path.home())
    path, _ = QFileDialog.getOpenFileName(
        window, f"Load weights into '{session.current_graph.name}'", start, FILE_FILTER)
    return load_weights_into(window, path) if path else None
