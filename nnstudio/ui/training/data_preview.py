"""What the chosen data set looks like: a scatter for 2-D points, a grid of sample
images, the head of a table, or the series — drawn from :func:`nnstudio.data.preview`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..theme import theme
from .plot_style import PlotPanel, class_color

GRID_COLUMNS = 8


def image_mosaic(images: list[np.ndarray], columns: int = GRID_COLUMNS) -> np.ndarray:
    """Images (H, W) or (H, W, 3) in [0, 1] -> one (rows·(H+2), cols·(W+2), 3) uint8
    picture with a 2-pixel gap, first image top-left, row 0 at the bottom (as drawn)."""
    h, w = images[0].shape[:2]
    cols = min(columns, len(images))
    rows = -(-len(images) // cols)
    out = np.zeros((rows * (h + 2), cols * (w + 2), 3), np.uint8)
    for i, img in enumerate(images):
        rgb = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
        r, c = divmod(i, cols)
        top = (rows - 1 - r) * (h + 2) + 1
        out[top: top + h, c * (w + 2) + 1: c * (w + 2) + 1 + w] = (
            np.clip(rgb[::-1], 0, 1) * 255).astype(np.uint8)
    return out


def describe(preview: dict[str, Any]) -> str:
    sizes = preview.get("sizes", {})
    total = sum(sizes.values())
    parts = [f"<b>{preview.get('name', '?')}</b> · {total:,} examples "
             f"(train {sizes.get('train', 0):,} · val {sizes.get('val', 0):,} · "
             f"test {sizes.get('test', 0):,})",
             "input [" + ", ".join(str(d) for d in preview.get("input_shape", ())) + "]"]
    classes = preview.get("classes") or ()
    if classes:
        shown = ", ".join(classes[:12]) + (" …" if len(classes) > 12 else "")
        parts.append(f"{len(classes)} classes: {shown}")
    else:
        parts.append(str(preview.get("task", "")))
    return " · ".join(parts)


class DataPreview(PlotPanel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DataPreview")
        self.summary = QLabel("Choose a data set to see what it holds.")
        self.summary.setWordWrap(True)
        self.summary.setContentsMargins(6, 2, 6, 2)
        self.scatter_plot = self.add_plot("Training points", "x1", "x2", legend=True)
        self.scatter_plot.setAspectLocked(True)
        self.image_plot = self.add_plot("Sample images", "", "")
        self.image_plot.setAspectLocked(True)
        for name in ("bottom", "left"):
            self.image_plot.getPlotItem().hideAxis(name)
        self.mosaic = pg.ImageItem(axisOrder="row-major")
        self.image_plot.addItem(self.mosaic)
        self.series_plot = self.add_plot("Series", "time step", "value")
        self.table = QTableWidget()
        self.table.setObjectName("DataHead")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        for w in (self.scatter_plot, self.image_plot, self.series_plot, self.table, self.error):
            self.stack.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        self._labels: list[pg.TextItem] = []
        self.kind = ""

    def show_error(self, text: str) -> None:
        self.kind = "error"
        self.summary.setText("The data set cannot be loaded as set up:")
        self.error.setText(text)
        self.stack.setCurrentWidget(self.error)

    def set_preview(self, preview: dict[str, Any]) -> None:
        self.kind = preview.get("kind", "")
        self.summary.setText(describe(preview))
        if self.kind == "points2d":
            self._points(preview)
        elif self.kind == "image" and preview.get("images"):
            self._images(preview)
        elif self.kind == "sequence" and "series" in preview:
            self._series(preview)
        else:
            self._table(preview)

    def _points(self, preview: dict[str, Any]) -> None:
        item = self.scatter_plot.getPlotItem()
        item.clear()
        points = np.asarray(preview["points"], np.float32)
        labels = np.asarray(preview["labels"]).reshape(-1)
        classes = list(preview.get("classes") or [])
        if classes and points.shape[1] >= 2:
            for c, name in enumerate(classes):
                mine = points[labels == c]
                colour = class_color(c)
                item.addItem(pg.ScatterPlotItem(mine[:, 0], mine[:, 1], size=5,
                                                brush=pg.mkBrush(colour), pen=None,
                                                name=f"class {name}"))
        elif points.shape[1] >= 2:
            item.addItem(pg.ScatterPlotItem(points[:, 0], points[:, 1], size=5, pen=None))
        names = preview.get("feature_names") or ("x1", "x2")
        item.setLabel("bottom", names[0])
        item.setLabel("left", names[1])
        item.enableAutoRange()
        self.stack.setCurrentWidget(self.scatter_plot)

    def _images(self, preview: dict[str, Any]) -> None:
        images = [np.asarray(i, np.float32) for i in preview["images"]]
        mosaic = image_mosaic(images)
        self.mosaic.setImage(mosaic, autoLevels=False, levels=(0, 255))
        h, w = images[0].shape[:2]
        total_h = mosaic.shape[0]
        self.mosaic.setRect(QRectF(0, 0, mosaic.shape[1], total_h))
        for label in self._labels:
            self.image_plot.removeItem(label)
        self._labels.clear()
        cols = min(GRID_COLUMNS, len(images))
        color = theme().colors.get("text", "#ddd")
        for i, name in enumerate(preview.get("labels", [])):
            r, c = divmod(i, cols)
            label = pg.TextItem(str(name), color=color, anchor=(0, 0))
            label.setPos(c * (w + 2) + 1, total_h - r * (h + 2))
            self.image_plot.addItem(label)
            self._labels.append(label)
        self.image_plot.getPlotItem().setRange(xRange=(0, mosaic.shape[1]), yRange=(0, total_h),
                                               padding=0.02)
        self.stack.setCurrentWidget(self.image_plot)

    def _series(self, preview: dict[str, Any]) -> None:
        item = self.series_plot.getPlotItem()
        item.clear()
        series = np.asarray(preview["series"], np.float32).reshape(len(preview["series"]), -1)
        for k in range(series.shape[1]):
            item.plot(series[:, k], pen=pg.mkPen(class_color(k), width=1.2))
        muted = theme().colors.get("muted", "#999")
        for x in preview.get("split_points", []):
            item.addItem(pg.InfiniteLine(pos=x, angle=90, pen=pg.mkPen(muted, style=Qt.PenStyle.DashLine)))
        self.stack.setCurrentWidget(self.series_plot)

    def _table(self, preview: dict[str, Any]) -> None:
        header = list(preview.get("header", []))
        rows = preview.get("rows", [])
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(header)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                text = f"{value:.4g}" if isinstance(value, float) else str(value)
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.stack.setCurrentWidget(self.table)
