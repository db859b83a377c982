"""How the training plots look: colours for classes and runs, colour maps, and a plot
widget styled from the current theme (and restyled when the theme changes)."""

from __future__ import annotations

import weakref
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsView, QWidget

from ..theme import THEMES, Theme, theme
from . import svg_export

# Tableau 10: distinguishable on dark and light backgrounds, and by most colour-blind eyes
CLASS_HEX = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
             "#ff9da7", "#9c755f", "#bab0ac")
# runs: bright enough for thin lines on the dark panel, distinct from one another
RUN_HEX = ("#4c9bff", "#ffb347", "#58d68d", "#ff6b6b", "#c792ea", "#4dd0e1", "#f06292",
           "#dce775", "#a1887f", "#90a4ae")
TICK_PT = 8
LABEL_PT = 9
GRID_ALPHA = 0.18  # major grid lines; minor ones are half as strong

svg_export.install()  # every plot's Export… menu: an SVG exporter that works with Qt 6


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
    GridLines.of(item).set_color(QColor(muted))
    item.showGrid(x=grid, y=grid, alpha=GRID_ALPHA)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(text)
        back = QColor(t.colors.get("window", "#1e2126")).darker(105)
        back.setAlpha(200)  # the curves stay visible under the legend
        legend.setBrush(pg.mkBrush(back))
        legend.setPen(pg.mkPen(t.colors.get("border", "#444")))


class GridLines:
    """A plot's grid as two plain ``QGraphicsPathItem`` in its view (major and minor
    lines), rebuilt only when the view's range or size changes.

    pyqtgraph draws the grid as part of each axis, which makes every axis picture — and
    its cached pixmap — as large as the whole plot: each curve update then blends those
    plot-sized pixmaps again, memory traffic that slows a training thread running on
    the next core by several per cent.  These lines are painted by Qt alone, touching
    only their own pixels.  The plot's context menu (Grid: show X / Y, opacity) drives
    them as it drove the axis grid.
    """

    def __init__(self, item: pg.PlotItem) -> None:
        # weak: the plot keeps its grid, and a cycle through a Qt wrapper would leave the
        # plot to the cyclic collector (which may run it on any thread)
        self._plot = weakref.ref(item)
        view = item.getViewBox()
        self._paths = [QGraphicsPathItem(view.childGroup) for _level in range(2)]
        for path in self._paths:
            path.setZValue(-1e6)  # under everything the plot shows
        self._color = QColor("#999")
        self._show = (False, False)
        self._alpha = GRID_ALPHA
        view.sigRangeChanged.connect(self.rebuild)
        view.sigResized.connect(self.rebuild)
        ctrl = item.ctrl  # the context menu's Grid group; pyqtgraph's own slot runs first
        ctrl.xGridCheck.toggled.connect(self._from_menu)
        ctrl.yGridCheck.toggled.connect(self._from_menu)
        ctrl.gridAlphaSlider.valueChanged.connect(self._from_menu)

    @classmethod
    def of(cls, item: pg.PlotItem) -> GridLines:
        """The grid of ``item``, made on first use."""
        grid = getattr(item, "_nn_grid_lines", None)
        if grid is None:
            grid = item._nn_grid_lines = cls(item)
        return grid

    @property
    def shown(self) -> tuple[bool, bool]:
        """(vertical lines at the x ticks, horizontal lines at the y ticks)."""
        return self._show

    def set_color(self, color: QColor) -> None:
        self._color = QColor(color)
        self._restyle()

    def _from_menu(self, *_args) -> None:
        item = self._plot()
        if item is None:
            return
        ctrl = item.ctrl
        for name in ("top", "bottom", "left", "right"):
            item.getAxis(name).setGrid(False)  # ours instead of the axes' own
        self._show = (ctrl.xGridCheck.isChecked(), ctrl.yGridCheck.isChecked())
        self._alpha = ctrl.gridAlphaSlider.value() / max(1, ctrl.gridAlphaSlider.maximum())
        self._restyle()
        self.rebuild()

    def _restyle(self) -> None:
        for level, path in enumerate(self._paths):
            color = QColor(self._color)
            color.setAlphaF(min(1.0, self._alpha / (level + 1)))
            pen = QPen(color)
            pen.setCosmetic(True)  # one pixel wide at any zoom
            pen.setWidth(0)
            path.setPen(pen)

    def rebuild(self, *_args) -> None:
        item = self._plot()
        if item is None:
            return
        view = item.getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        paths = [QPainterPath() for _ in self._paths]
        for shown, axis, lo, hi, pixels, vertical in (
                (self._show[0], item.getAxis("bottom"), x0, x1, view.width(), True),
                (self._show[1], item.getAxis("left"), y0, y1, view.height(), False)):
            if not shown or pixels <= 0 or not hi > lo:
                continue
            fixed = getattr(axis, "_tickLevels", None)  # named ticks (set_ticks) win
            levels = ([(None, [v for v, _name in level]) for level in fixed] if fixed
                      else axis.tickValues(lo, hi, pixels))
            for path, (_spacing, values) in zip(paths, levels):
                for v in values:
                    if lo <= v <= hi:
                        path.moveTo(v, y0) if vertical else path.moveTo(x0, v)
                        path.lineTo(v, y1) if vertical else path.lineTo(x1, v)
        for path_item, path in zip(self._paths, paths):
            path_item.setPath(path)


def cache_decorations(plot: pg.PlotWidget) -> None:
    """Render the axes (with their grid lines) and the legend to pixmaps, redrawn only
    when they change: a curve update then repaints without running their Python paint."""
    item = plot.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    if item.legend is not None:
        item.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class _PrepareBeforePaint(QObject):
    """Event filter on a plot's viewport: lets pyqtgraph's items prepare (view matrices,
    auto-range) just before Qt paints — the job pyqtgraph's ``paintEvent`` does."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.parent().scene().prepareForPaint()
        return False


class PlotView(pg.PlotWidget):
    """A ``pg.PlotWidget`` whose paint does not hold Python's GIL.

    pyqtgraph's ``GraphicsView.paintEvent`` is a Python override that prepares the
    scene and calls Qt's.  PySide holds the GIL for as long as a Python override runs,
    so Qt's whole C++ render of the plot ran with the GIL held, and a training thread,
    which needs the GIL between any two tensor operations, waited for every repaint.
    Here Qt's own ``paintEvent`` is restored (PySide then calls it without Python) and
    the preparation runs in an event filter, which returns before Qt paints: the GIL is
    taken only for the Python ``paint`` of pyqtgraph's items.
    """

    paintEvent = QGraphicsView.paintEvent

    def __init__(self, parent: QWidget | None = None, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self._prepare = _PrepareBeforePaint(self)
        self.viewport().installEventFilter(self._prepare)


def make_plot(parent: QWidget | None, title: str, x_label: str, y_label: str,
              legend: bool = False) -> pg.PlotWidget:
    """A plot widget styled from the current theme; its owner restyles it on theme
    changes (see :class:`PlotPanel`).  The context menu (export, axes) works as usual."""
    plot = PlotView(parent)
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
