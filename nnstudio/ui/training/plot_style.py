"""How the training plots look: colours for classes and runs, colour maps, and a plot
widget styled from the current theme (and restyled when the theme changes)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QWidget

from ..theme import THEMES, Theme, theme

# Tableau 10: distinguishable on dark and light backgrounds, and by most colour-blind eyes
CLASS_HEX = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
             "#ff9da7", "#9c755f", "#bab0ac")
# runs: bright enough for thin lines on the dark panel, distinct from one another
RUN_HEX = ("#4c9bff", "#ffb347", "#58d68d", "#ff6b6b", "#c792ea", "#4dd0e1", "#f06292",
           "#dce775", "#a1887f", "#90a4ae")
TICK_PT = 8
LABEL_PT = 9


def class_rgb(n: int = 10) -> np.ndarray:
    """(n, 3) uint8 class colours (cycling after ten)."""
    return np.array([QColor(CLASS_HEX[i % len(CLASS_HEX)]).getRgb()[:3] for i in range(max(n, 1))],
                    np.uint8)


def class_color(i: int) -> QColor:
    return QColor(CLASS_HEX[i % len(CLASS_HEX)])


def run_color(i: int) -> QColor:
    return QColor(RUN_HEX[i % len(RUN_HEX)])


@lru_cache(maxsize=4)
def lut(name: str = "viridis") -> np.ndarray:
    """(256, 4) uint8 lookup table of a pyqtgraph colour map."""
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.uint8)


def _font(pt: int) -> QFont:
    f = QFont()
    f.setPointSize(pt)
    return f


def style_plot(plot: pg.PlotWidget | pg.PlotItem, t: Theme | None = None) -> None:
    """Colours, fonts and grid of ``plot`` from theme ``t`` (default: the current one)."""
    t = t or theme()
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    if isinstance(plot, pg.PlotWidget):
        plot.setBackground(t.colors.get("panel", "#25292f"))
    text, muted = t.colors.get("text", "#ddd"), t.colors.get("muted", "#999")
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(muted))
        axis.setTextPen(pg.mkPen(muted))
        axis.setTickFont(_font(TICK_PT))
        # "loss (x0.001)" reads worse than 0.001 on the ticks; clearing the enabling ranges
        # first also drops a scale already chosen (else a restyle can freeze "x1000")
        axis.setSIPrefixEnableRanges(())
        axis.enableAutoSIPrefix(False)
        if axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits or None,
                          **{"color": text, "font-size": f"{LABEL_PT}pt"})
    item.titleLabel.setAttr("color", text)
    item.titleLabel.setAttr("size", f"{LABEL_PT + 1}pt")
    if item.titleLabel.text:
        item.setTitle(item.titleLabel.text)
    grid = getattr(plot, "nn_grid", True)  # a heat map (confusion matrix) wants none
    item.showGrid(x=grid, y=grid, alpha=0.18)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(text)
        legend.setBrush(pg.mkBrush(QColor(t.colors.get("window", "#1e2126")).darker(105)))
        legend.setPen(pg.mkPen(t.colors.get("border", "#444")))


def cache_decorations(plot: pg.PlotWidget) -> None:
    """Render the axes (with their grid lines) and the legend to pixmaps, redrawn only
    when they change: a curve update then repaints without running their Python paint."""
    item = plot.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    if item.legend is not None:
        item.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def make_plot(parent: QWidget | None, title: str, x_label: str, y_label: str,
              legend: bool = False) -> pg.PlotWidget:
    """A plot widget styled from the current theme; its owner restyles it on theme
    changes (see :class:`PlotPanel`).  The context menu (export, axes) works as usual."""
    plot = pg.PlotWidget(parent)
    item = plot.getPlotItem()
    item.setTitle(title)
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.hideButtons()
    if legend:
        item.addLegend(offset=(-6, 6), labelTextSize=f"{TICK_PT}pt", verSpacing=-4)
    plot.setMinimumSize(120, 90)
    style_plot(plot)
    cache_decorations(plot)
    return plot


class PlotPanel(QWidget):
    """A widget holding plots: ``add_plot`` makes them, theme changes restyle them, and
    ``dirty`` + :meth:`refresh` let an owner repaint at a bounded rate, only when needed
    and only while the panel is visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots: list[pg.PlotWidget] = []
        self.dirty = False
        THEMES.changed.connect(self._on_theme)

    def add_plot(self, title: str, x_label: str, y_label: str,
                 legend: bool = False, grid: bool = True) -> pg.PlotWidget:
        plot = make_plot(self, title, x_label, y_label, legend)
        if not grid:
            plot.nn_grid = False
            style_plot(plot)
        self.plots.append(plot)
        return plot

    def refresh(self) -> None:
        """Push pending data to the plots (override); called by the owner's timer."""
        self.dirty = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.dirty:
            self.refresh()

    def _on_theme(self, t: Theme) -> None:
        for plot in self.plots:
            style_plot(plot, t)


def set_ticks(axis: pg.AxisItem, labels: list[str]) -> None:
    """Name integer positions 0..n-1 on ``axis`` (class names, layer names)."""
    axis.setTicks([[(i, s) for i, s in enumerate(labels)], []])
