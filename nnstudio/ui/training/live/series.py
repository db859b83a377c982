"""Live renderer for "series" previews: lines over one x axis (a forecast drawn over
the truth, the seasonal naive forecast dashed)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnstudio.train.preview import Preview

from ..live_view import LiveRenderer, LiveView, register_renderer
from ..plot_style import run_color, style_plot

LEGEND_ROOM = 0.35  # share of the lines' span left free above them for the legend


@register_renderer
class SeriesRenderer(LiveRenderer):
    """One plot; one curve per line name, made on first sight and then only updated."""

    kind = "series"

    def __init__(self, page: LiveView, title: str) -> None:
        super().__init__(page, title)
        self.plot = page.add_plot(title, "", "", legend=True)
        self.widget = self.plot
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._labels = ("", "")

    def show(self, preview: Preview) -> None:
        data = preview.data
        x = np.asarray(data["x"], np.float64)
        labels = (data.get("x_label", ""), data.get("y_label", ""))
        item = self.plot.getPlotItem()
        if labels != self._labels:
            self._labels = labels
            item.setLabel("bottom", labels[0])
            item.setLabel("left", labels[1])
            style_plot(self.plot)
        names = [line["name"] for line in data["lines"]]
        for name in [n for n in self.curves if n not in names]:  # a line no longer sent
            self.plot.removeItem(self.curves.pop(name))
        for i, line in enumerate(data["lines"]):
            curve = self.curves.get(line["name"])
            if curve is None:
                style = Qt.PenStyle.DashLine if line.get("dashed") else Qt.PenStyle.SolidLine
                pen = pg.mkPen(run_color(i), width=1.5 if line.get("dashed") else 2, style=style)
                curve = self.plot.plot(name=line["name"], pen=pen)
                self.curves[line["name"]] = curve
            curve.setData(x, np.asarray(line["y"], np.float64))
        # headroom above the lines, so that the legend in the corner hides none of them
        ys = [np.asarray(line["y"], np.float64) for line in data["lines"]]
        finite = np.concatenate(ys)[np.isfinite(np.concatenate(ys))] if ys else np.zeros(0)
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            span = hi - lo or 1.0
            item.setYRange(lo, hi + LEGEND_ROOM * span, padding=0.02)
