"""The Fairness tab: how a trained model treats each group of a sensitive column.

After a run whose data set has a sensitive column, the view shows, on the test split,
for a classifier: per-group bars of accuracy, true-positive rate, false-positive rate
and selection rate; calibration by group; a confusion matrix per group; the fairness
gaps (demographic parity, equalised odds), each with its definition in a tooltip; and a
table that keeps every run of the session side by side — as trained and with
per-group thresholds chosen on validation, re-weighted or not — so accuracy can be
read against each gap.  For a regressor (diabetes by ``sex``): per-group errors (MAE,
RMSE, bias), predicted against true value by group, mean true value beside mean
prediction, and the gaps between the groups' errors.  The intended use of the model
is written in the tab (an undoable edit of the project); "Export model card…" writes
the card (Markdown or HTML).

The numbers come from :mod:`nnstudio.train.fairness_run` (no Qt there).  This module
composes the tab; the charts are in :mod:`.fairness_charts`, the gaps and the runs
table in :mod:`.fairness_runs`, the intended use and the card in :mod:`.fairness_card`.
:mod:`.fairness_install` mounts the tab (built with :func:`fairness_panel` when first
shown); a run reaches the view through :meth:`FairnessView.show_result`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nnstudio.train.fairness import DEFINITIONS
from nnstudio.train.fairness_run import FairnessEvaluation, evaluate_fairness

from .fairness_card import IntendedUseEdit, card_for_run
from .fairness_charts import FairnessCharts, rich
from .fairness_runs import FairRun, GapsPanel, RunsTable
from .theme import THEMES, Theme, theme

if TYPE_CHECKING:
    from nnstudio.export.model_card import ModelCard
    from nnstudio.train import TrainResult
    from nnstudio.train.project_run import PreparedRun

    from .main_window import MainWindow
    from .session import ProjectSession

__all__ = ["TAB_TITLE", "FairRun", "FairnessView", "fairness_panel"]

TAB_TITLE = "Fairness"
EMPTY_TEXT = ("Train a model on a data set with a sensitive column to see how it treats "
              "each group (try the fairness template, the 'sensitive' option of a built-in "
              "table such as diabetes, or of a CSV file).")


class FairnessView(QWidget):
    """Signals: ``message(str)`` for the status bar."""

    message = Signal(str)

    def __init__(self, session: ProjectSession | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FairnessView")
        self.session = session
        self.runs: list[FairRun] = []
        self.current: FairRun | None = None

        # ---- top: what is shown, and the card
        self.column_box = QComboBox()
        self.column_box.setObjectName("FairnessColumn")
        self.column_box.setToolTip("The sensitive column whose groups are compared")
        self.column_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.mode_box = QComboBox()
        self.mode_box.setObjectName("FairnessDecisions")
        self.mode_box.setToolTip(DEFINITIONS["thresholds"])
        self.summary = QLabel(EMPTY_TEXT)
        self.summary.setObjectName("FairnessSummary")
        self.summary.setProperty("role", "muted")
        self.summary.setWordWrap(True)
        self.card_button = QPushButton("Export model card…")
        self.card_button.setObjectName("ExportModelCard")
        self.card_button.setToolTip("Write a model card (Markdown or HTML): model, intended "
                                    "use, data, hyperparameters, overall and per-group "
                                    "metrics, fairness gaps, limitations")
        self.card_button.clicked.connect(self.export_card_dialog)
        top = QHBoxLayout()
        top.addWidget(QLabel("Column"))
        top.addWidget(self.column_box)
        top.addWidget(QLabel("Decisions"))
        top.addWidget(self.mode_box)
        top.addWidget(self.summary, 1)
        top.addWidget(self.card_button)

        # ---- the charts; the gaps, the runs side by side and the intended use
        self.charts = FairnessCharts(self)
        self.gaps = GapsPanel()
        self.table = RunsTable()
        self.intended_use: IntendedUseEdit | None = None
        bottom = QHBoxLayout()
        bottom.addWidget(self.gaps, 2)
        bottom.addWidget(self.table, 5)
        if session is not None:
            self.intended_use = IntendedUseEdit(session)
            self.intended_use.setMinimumWidth(180)
            use = QVBoxLayout()
            use.setSpacing(2)
            title = QLabel("<b>Intended use</b> (model card)")
            title.setToolTip(self.intended_use.placeholderText())
            use.addWidget(title)
            use.addWidget(self.intended_use, 1)
            bottom.addLayout(use, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.charts, 3)
        layout.addLayout(bottom, 2)

        self.table.currentCellChanged.connect(self._on_row)
        self.column_box.currentIndexChanged.connect(self._on_choice)
        self.mode_box.currentIndexChanged.connect(self._on_choice)
        THEMES.changed.connect(self._on_theme)
        self._set_enabled(False)

    # the parts, by the names the tests and the window know them
    @property
    def bars_plot(self) -> pg.PlotWidget:
        return self.charts.bars_plot

    @property
    def calib_plot(self) -> pg.PlotWidget:
        return self.charts.calib_plot

    @property
    def confusion(self) -> pg.GraphicsLayoutWidget:
        return self.charts.confusion

    @property
    def _texts(self) -> list[pg.TextItem]:
        return self.charts.texts

    @property
    def gap_labels(self) -> dict[str, tuple[QLabel, QLabel]]:
        return self.gaps.labels

    # ------------------------------------------------------------------ public
    def show_result(self, prepared: PreparedRun, result: TrainResult | None = None,
                    name: str | None = None) -> FairRun | None:
        """Evaluate a finished run per group and show it; returns what was kept.

        Call on the main thread once the run's thread has ended (the model is not
        training any more).  A failed run, or one that is neither a classifier nor a
        one-target regressor, shows nothing new; a data set without a sensitive column
        says so.
        """
        if result is not None and result.stopped_reason == "error":
            return None
        try:
            evaluations = evaluate_fairness(prepared.model, prepared.splits, prepared.config)
        except Exception as e:  # noqa: BLE001 (the person's model: report it, never crash)
            self.message.emit(f"Fairness: cannot evaluate the run ({type(e).__name__}: {e})")
            return None
        run = FairRun(name or f"Run {len(self.runs) + 1}", evaluations, prepared, result)
        if not evaluations:
            self.summary.setText(f"{rich(run.name)}: its data set has no sensitive column. "
                                 + EMPTY_TEXT)
            return run
        return self.add_run(run)

    def show_evaluations(self, evaluations: list[FairnessEvaluation],
                         name: str | None = None) -> FairRun:
        """Show evaluations made elsewhere (a run folder's fairness.json, a test)."""
        return self.add_run(FairRun(name or f"Run {len(self.runs) + 1}", list(evaluations)))

    def add_run(self, run: FairRun) -> FairRun:
        self.runs.append(run)
        self.current = run
        self.table.add_run(run)
        # the table compares a classifier's mitigations: none to show for regressors only
        self.table.setVisible(self.table.rowCount() > 0)
        self._fill_choices(run)
        self._set_enabled(True)
        self.refresh()
        return run

    def report(self) -> Any:
        """The report on screen (column and decisions chosen in the boxes): a
        FairnessReport, or a RegressionFairnessReport for a regressor; None before a run."""
        run = self.current
        if run is None or not run.evaluations:
            return None
        ev = run.evaluations[max(0, self.column_box.currentIndex())]
        index = min(max(0, self.mode_box.currentIndex()), len(ev.reports) - 1)
        return ev.reports[index]

    def comparison_rows(self) -> list[dict[str, Any]]:
        return [row for run in self.runs for row in run.rows()]

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        report = self.report()
        if report is None:
            return
        run = self.current
        assert run is not None
        where = "validation" if report.split == "val" else report.split
        if run.regression:
            o = report.overall
            head = (f"<b>{rich(run.name)}</b> · {where} split · regression · MAE {o['mae']:.4g} · "
                    f"R² {o['r2']:.3f}")
        else:
            head = (f"<b>{rich(run.name)}</b> · {where} split · positive class "
                    f"'{rich(report.positive_name)}' · accuracy "
                    f"{report.overall['accuracy']:.3f}")
        thresholds = report.thresholds
        self.summary.setText(head + (" · thresholds " + ", ".join(
            f"{rich(g)} {t:.2f}" for g, t in thresholds.items()) if thresholds else ""))
        self.charts.draw(report)
        self.gaps.show_report(report)

    def _on_row(self, row: int, *_args) -> None:
        """Clicking a run in the table shows that run, with those decisions."""
        if not 0 <= row < len(self.table.row_keys):
            return
        run, index = self.table.row_keys[row]
        if run is not self.current:
            self.current = run
            self._fill_choices(run)
        self.mode_box.setCurrentIndex(index)
        self.refresh()

    def _fill_choices(self, run: FairRun) -> None:
        column, mode = self.column_box.currentText(), self.mode_box.currentText()
        for box, items, keep in (
                (self.column_box, [ev.column for ev in run.evaluations], column),
                (self.mode_box, [r.label for r in run.evaluations[0].reports], mode)):
            box.blockSignals(True)
            box.clear()
            box.addItems(items)
            if keep in items:
                box.setCurrentText(keep)
            box.blockSignals(False)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.column_box, self.mode_box, self.card_button):
            w.setEnabled(on)

    def _on_choice(self, *_args) -> None:
        self.refresh()

    def _on_theme(self, t: Theme) -> None:
        self.charts.restyle(t)
        self.refresh()

    # ------------------------------------------------------------------ model card
    def card(self, intended_use: str | None = None) -> ModelCard | None:
        """The model card of the run on screen (see :mod:`nnstudio.export.model_card`);
        ``intended_use`` None takes the project's."""
        if self.current is None or self.session is None:
            return None
        return card_for_run(self.current, self.session, self.comparison_rows(), intended_use)

    def export_card(self, path: str | Path, intended_use: str | None = None) -> Path | None:
        from nnstudio.export.model_card import write_card

        card = self.card(intended_use)
        if card is None:
            return None
        written = write_card(card, path)
        self.message.emit(f"Wrote the model card {written}")
        return written

    def export_card_dialog(self) -> None:
        """Ask where to write the card; it states the project's intended use (the field
        beside the runs), and says so when there is none yet."""
        if self.current is None or self.session is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export model card", "model-card.md",
                                              "Markdown (*.md);;HTML (*.html)")
        if not path:
            return
        try:
            self.export_card(path)
        except OSError as e:
            self.message.emit(f"Cannot write {path}: {e.strerror or e}")
            return
        if self.intended_use is not None and not self.intended_use.project_text().strip():
            self.message.emit(f"Wrote {path}; its intended use is empty — write it in the "
                              "Fairness tab and export again")


def _style_scroll(scroll: QScrollArea, t: Theme) -> None:
    # a scroll area paints the platform's light background, under the theme's light text
    back = t.colors.get("panel", "#25292f")
    scroll.setStyleSheet(f"QScrollArea#FairnessScroll, QScrollArea#FairnessScroll > QWidget, "
                         f"QWidget#FairnessView {{ background: {back}; }}")


def fairness_panel(window: MainWindow) -> tuple[QScrollArea, FairnessView]:
    """The Fairness tab's page (a scroll area) and the view in it, for ``window``; the
    tab itself is mounted, lazily, by :mod:`nnstudio.ui.fairness_install`."""
    view = FairnessView(window.session, window)
    # scrolled, so that the charts' minimum width never sets the window's
    scroll = QScrollArea()
    scroll.setObjectName("FairnessScroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(view)
    _style_scroll(scroll, theme())
    def restyle(t: Theme) -> None:
        _style_scroll(scroll, t)

    THEMES.changed.connect(restyle)
    # the theme outlives the tab: stop restyling a page Qt has deleted
    scroll.destroyed.connect(lambda *_: THEMES.changed.disconnect(restyle))
    view.message.connect(window.show_message)
    return scroll, view
