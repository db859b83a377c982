"""Live renderer for "heatmap" previews: a row of small matrices (the attention of
each head), one colour scale for all, labelled with the tokens they relate."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGridLayout

from nnstudio.train.preview import Preview

from ..activation_history import colour
from ..live_view import LiveRenderer, LiveView, muted_label, register_renderer, titled_frame
from ..plot_style import lut, set_ticks

MAX_COLUMNS = 4  # matrices side by side before a new row starts


@register_renderer
class HeatmapRenderer(LiveRenderer):
    """One small plot per matrix, made again only when their number changes.

    ``data`` may also hold a ``note`` (how to read the matrices), shown above them with
    the colour scale.

    Colours run from 0 to the largest value of the preview (viridis), so that the
    matrices compare with one another; row 0 is at the top, as matrices are read.
    """

    kind = "heatmap"

    def __init__(self, page: LiveView, title: str) -> None:
        super().__init__(page, title)
        self.widget, layout = titled_frame(title)
        self.scale = muted_label()
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        layout.addWidget(self.scale)
        layout.addLayout(self.grid, 1)
        self.plots: list[pg.PlotWidget] = []
        self.images: list[pg.ImageItem] = []

    def _build(self, count: int) -> None:
        for plot in self.plots:
            self.grid.removeWidget(plot)
            if plot in self.page.plots:
                self.page.plots.remove(plot)
            plot.deleteLater()
        self.plots, self.images = [], []
        columns = min(count, MAX_COLUMNS)
        for i in range(count):
            plot = self.page.add_plot("", "", "", grid=False)
            item = plot.getPlotItem()
            item.invertY(True)
            item.setMouseEnabled(False, False)  # cells fill the plot: no aspect lock
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self.grid.addWidget(plot, i // columns, i % columns)
            self.plots.append(plot)
            self.images.append(image)

    def show(self, preview: Preview) -> None:
        data = preview.data
        mats = np.asarray(data["matrices"], np.float32)
        if mats.ndim != 3:
            raise ValueError(f"a heatmap preview needs matrices [M, R, C], got shape {mats.shape}")
        m, r, c = mats.shape
        if len(self.plots) != m:
            self._build(m)
        titles = list(data.get("titles") or [])
        rows = list(data.get("row_labels") or [])
        cols = list(data.get("col_labels") or [])
        top = float(np.nanmax(mats)) if mats.size else 0.0
        scaled = mats / top if top > 0 else mats
        scale = f"colour: 0 (dark) to {top:.2f} (yellow)" if top > 0 else "all values are 0"
        note = data.get("note", "")
        self.scale.setText(f"{note}; {scale}" if note else scale)
        for i, (plot, image) in enumerate(zip(self.plots, self.images, strict=True)):
            image.setImage(colour(scaled[i], lut("viridis")), autoLevels=False)
            image.setRect(QRectF(-0.5, -0.5, c, r))
            item = plot.getPlotItem()
            item.setTitle(titles[i] if i < len(titles) else "")
            if len(cols) == c:
                set_ticks(item.getAxis("bottom"), cols)
            if len(rows) == r:
                set_ticks(item.getAxis("left"), rows)
            item.setRange(xRange=(-0.5, c - 0.5), yRange=(-0.5, r - 0.5), padding=0.02)
