"""The Fairness tab's pictures: one report drawn as three charts.

For a classifier: per-group bars of accuracy, TPR, FPR and selection rate; calibration
by group; a confusion matrix per group.  For a regressor: per-group bars of MAE, RMSE
and bias; predicted against true value, coloured by group; and each group's mean true
value beside its mean prediction.  Every chart carries its definitions as a tooltip.
No state of its own beyond the plot items: :meth:`FairnessCharts.draw` redraws all.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QWidget

from nnstudio.train.fairness import DEFINITIONS, FairnessReport
from nnstudio.train.fairness_regression import RegressionFairnessReport, is_regression

from .theme import Theme, theme

# groups: colour-blind-safe (Okabe-Ito), distinct on the dark and the light panel
GROUP_HEX = ("#56b4e9", "#e69f00", "#009e73", "#cc79a7", "#f0e442", "#0072b2", "#d55e00")
BAR_METRICS = (("accuracy", "accuracy"), ("tpr", "TPR"), ("fpr", "FPR"),
               ("selection_rate", "selection rate"))
ERROR_METRICS = (("mae", "MAE"), ("rmse", "RMSE"), ("bias", "bias"))


def _font(points: int) -> QFont:
    font = QFont()
    font.setPointSize(points)
    return font


_SMALL = _font(7)


def group_color(i: int) -> QColor:
    return QColor(GROUP_HEX[i % len(GROUP_HEX)])


def rich(text: str, limit: int = 0) -> str:
    """``text`` for a label that reads HTML (legends, titles, tooltips): a group named
    "age < 50" must not open a tag.  ``limit`` > 0 shortens it to its last ``limit``
    characters ("…ius < 13.4"): group names differ at their end."""
    if limit and len(text) > limit:
        text = "…" + text[len(text) - limit + 1:]
    return html.escape(text, quote=False)


def make_plot(parent: QWidget, title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(parent)
    item = plot.getPlotItem()
    item.setTitle(title)
    if x_label:
        item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.hideButtons()
    item.setMouseEnabled(False, False)
    plot.setMinimumSize(180, 150)
    style_plot(plot, theme())
    return plot


def style_plot(plot: pg.PlotWidget, t: Theme) -> None:
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


class FairnessCharts(QWidget):
    """The three charts side by side: ``bars_plot``, ``calib_plot`` (calibration, or
    predicted against true for a regressor) and ``confusion`` (confusion matrices, or
    mean true value against mean prediction)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.texts: list[pg.TextItem] = []  # the confusion matrices' counts
        self.bars_plot = make_plot(self, "Per-group rates (test split)", "", "rate")
        self.legend = self.bars_plot.getPlotItem().addLegend(offset=(-4, 4),
                                                             labelTextSize="8pt")
        self.calib_plot = make_plot(self, "Calibration by group", "mean score",
                                    "share positive")
        self.calib_legend = self.calib_plot.getPlotItem().addLegend(offset=(4, 4),
                                                                    labelTextSize="8pt")
        self.confusion = pg.GraphicsLayoutWidget()
        self.confusion.setObjectName("GroupConfusion")
        self.confusion.setMinimumSize(200, 150)
        self.confusion.setBackground(theme().colors.get("panel", "#25292f"))
        self._set_kind("classification")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bars_plot, 3)
        row.addWidget(self.calib_plot, 2)
        row.addWidget(self.confusion, 3)

    # ------------------------------------------------------------------ public
    def draw(self, report: FairnessReport | RegressionFairnessReport) -> None:
        """Draw ``report`` (a classifier's or a regressor's) in all three charts."""
        if is_regression(report):
            self._set_kind("regression")
            self._draw_errors(report)
            self._draw_scatter(report)
            self._draw_means(report)
        else:
            self._set_kind("classification")
            self._draw_bars(report)
            self._draw_calibration(report)
            self._draw_confusion(report)

    def restyle(self, t: Theme) -> None:
        for plot in (self.bars_plot, self.calib_plot):
            style_plot(plot, t)
        self.confusion.setBackground(t.colors.get("panel", "#25292f"))

    # ------------------------------------------------------------------ layout per kind
    def _set_kind(self, kind: str) -> None:
        bars, calib = self.bars_plot.getPlotItem(), self.calib_plot.getPlotItem()
        metrics = ERROR_METRICS if kind == "regression" else BAR_METRICS
        bars.getAxis("bottom").setTicks([[(i, label) for i, (_, label) in enumerate(metrics)],
                                         []])
        self.bars_plot.setXRange(-0.6, len(metrics) - 0.4, padding=0)
        if kind == "regression":
            bars.setTitle("Per-group error (test split)")
            bars.setLabel("left", "target units")
            calib.setTitle("Predicted vs true")
            calib.setLabel("bottom", "true value")
            calib.setLabel("left", "prediction")
            self.calib_plot.setToolTip(DEFINITIONS["scatter"])
            self.confusion.setToolTip(DEFINITIONS["mean_target"] + "<br>"
                                      + DEFINITIONS["mean_prediction"] + "<br><br>"
                                      + DEFINITIONS["mean_prediction_difference"])
        else:
            bars.setTitle("Per-group rates (test split)")
            bars.setLabel("left", "rate")
            self.bars_plot.setYRange(0, 1.05, padding=0)
            self.bars_plot.setToolTip("<br><br>".join(DEFINITIONS[k] for k, _ in BAR_METRICS))
            calib.setLabel("bottom", "mean score")
            calib.setLabel("left", "share positive")
            self.calib_plot.setToolTip(DEFINITIONS["calibration"])
            self.calib_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.03)
            self.confusion.setToolTip(DEFINITIONS["confusion"])

    def _grouped_bars(self, rows: list, metrics: tuple) -> None:
        plot = self.bars_plot.getPlotItem()
        for child in [c for c in plot.items if isinstance(c, pg.BarGraphItem)]:
            plot.removeItem(child)
        self.legend.clear()
        width = 0.8 / max(len(rows), 1)
        for i, group in enumerate(rows):
            xs = np.arange(len(metrics)) - 0.4 + width * (i + 0.5)
            heights = [getattr(group, key) for key, _ in metrics]
            color = group_color(i)
            bars = pg.BarGraphItem(x=xs, height=heights, width=width * 0.92,
                                   brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(130)))
            plot.addItem(bars)
            self.legend.addItem(bars, rich(f"{group.name} (n={group.n})"))
        tips = [DEFINITIONS[key] + "<br>" + ", ".join(
            f"{rich(g.name)}: {getattr(g, key):.3f}" for g in rows) for key, _ in metrics]
        self.bars_plot.setToolTip("<br><br>".join(tips))

    # ------------------------------------------------------------------ a classifier
    def _draw_bars(self, report: FairnessReport) -> None:
        self._grouped_bars(report.groups, BAR_METRICS)

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
            self.calib_legend.addItem(line, rich(group.name))
            drawn = True
        plot.setTitle("Calibration by group" if drawn else
                      "Calibration by group (needs two classes)")

    def _confusion_plot(self, col: int, title: str) -> pg.PlotItem:
        t = theme()
        plot = self.confusion.addPlot(row=0, col=col)
        plot.setTitle(title, color=t.colors.get("text", "#ddd"), size="9pt")
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        return plot

    def _style_axes(self, plot: pg.PlotItem) -> None:
        t = theme()
        for side in ("bottom", "left"):
            axis = plot.getAxis(side)
            axis.setTickFont(_SMALL)
            axis.setTextPen(pg.mkPen(t.colors.get("text", "#ddd")))
            axis.setPen(pg.mkPen(t.colors.get("muted", "#999")))

    def _draw_confusion(self, report: FairnessReport) -> None:
        layout = self.confusion
        layout.clear()
        self.texts = []
        t = theme()
        layout.setBackground(t.colors.get("panel", "#25292f"))
        text_color = t.colors.get("text", "#ddd")
        cmap = pg.colormap.get("viridis")
        names = [c if len(c) <= 9 else c[:8] + "…" for c in report.classes]
        for i, group in enumerate(report.groups):
            cm = np.asarray(group.confusion, dtype=np.float64)
            k = cm.shape[0]
            share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            plot = self._confusion_plot(i, f"<span style='color:{group_color(i).name()}'>■"
                                           f"</span> {rich(group.name, 16)}")
            plot.invertY(True)
            plot.setAspectLocked(True)
            image = pg.ImageItem(axisOrder="row-major")
            image.setImage(share.astype(np.float32), levels=(0.0, 1.0))
            image.setLookupTable(cmap.getLookupTable(0.0, 1.0, 256))
            image.setRect(QRectF(-0.5, -0.5, k, k))
            plot.addItem(image)
            ticks = [[(j, names[j] if j < len(names) else str(j)) for j in range(k)], []]
            self._style_axes(plot)
            for side, label in (("bottom", "predicted"), ("left", "true" if i == 0 else "")):
                axis = plot.getAxis(side)
                axis.setTicks(ticks)
                if label:
                    axis.setLabel(label, color=text_color)
            for r in range(k):
                for c in range(k):
                    light = share[r, c] > 0.55  # viridis turns light: dark text there
                    item = pg.TextItem(str(int(cm[r, c])), anchor=(0.5, 0.5),
                                       color="#1e2126" if light else "#f0f0f0")
                    item.setPos(c, r)
                    plot.addItem(item)
                    self.texts.append(item)
            plot.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0.02)

    # ------------------------------------------------------------------ a regressor
    def _draw_errors(self, report: RegressionFairnessReport) -> None:
        self._grouped_bars(report.groups, ERROR_METRICS)
        values = [getattr(g, k) for g in report.groups for k, _ in ERROR_METRICS] or [1.0]
        lo, hi = min(0.0, min(values)), max(0.0, max(values))
        pad = 0.08 * ((hi - lo) or 1.0)
        self.bars_plot.setYRange(lo - (pad if lo < 0 else 0), hi + pad, padding=0)

    def _draw_scatter(self, report: RegressionFairnessReport) -> None:
        plot = self.calib_plot.getPlotItem()
        plot.clear()
        self.calib_legend.clear()
        points = report.points
        t = np.asarray(points.get("target", []), dtype=np.float64)
        p = np.asarray(points.get("prediction", []), dtype=np.float64)
        g = np.asarray(points.get("group", []), dtype=np.int64)
        if len(t):
            lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
            muted = theme().colors.get("muted", "#999")
            plot.plot([lo, hi], [lo, hi], pen=pg.mkPen(muted, style=Qt.PenStyle.DashLine))
            plot.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.04)
        for i, group in enumerate(report.groups):
            m = g == group.code
            color = group_color(i)
            dots = plot.plot(t[m], p[m], pen=None, symbol="o", symbolSize=5,
                             symbolBrush=pg.mkBrush(color), symbolPen=None)
            self.calib_legend.addItem(dots, rich(group.name))
        plot.setTitle("Predicted vs true" if len(t) else "Predicted vs true (no examples)")

    def _draw_means(self, report: RegressionFairnessReport) -> None:
        layout = self.confusion
        layout.clear()
        self.texts = []
        layout.setBackground(theme().colors.get("panel", "#25292f"))
        plot = self._confusion_plot(0, "Mean true (outline) vs mean predicted (filled)")
        self._style_axes(plot)
        plot.showGrid(x=False, y=True, alpha=0.18)
        for i, group in enumerate(report.groups):
            color = group_color(i)
            true = pg.BarGraphItem(x=[i - 0.2], height=[group.mean_target], width=0.36,
                                   brush=pg.mkBrush(color.red(), color.green(), color.blue(), 70),
                                   pen=pg.mkPen(color))
            pred = pg.BarGraphItem(x=[i + 0.2], height=[group.mean_prediction], width=0.36,
                                   brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(130)))
            plot.addItem(true)
            plot.addItem(pred)
        plot.getAxis("bottom").setTicks([[(i, g.name) for i, g in enumerate(report.groups)],
                                         []])
        plot.setXRange(-0.6, max(len(report.groups), 1) - 0.4, padding=0)
