"""The Fairness tab: how a trained classifier treats each group of a sensitive column.

After a run whose data set has a sensitive column, the view shows, on the test split:
per-group bars of accuracy, true-positive rate, false-positive rate and selection
rate; calibration by group; a confusion matrix per group; the fairness gaps
(demographic parity, equalised odds), each with its definition in a tooltip; and a
table that keeps every run of the session side by side — as trained and with
per-group thresholds chosen on validation, re-weighted or not — so accuracy can be
read against each gap.  "Export model card…" writes the card (Markdown or HTML).

The numbers come from :mod:`nnstudio.train.fairness_run` (no Qt there); this module
only draws them.  The window mounts the tab with :func:`install_fairness_view`; a run
reaches the view through :meth:`FairnessView.show_result`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.train.fairness import DEFINITIONS, GAP_TITLES, FairnessReport
from nnstudio.train.fairness_run import FairnessEvaluation, evaluate_fairness

from .theme import THEMES, Theme, theme

if TYPE_CHECKING:
    from nnstudio.train import TrainResult
    from nnstudio.train.project_run import PreparedRun

    from .main_window import MainWindow
    from .session import ProjectSession

TAB_TITLE = "Fairness"
# groups: colour-blind-safe (Okabe-Ito), distinct on the dark and the light panel
GROUP_HEX = ("#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#f0e442", "#0072b2", "#d55e00")
BAR_METRICS = (("accuracy", "accuracy"), ("tpr", "TPR"), ("fpr", "FPR"),
               ("selection_rate", "selection rate"))
GAPS_SHOWN = ("dp_difference", "dp_ratio", "eo_difference", "eo_ratio")
TABLE_COLUMNS = (("run", "run", ""), ("mitigation", "mitigation", ""),
                 ("accuracy", "accuracy", "accuracy"),
                 ("dp_difference", "DP difference", "dp_difference"),
                 ("dp_ratio", "DP ratio", "dp_ratio"),
                 ("eo_difference", "EO difference", "eo_difference"))
EMPTY_TEXT = ("Train a classifier on a data set with a sensitive column to see how it "
              "treats each group (try the fairness template, or a CSV file with the "
              "'sensitive' option).")


def _font(points: int) -> QFont:
    font = QFont()
    font.setPointSize(points)
    return font


_SMALL = _font(7)


def group_color(i: int) -> QColor:
    return QColor(GROUP_HEX[i % len(GROUP_HEX)])


def _warn(gap: str, value: float) -> bool:
    """Whether a gap is large enough to flag (rules of thumb, said in the tooltips)."""
    if gap.endswith("ratio"):
        return value < 0.8
    return value > 0.1


@dataclass
class FairRun:
    """One finished run as the view keeps it."""

    name: str
    evaluations: list[FairnessEvaluation]
    prepared: Any = None  # PreparedRun, for the model card
    result: Any = None  # TrainResult

    def rows(self) -> list[dict[str, Any]]:
        if not self.evaluations:
            return []
        ev = self.evaluations[0]
        base = "re-weighted" if ev.reweight == "group_label" else "unmitigated"
        out = []
        for report in ev.reports:
            how = base if report.label == "as trained" else f"{base} + {report.label}"
            out.append({"run": self.name, "mitigation": how,
                        "accuracy": report.overall["accuracy"], **report.gaps})
        return out


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
        self._texts: list[pg.TextItem] = []

        # ---- top: what is shown, and the card
        self.column_box = QComboBox()
        self.column_box.setObjectName("FairnessColumn")
        self.column_box.setToolTip("The sensitive column whose groups are compared")
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

        # ---- plots
        self.bars_plot = self._plot("Per-group rates (test split)", "", "rate")
        self.bars_plot.setToolTip("<br><br>".join(DEFINITIONS[k] for k, _ in BAR_METRICS))
        axis = self.bars_plot.getPlotItem().getAxis("bottom")
        axis.setTicks([[(i, label) for i, (_, label) in enumerate(BAR_METRICS)], []])
        self.bars_plot.setYRange(0, 1.05, padding=0)
        self.bars_plot.setXRange(-0.6, len(BAR_METRICS) - 0.4, padding=0)
        self.legend = self.bars_plot.getPlotItem().addLegend(offset=(-4, 4), labelTextSize="8pt")
        self.calib_plot = self._plot("Calibration by group", "mean score", "share positive")
        self.calib_plot.setToolTip(DEFINITIONS["calibration"])
        self.calib_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.03)
        self.calib_legend = self.calib_plot.getPlotItem().addLegend(offset=(4, 4),
                                                                     labelTextSize="8pt")
        self.confusion = pg.GraphicsLayoutWidget()
        self.confusion.setObjectName("GroupConfusion")
        self.confusion.setToolTip(DEFINITIONS["confusion"])
        self.confusion.setMinimumSize(200, 150)

        # ---- gaps and the runs side by side
        self.gap_labels: dict[str, tuple[QLabel, QLabel]] = {}
        gaps = QFrame()
        gaps.setObjectName("FairnessGaps")
        grid = QGridLayout(gaps)
        grid.setContentsMargins(6, 2, 6, 2)
        title = QLabel("<b>Gaps between groups</b>")
        title.setToolTip("Hover over a gap for its definition")
        grid.addWidget(title, 0, 0, 1, 2)
        for row, gap in enumerate(GAPS_SHOWN, start=1):
            name, value = QLabel(GAP_TITLES[gap]), QLabel("—")
            value.setObjectName(f"gap_{gap}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for label in (name, value):
                label.setToolTip(DEFINITIONS[gap])
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.gap_labels[gap] = (name, value)
        grid.setRowStretch(len(GAPS_SHOWN) + 1, 1)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("FairnessRuns")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for c, (_, header, definition) in enumerate(TABLE_COLUMNS):
            item = QTableWidgetItem(header)
            if definition:
                item.setToolTip(DEFINITIONS[definition])
            self.table.setHorizontalHeaderItem(c, item)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Every run of the session, as trained and with per-group "
                              "thresholds: read accuracy against each gap.<br><br>"
                              + DEFINITIONS["reweight"] + "<br><br>" + DEFINITIONS["thresholds"])

        plots = QHBoxLayout()
        plots.addWidget(self.bars_plot, 3)
        plots.addWidget(self.calib_plot, 2)
        plots.addWidget(self.confusion, 3)
        bottom = QHBoxLayout()
        bottom.addWidget(gaps, 2)
        bottom.addWidget(self.table, 5)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addLayout(plots, 3)
        layout.addLayout(bottom, 2)

        self._row_keys: list[tuple[FairRun, int]] = []  # table row -> (run, report index)
        self.table.currentCellChanged.connect(self._on_row)
        self.column_box.currentIndexChanged.connect(self._on_choice)
        self.mode_box.currentIndexChanged.connect(self._on_choice)
        THEMES.changed.connect(self._on_theme)
        self._set_enabled(False)

    # ------------------------------------------------------------------ public
    def show_result(self, prepared: PreparedRun, result: TrainResult | None = None,
                    name: str | None = None) -> FairRun | None:
        """Evaluate a finished run per group and show it; returns what was kept.

        Call on the main thread once the run's thread has ended (the model is not
        training any more).  A failed run, or one that is not a classifier, shows
        nothing new; a data set without a sensitive column says so.
        """
        if result is not None and result.stopped_reason == "error":
            return None
        try:
            evaluations = evaluate_fairness(prepared.model, prepared.splits, prepared.config)
        except Exception as e:  # the person's model: report it, never crash the window
            self.message.emit(f"Fairness: cannot evaluate the run ({type(e).__name__}: {e})")
            return None
        run = FairRun(name or f"Run {len(self.runs) + 1}", evaluations, prepared, result)
        if not evaluations:
            self.summary.setText(f"{run.name}: its data set has no sensitive column. "
                                 + EMPTY_TEXT)
            return run
        return self.add_run(run)

    def show_evaluations(self, evaluations: list[FairnessEvaluation],
                         name: str | None = None) -> FairRun:
        """Show evaluations made elsewhere (a run folder's fairness.json, a test)."""
        return self.add_run(FairRun(name or f"Run {len(self.runs) + 1}", list(evaluations)))

    def follow(self, dock: Any) -> None:
        """Show every run ``dock`` finishes: on ``dock.run_finished(result)`` the run's
        PreparedRun is read from ``dock.prepared`` and its name from ``dock.current``."""
        self._dock = dock
        dock.run_finished.connect(self._on_run_finished)

    def _on_run_finished(self, result: Any) -> None:
        dock = getattr(self, "_dock", None)
        prepared = getattr(dock, "prepared", None)
        if prepared is not None:
            self.show_result(prepared, result, getattr(getattr(dock, "current", None), "name",
                                                       None))

    def add_run(self, run: FairRun) -> FairRun:
        self.runs.append(run)
        self.current = run
        self._fill_rows(run)
        self._fill_choices(run)
        self._set_enabled(True)
        self.refresh()
        return run

    def report(self) -> FairnessReport | None:
        """The report on screen (column and decisions chosen in the boxes)."""
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
        self.summary.setText(
            f"<b>{run.name}</b> · {where} split · positive class '{report.positive_name}' · "
            f"accuracy {report.overall['accuracy']:.3f}"
            + (" · thresholds " + ", ".join(f"{g} {t:.2f}" for g, t in report.thresholds.items())
               if report.thresholds else ""))
        self._draw_bars(report)
        self._draw_calibration(report)
        self._draw_confusion(report)
        self._show_gaps(report)

    def _plot(self, title: str, x_label: str, y_label: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(self)
        item = plot.getPlotItem()
        item.setTitle(title)
        if x_label:
            item.setLabel("bottom", x_label)
        item.setLabel("left", y_label)
        item.hideButtons()
        item.setMouseEnabled(False, False)
        plot.setMinimumSize(180, 150)
        self._style(plot, theme())
        return plot

    def _style(self, plot: pg.PlotWidget, t: Theme) -> None:
        plot.setBackground(t.colors.get("panel", "#25292f"))
        item = plot.getPlotItem()
        text, muted = t.colors.get("text", "#ddd"), t.colors.get("muted", "#999")
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(text))
        item.titleLabel.setAttr("color", text)
        item.setTitle(item.titleLabel.text)
        item.showGrid(x=False, y=True, alpha=0.18)
        if item.legend is not None:
            item.legend.setLabelTextColor(text)

    def _draw_bars(self, report: FairnessReport) -> None:
        plot = self.bars_plot.getPlotItem()
        for child in [c for c in plot.items if isinstance(c, pg.BarGraphItem)]:
            plot.removeItem(child)
        self.legend.clear()
        n = max(len(report.groups), 1)
        width = 0.8 / n
        for i, group in enumerate(report.groups):
            xs = np.arange(len(BAR_METRICS)) - 0.4 + width * (i + 0.5)
            heights = [getattr(group, key) for key, _ in BAR_METRICS]
            color = group_color(i)
            bars = pg.BarGraphItem(x=xs, height=heights, width=width * 0.92,
                                   brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(130)))
            plot.addItem(bars)
            self.legend.addItem(bars, f"{group.name} (n={group.n})")
        tips = [DEFINITIONS[key] + "<br>" + ", ".join(
            f"{g.name}: {getattr(g, key):.3f}" for g in report.groups)
            for key, _ in BAR_METRICS]
        self.bars_plot.setToolTip("<br><br>".join(tips))

    def _draw_calibration(self, report: FairnessReport) -> None:
        plot = self.calib_plot.getPlotItem()
        plot.clear()
        self.calib_legend.clear()
        muted = theme().colors.get("muted", "#999")
        plot.plot([0, 1], [0, 1], pen=pg.mkPen(muted, style=Qt.PenStyle.DashLine))
        drawn = False
        for i, group in enumerate(report.groups):
            if not group.calibration:
                continue
            xs = [b["score"] for b in group.calibration]
            ys = [b["observed"] for b in group.calibration]
            color = group_color(i)
            line = plot.plot(xs, ys, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5,
                             symbolBrush=color, symbolPen=None)
            self.calib_legend.addItem(line, group.name)
            drawn = True
        plot.setTitle("Calibration by group" if drawn else
                      "Calibration by group (needs two classes)")

    def _draw_confusion(self, report: FairnessReport) -> None:
        layout = self.confusion
        layout.clear()
        self._texts = []
        t = theme()
        layout.setBackground(t.colors.get("panel", "#25292f"))
        text_color = t.colors.get("text", "#ddd")
        cmap = pg.colormap.get("viridis")
        names = [c if len(c) <= 9 else c[:8] + "…" for c in report.classes]
        for i, group in enumerate(report.groups):
            cm = np.asarray(group.confusion, dtype=np.float64)
            k = cm.shape[0]
            share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            plot = layout.addPlot(row=0, col=i)
            plot.setTitle(f"<span style='color:{group_color(i).name()}'>■</span> "
                          f"{group.name} (n={group.n})", color=text_color, size="9pt")
            plot.invertY(True)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setAspectLocked(True)
            image = pg.ImageItem(axisOrder="row-major")
            image.setImage(share.astype(np.float32), levels=(0.0, 1.0))
            image.setLookupTable(cmap.getLookupTable(0.0, 1.0, 256))
            image.setRect(QRectF(-0.5, -0.5, k, k))
            plot.addItem(image)
            ticks = [[(j, names[j] if j < len(names) else str(j)) for j in range(k)], []]
            for side, label in (("bottom", "predicted"), ("left", "true" if i == 0 else "")):
                axis = plot.getAxis(side)
                axis.setTicks(ticks)
                axis.setTickFont(_SMALL)
                axis.setTextPen(pg.mkPen(text_color))
                axis.setPen(pg.mkPen(t.colors.get("muted", "#999")))
                if label:
                    axis.setLabel(label, color=text_color)
            for r in range(k):
                for c in range(k):
                    light = share[r, c] > 0.55  # viridis turns light: dark text there
                    item = pg.TextItem(str(int(cm[r, c])), anchor=(0.5, 0.5),
                                       color="#1e2126" if light else "#f0f0f0")
                    item.setPos(c, r)
                    plot.addItem(item)
                    self._texts.append(item)
            plot.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0.02)

    def _show_gaps(self, report: FairnessReport) -> None:
        t = theme()
        for gap, (name, value) in self.gap_labels.items():
            v = report.gaps.get(gap, float("nan"))
            flag = _warn(gap, v)
            color = t.colors.get("error", "#e06c75") if flag else t.colors.get("text", "#ddd")
            value.setText(f"<span style='color:{color}'><b>{v:.3f}</b></span>")
            tip = DEFINITIONS[gap] + f"<br><br>Here: {v:.3f}" + (
                " — a large gap." if flag else ".")
            name.setToolTip(tip)
            value.setToolTip(tip)

    def _on_row(self, row: int, *_args) -> None:
        """Clicking a run in the table shows that run, with those decisions."""
        if not 0 <= row < len(self._row_keys):
            return
        run, index = self._row_keys[row]
        if run is not self.current:
            self.current = run
            self._fill_choices(run)
        self.mode_box.setCurrentIndex(index)
        self.refresh()

    def _fill_rows(self, run: FairRun) -> None:
        for index, row in enumerate(run.rows()):
            self._row_keys.append((run, index))
            r = self.table.rowCount()
            self.table.insertRow(r)
            for c, (key, _, _) in enumerate(TABLE_COLUMNS):
                value = row.get(key, "")
                text = f"{value:.3f}" if isinstance(value, float) else str(value)
                cell = QTableWidgetItem(text)
                if isinstance(value, float):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                    if key != "accuracy" and _warn(key, value):
                        cell.setForeground(QColor(theme().colors.get("error", "#e06c75")))
                self.table.setItem(r, c, cell)
        self.table.scrollToBottom()

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
        for plot in (self.bars_plot, self.calib_plot):
            self._style(plot, t)
        self.refresh()

    # ------------------------------------------------------------------ model card
    def card(self, intended_use: str | None = None):
        """The model card of the run on screen (see :mod:`nnstudio.export.model_card`)."""
        from nnstudio.export.model_card import card_from_results

        run = self.current
        if run is None or self.session is None:
            return None
        prepared, result = run.prepared, run.result
        kwargs: dict[str, Any] = {}
        if prepared is not None:
            splits = prepared.splits
            kwargs.update(graph=prepared.graph, dataset=prepared.dataset,
                          config=prepared.config.to_dict(),
                          examples={s: len(getattr(splits, s)) for s in ("train", "val", "test")},
                          dataset_description=splits.info.description)
        if result is not None:
            kwargs.update(metrics=result.metrics,
                          trained=f"{result.stopped_reason}: {result.message}")
        return card_from_results(self.session.project, fairness=run.evaluations,
                                 comparisons=self.comparison_rows(),
                                 intended_use=intended_use, **kwargs)

    def export_card(self, path: str | Path, intended_use: str | None = None) -> Path | None:
        from nnstudio.export.model_card import write_card

        card = self.card(intended_use)
        if card is None:
            return None
        written = write_card(card, path)
        self.message.emit(f"Wrote the model card {written}")
        return written

    def export_card_dialog(self) -> None:
        if self.current is None or self.session is None:
            return
        meta = self.session.project.meta.get("intended_use", "")
        text, ok = QInputDialog.getMultiLineText(
            self, "Model card", "Intended use: who should use this model, for what, and "
            "what it must not be used for", meta if isinstance(meta, str) else "")
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export model card", "model-card.md",
                                              "Markdown (*.md);;HTML (*.html)")
        if path:
            try:
                self.export_card(path, text.strip())
            except OSError as e:
                self.message.emit(f"Cannot write {path}: {e.strerror or e}")


def install_fairness_view(window: MainWindow) -> FairnessView:
    """Add the Fairness tab to ``window`` (as ``window.fairness_view``) and follow its
    training dock when there is one: when a run ends (``dock.run_finished``), the run's
    :class:`PreparedRun` is read from ``dock.prepared`` and shown."""
    view = FairnessView(window.session, window)
    # scrolled, so that the charts' minimum width never sets the window's
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(view)
    window.add_bottom_tab(scroll, TAB_TITLE)
    view.message.connect(window.show_message)
    dock = getattr(getattr(window, "training", None), "dock", None)
    if dock is not None and hasattr(dock, "run_finished"):
        view.follow(dock)
    window.fairness_view = view
    return view
