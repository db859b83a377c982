"""A live curve that Qt paints without running Python.

pyqtgraph's ``PlotDataItem`` paints from Python: its ``paint`` holds the GIL while Qt
strokes the line, and its ``setData`` runs a few hundred microseconds of Python (clip,
downsample, path) before that.  The training thread needs the GIL between any two tensor
operations, so each millisecond the plots hold it is, about, a millisecond of training
lost.  Measured on a 450×300 plot with a 600-point curve, per update: ``setData`` and
repaint held the GIL 1.5–2.1 ms with ``PlotDataItem``, 0.5–0.8 ms with this item (the
rest is pyqtgraph's own view and axes, not the curve).

A :class:`PathCurve` is a plain ``QGraphicsPathItem`` in a plot's view.  No Qt virtual is
overridden in Python, so Qt draws it in C++.  :meth:`set_data` builds one
``QPainterPath`` (``pg.arrayToQPath``, peak-downsampled to about two points per pixel
when there are more), so a long run costs no more to draw than a short one.  Dots, when
asked for (validation points), are a child path of half-pixel strokes with round caps,
which Qt draws as discs: their length is in data units, so they are rebuilt when the
view's scale changes (also the only time downsampling needs to be redone).

It joins pyqtgraph where a plot needs it: it is a plot's data item (``implements
('plotData')``, ``name``, ``getData``: the legend entry and the context menu's CSV
export), with ``dataBounds`` ("View all"), ``setLogMode`` (the log y axis), ``setAlpha``
(the Alpha menu) and ``opts`` (the legend's sample).  The context menu's entries that
transform a ``PlotDataItem`` (FFT, derivative, averaging, pyqtgraph's downsampling) do
not apply to a training curve: :func:`fit_plot_menu` takes them off a plot.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

DOT_PX = 5.0  # diameter of a dot, in pixels
DOT_HALF_PX = 0.25  # half the length of the stroke that makes a dot
POINTS_PER_PIXEL = 2  # more than this many visible points per pixel column: downsampled


def _pen(color: QColor, width: float, dashed: bool = False) -> QPen:
    pen = QPen(QColor(color))
    pen.setWidthF(width)
    pen.setCosmetic(True)  # pixels, at any zoom
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def peak_downsample(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) with at most about ``POINTS_PER_PIXEL * columns`` points, keeping each
    chunk's lowest and highest y (so spikes stay visible, as in pyqtgraph's 'peak')."""
    n = len(x)
    limit = max(2, POINTS_PER_PIXEL * max(1, columns))
    if n <= limit:
        return x, y
    size = math.ceil(n / (limit // 2))  # points per chunk; each chunk gives two
    full = (n // size) * size
    chunks = y[:full].reshape(-1, size)
    xs = np.repeat(x[:full:size], 2)
    with np.errstate(invalid="ignore"):  # an all-NaN chunk stays NaN (a gap)
        ys = np.column_stack((np.fmin.reduce(chunks, axis=1), np.fmax.reduce(chunks, axis=1))).ravel()
    if full < n:  # the tail: the newest points, kept as they are
        xs, ys = np.concatenate((xs, x[full:])), np.concatenate((ys, y[full:]))
    return xs, ys


class PathCurve(QGraphicsPathItem):
    """One series of one run in a plot: a line, and dots at its points if asked for.

    ``x`` must not decrease (a training curve's steps or epochs); non-finite ``y`` (and,
    on a log axis, ``y`` ≤ 0) leave a gap.
    """

    def __init__(self, view: pg.ViewBox, color: QColor, width: float = 1.6, *,
                 dashed: bool = False, dots: bool = False, name: str | None = None) -> None:
        super().__init__()
        self._name = name
        self._view = weakref.ref(view)
        self._x = self._y = np.empty(0)
        self._log_y = False
        self.setPen(_pen(color, width, dashed))
        self.dots: QGraphicsPathItem | None = None
        if dots:  # a child: shown, hidden and removed with the line
            self.dots = QGraphicsPathItem(self)
            self.dots.setPen(_pen(color, DOT_PX))
        # what the legend's sample (pyqtgraph's ItemSample) draws: the line, and a dot
        # (and the keys pyqtgraph's exporters read from a PlotDataItem)
        self.opts = {"pen": self.pen(), "symbol": "o" if dots else None, "size": DOT_PX,
                     "brush": QColor(color), "antialias": pg.getConfigOption("antialias"),
                     "symbolPen": self.pen(), "symbolBrush": QColor(color),
                     "symbolSize": DOT_PX, "fillLevel": None, "fillBrush": None}
        me = weakref.ref(self)  # the view's signals must not keep a removed curve alive

        def rescaled(*_args) -> None:
            curve = me()
            if curve is not None:
                curve._build()

        # (a dot's length is in x units: the y range does not change it)
        self._links = [(view.sigXRangeChanged, rescaled), (view.sigResized, rescaled)]
        for signal, slot in self._links:
            signal.connect(slot)

    def detach(self) -> None:
        """Stop following the view (the curve is being taken off its plot)."""
        for signal, slot in self._links:
            signal.disconnect(slot)
        self._links = []

    # ------------------------------------------------------------------ data
    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        """Show ``y`` against ``x`` (arrays of one length).  Views are fine: the curve
        keeps them, only to read, until the next call."""
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length ({len(x)} and {len(y)})")
        self._x, self._y = np.asarray(x, float), np.asarray(y, float)
        self._build()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """The data as given (not downsampled, not log-transformed)."""
        return self._x, self._y

    getOriginalDataset = getData  # what the CSV exporter asks a data item for

    def name(self) -> str | None:
        """The legend's name for the curve (None: not in the legend)."""
        return self._name

    def implements(self, interface: str | None = None):
        """pyqtgraph's interface test: a PathCurve is a plot's data item."""
        return ["plotData"] if interface is None else interface == "plotData"

    def setAlpha(self, alpha: float, auto: bool = False) -> None:
        """The context menu's Alpha entry."""
        self.setOpacity(alpha)

    def __len__(self) -> int:
        return len(self._x)

    def setLogMode(self, x: bool, y: bool) -> None:
        """Called by the plot when its axes switch to or from log scale (y only here)."""
        if bool(y) != self._log_y:
            self._log_y = bool(y)
            self._build()

    def _shown_y(self) -> np.ndarray:
        if not self._log_y:
            return self._y
        return np.log10(np.where(self._y > 0, self._y, np.nan))  # no log: a gap

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        view = self._view()
        x, y = self._x, self._shown_y()
        if view is None or not len(x):
            self.setPath(QPainterPath())
            if self.dots is not None:
                self.dots.setPath(QPainterPath())
            return
        (x0, x1), _ = view.viewRange()
        pixels = max(1.0, view.width())
        lo, hi = np.searchsorted(x, (x0, x1))
        lo, hi = max(0, lo - 1), min(len(x), hi + 1)  # one point past each edge: the line reaches it
        xs, ys = peak_downsample(x[lo:hi], y[lo:hi], int(pixels))
        self.setPath(pg.arrayToQPath(xs, ys, connect="finite"))
        if self.dots is not None:
            self.dots.setPath(self._dot_path(x[lo:hi], y[lo:hi], (x1 - x0) / pixels))

    @staticmethod
    def _dot_path(x: np.ndarray, y: np.ndarray, data_per_pixel: float) -> QPainterPath:
        keep = np.isfinite(y)
        x, y = x[keep], y[keep]
        if not len(x):
            return QPainterPath()
        d = DOT_HALF_PX * data_per_pixel
        xs = np.column_stack((x - d, x + d)).ravel()
        ys = np.repeat(y, 2)
        connect = np.tile(np.array([1, 0], np.int32), len(x))  # each pair joined, pairs apart
        return pg.arrayToQPath(xs, ys, connect=connect)

    # ------------------------------------------------------------------ pyqtgraph
    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        """(min, max) of the shown data along ``ax`` (0: x, 1: y), for "View all"."""
        values = self._x if ax == 0 else self._shown_y()
        if orthoRange is not None and len(values):
            other = self._shown_y() if ax == 0 else self._x
            values = values[(other >= orthoRange[0]) & (other <= orthoRange[1])]
        values = values[np.isfinite(values)]
        if not len(values):
            return None, None
        return float(values.min()), float(values.max())

    def pixelPadding(self) -> float:
        """Pixels the line (or its dots) reach past the data."""
        return (DOT_PX if self.dots is not None else self.pen().widthF()) / 2


# the context menu's PlotDataItem transforms, which a PathCurve does not take
_NOT_FOR_CURVES = ("fftCheck", "derivativeCheck", "phasemapCheck", "subtractMeanCheck",
                   "logXCheck")
_MENUS_NOT_FOR_CURVES = ("Downsample", "Average", "Points")


def fit_plot_menu(item: pg.PlotItem) -> None:
    """Take off ``item``'s context menu what does not apply to its PathCurves: the
    transforms other than a log y axis (disabled, with a tooltip saying why) and the
    Downsample, Average and Points menus (hidden); Alpha, Grid, log y and Export stay."""
    for name in _NOT_FOR_CURVES:
        check = getattr(item.ctrl, name)
        check.setEnabled(False)
        check.setToolTip("Not offered for training curves")
    for action in item.ctrlMenu.actions():
        if action.text() in _MENUS_NOT_FOR_CURVES:
            action.setVisible(False)
