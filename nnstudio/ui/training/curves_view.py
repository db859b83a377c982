"""Live curves: loss (train and validation), a chosen validation metric, learning rate.

Each run drawn gets one curve per series, created once; :meth:`CurvesView.refresh`
(called by the dock's ≤10 Hz timer, only when something changed) hands each curve the
views of its run's growing buffers.  The curves are :class:`PathCurve` items, which Qt
paints without Python; they downsample ('peak') and clip to the visible range, so a
long run costs no more to draw than a short one.  Runs other than the current one are
drawn when their "overlay" box is ticked in the runs list.

The plots follow the run without re-laying out their axes on every update: x starts at
a part of the planned run — a sixteenth, at least ``X_MIN_SPAN`` epochs — and doubles
whenever the data reach its end, up to the whole run (:func:`x_span`); so the first
epochs of a long run, where most of the learning shows, get the plot's width, and the
axis is laid out again at most four times a run.  y moves only when the data leave the
range or fill too little of it.  With the axes (and their grids) cached as pixmaps,
a refresh then repaints the curves alone — Python on the main thread competes with
the trainer for the GIL, and an axis laid out again costs about a millisecond of it.
A person who zooms or pans a plot takes it over until the next run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from nnstudio.train import ConfigError, recipe_class

from .path_curve import PathCurve, fit_plot_menu
from .plot_style import PlotPanel, run_color
from .runs import RunRecord
from .series import GrowingSeries

PREFERRED_METRICS = ("accuracy", "f1_macro", "r2", "mae", "mse")
Y_MARGIN = 0.08  # headroom above and below the data when the y range moves
Y_MIN_FILL = 0.4  # the range shrinks when the data fill less than this share of it
# what a curve shows while its run has no such series yet: one object, never appended to,
# so its (id, version) stays the same and the curve is not handed new data (and its plot
# not repainted) at every refresh
_NOTHING = GrowingSeries(1)
# the learning rate changes slowly (or not at all): while a run goes, its plot is redrawn
# at most this often — a third less painting at each update, which the trainer feels
LR_EVERY_S = 1.0
X_HALVINGS = 4  # x starts at the planned run halved at most this often...
X_MIN_SPAN = 10.0  # ...but not below this many epochs (a short run is shown whole)


def x_span(planned: float, end: float) -> float:
    """The right end of the x axis (epochs) while a run of ``planned`` epochs has data up
    to ``end``: the plan halved as often as the data allow, at most ``X_HALVINGS`` times
    and not below ``X_MIN_SPAN``; past the plan (a longer run), doubled until it covers
    ``end``."""
    right = max(planned, 1.0)
    if end > right:
        while right < end:
            right *= 2
        return right
    floor = max(X_MIN_SPAN, right / 2 ** X_HALVINGS)
    while right / 2 >= max(end, floor):
        right /= 2
    return right


def _curve(plot: pg.PlotWidget, name: str | None, color, width: float = 1.6, dashed: bool = False,
           dots: bool = False) -> PathCurve:
    """A curve on ``plot`` (in its legend as ``name``, if given), painted by Qt alone."""
    item = plot.getPlotItem()
    curve = PathCurve(item.getViewBox(), color, width, dashed=dashed, dots=dots, name=name)
    # the plot adds it to its legend (if named) and applies its log mode; removeItem
    # takes it off both
    item.addItem(curve)
    return curve


@dataclass
class _Drawn:
    """The curves of one run and the buffer version each last showed."""

    items: dict[str, PathCurve]
    shown: dict[str, int] = field(default_factory=dict)
    metric: str = ""


class CurvesView(PlotPanel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingCurves")
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("MetricChoice")
        self.metric_combo.setToolTip("Which validation metric the middle plot shows")
        self.metric_combo.currentTextChanged.connect(self._on_metric)
        head = QHBoxLayout()
        head.setContentsMargins(6, 2, 6, 0)
        head.addWidget(QLabel("Metric"))
        head.addWidget(self.metric_combo)
        head.addStretch(1)
        # one legend entry per run (its colour); the title tells the two kinds of line apart
        self.loss_plot = self.add_plot("Loss (line: train, dots: validation)", "epoch", "loss",
                                       legend=True)
        self.metric_plot = self.add_plot("Validation metric", "epoch", "", legend=True)
        self.lr_plot = self.add_plot("Learning rate", "epoch", "lr (log scale)")
        self.lr_plot.getPlotItem().setLogMode(y=True)  # schedules multiply the rate
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        for plot in self.plots:
            row.addWidget(plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addLayout(row, 1)
        self.metric_name = ""
        self.current: RunRecord | None = None
        self._drawn: dict[int, _Drawn] = {}  # id(record) -> curves
        self._records: dict[int, RunRecord] = {}
        self._follow = {id(p): True for p in self.plots}  # False once the person zooms
        self._planned = 1
        self._right = 1.0  # the right end of x, shared by the plots that follow the run
        self._legend_corner = (1, 0)  # the metric legend's, as make_plot puts it: top right
        self._lr_drawn_at = -float("inf")
        self._refollow = True  # the next refresh fits every plot, changed or not
        for plot in self.plots:
            fit_plot_menu(plot.getPlotItem())
            plot.getPlotItem().getViewBox().sigRangeChangedManually.connect(
                lambda *_a, p=plot: self._follow.__setitem__(id(p), False))
            plot.getPlotItem().enableAutoRange(x=False, y=False)

    # ------------------------------------------------------------------ which runs
    def set_runs(self, current: RunRecord | None, overlays: list[RunRecord]) -> None:
        """Draw ``current`` and every run in ``overlays`` (others are taken off)."""
        self.current = current
        wanted = {id(r): r for r in overlays}
        if current is not None:
            wanted[id(current)] = current
        for key in list(self._drawn):
            if key not in wanted:
                self._remove(key)
        for key, record in wanted.items():
            if key not in self._drawn:
                self._add(record)
        self._update_metric_choices()
        self._place_metric_legend()
        self._refollow = True  # a run taken off may leave a range too wide
        self.dirty = True

    def _add(self, record: RunRecord) -> None:
        color = run_color(record.index - 1)
        name = record.name
        items = {
            "train": _curve(self.loss_plot, name, color, 1.4),
            "val": _curve(self.loss_plot, None, color, 2.2, dashed=True, dots=True),
            "metric": _curve(self.metric_plot, name, color, 2.0, dots=True),
            "lr": _curve(self.lr_plot, name, color, 1.6),
        }
        self._drawn[id(record)] = _Drawn(items)
        self._records[id(record)] = record

    def _remove(self, key: int) -> None:
        drawn = self._drawn.pop(key)
        self._records.pop(key, None)
        for name, item in drawn.items.items():
            plot = {"train": self.loss_plot, "val": self.loss_plot,
                    "metric": self.metric_plot, "lr": self.lr_plot}[name]
            item.detach()
            plot.removeItem(item)

    def set_epoch_span(self, epochs: int) -> None:
        """A run of ``epochs`` starts: every plot follows the data again, x from 0 to a
        part of the run (or of the longest overlaid run) that grows with the data."""
        self._planned = max([epochs] + [r.info.epochs for r in self._records.values()
                                        if r.info and r is not self.current])
        self._right = x_span(self._planned, 0.0)  # overlaid runs' data widen it at the refresh
        for plot in self.plots:
            self._follow[id(plot)] = True
            plot.setXRange(0, self._right, padding=0.02)
        self._refollow = True
        self.dirty = True

    # ------------------------------------------------------------------ metric
    def _update_metric_choices(self) -> None:
        names: list[str] = []
        for record in self._records.values():
            names.extend(m for m in record.val if m != "loss" and m not in names)
        ordered = [m for m in PREFERRED_METRICS if m in names] + sorted(
            m for m in names if m not in PREFERRED_METRICS)
        if ordered == [self.metric_combo.itemText(i) for i in range(self.metric_combo.count())]:
            return
        with QSignalBlocker(self.metric_combo):
            self.metric_combo.clear()
            self.metric_combo.addItems(ordered)
            if self.metric_name in ordered:
                self.metric_combo.setCurrentText(self.metric_name)
        if self.metric_name not in ordered:
            self._on_metric(ordered[0] if ordered else "")

    def _on_metric(self, metric: str) -> None:
        self.metric_name = metric
        self.metric_plot.getPlotItem().setLabel("left", metric)
        self.metric_plot.getPlotItem().setTitle(
            f"Validation {metric}" if metric else "Validation metric")
        for drawn in self._drawn.values():
            drawn.shown.pop("metric", None)
        self._place_metric_legend()
        self.dirty = True
        self.refresh()

    def metric_rises(self) -> bool:
        """Whether the metric shown gets larger as the model learns (accuracy, R²),
        by the current run's recipe; False for one that falls (MAE) or is unknown."""
        config = self.current.config if self.current is not None else {}
        try:
            recipe = recipe_class(config.get("recipe", "classification"))
        except ConfigError:  # a run of a recipe this version does not know
            return False
        return recipe.metric_modes.get(self.metric_name) == "max"

    def _place_metric_legend(self) -> None:
        """Put the metric plot's legend in the corner its curves leave free: bottom right
        for a metric that rises to the top right as the run goes, top right otherwise
        (as the loss plot's)."""
        corner = (1, 1) if self.metric_rises() else (1, 0)
        if corner != self._legend_corner:
            self._legend_corner = corner
            self.metric_plot.getPlotItem().legend.anchor(
                itemPos=corner, parentPos=corner, offset=(-6, -6 if corner[1] else 6))

    # ------------------------------------------------------------------ drawing
    def note_new_data(self) -> None:
        """The current run's buffers grew; new metrics may have appeared."""
        if self.current is not None and any(
                m not in [self.metric_combo.itemText(i) for i in range(self.metric_combo.count())]
                for m in self.current.val if m != "loss"):
            self._update_metric_choices()
        self.dirty = True

    def refresh(self) -> None:
        self.dirty = False
        empty = _NOTHING
        now = time.monotonic()
        running = self.current is not None and not self.current.finished
        lr_due = not running or now - self._lr_drawn_at >= LR_EVERY_S
        if lr_due:
            self._lr_drawn_at = now
        shown: dict[int, list[GrowingSeries]] = {id(p): [] for p in self.plots}
        # the plots whose curves are handed new data now (or whose set of runs changed):
        # only they may need a new range
        refit = self._refollow
        changed = {id(p) for p in self.plots} if refit else set()
        self._refollow = False
        where = {"train": self.loss_plot, "val": self.loss_plot, "metric": self.metric_plot,
                 "lr": self.lr_plot}
        for key, drawn in self._drawn.items():
            record = self._records[key]
            sources = {"train": record.train_loss, "val": record.val.get("loss", empty),
                       "metric": record.val.get(self.metric_name, empty), "lr": record.lr}
            for name, series in sources.items():
                plot = where[name]
                shown[id(plot)].append(series)
                version = (id(series), series.version)
                if drawn.shown.get(name) != version and (name != "lr" or lr_due):
                    drawn.items[name].set_data(series.x, series.y)
                    drawn.shown[name] = version
                    changed.add(id(plot))
        if changed:
            self._follow_x(shown, refit)
        for plot in self.plots:
            if self._follow[id(plot)] and id(plot) in changed:
                self._follow_y(plot, shown[id(plot)])

    def _follow_x(self, shown: dict[int, list[GrowingSeries]], refit: bool) -> None:
        """Give every following plot the x range the data call for (:func:`x_span`):
        wider as the data reach its end; narrower only on ``refit`` (runs taken off)."""
        ends = [float(s.x[-1]) for series in shown.values() for s in series if len(s)]
        right = x_span(self._planned, max(ends, default=0.0))
        if right == self._right or (right < self._right and not refit):
            return
        self._right = right
        for plot in self.plots:
            if self._follow[id(plot)]:
                plot.setXRange(0, right, padding=0.02)

    def _follow_y(self, plot: pg.PlotWidget, series: list[GrowingSeries]) -> None:
        """Move the y range only when the data leave it or fill too little of it."""
        ys = [s.y for s in series if len(s)]
        if not ys:
            return
        item = plot.getPlotItem()
        log = bool(item.ctrl.logYCheck.isChecked())
        values = np.concatenate(ys)
        values = values[np.isfinite(values) & ((values > 0) if log else True)]
        if not len(values):
            return
        if log:
            values = np.log10(values)
        lo, hi = float(values.min()), float(values.max())
        r0, r1 = item.getViewBox().viewRange()[1]
        inside = r0 <= lo and hi <= r1
        if inside and (hi - lo) >= Y_MIN_FILL * (r1 - r0):
            return
        # one point (or a flat run) gets a range a tenth of its size, not one so narrow
        # that the ticks need five decimals
        span = max(hi - lo, 0.1 * max(abs(hi), abs(lo)), 1e-9)
        mid = (lo + hi) / 2
        lo, hi = min(lo, mid - span / 2), max(hi, mid + span / 2)
        item.setYRange(lo - Y_MARGIN * span, hi + Y_MARGIN * span, padding=0)

    def point_count(self, series: str = "train") -> int:
        """Points the current run's ``series`` curve shows (for tests and the benchmark)."""
        if self.current is None or id(self.current) not in self._drawn:
            return 0
        return len(self._drawn[id(self.current)].items[series])
