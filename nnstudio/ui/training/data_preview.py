"""What the chosen data set looks like: a scatter for 2-D points, a grid of sample
images with their classes, the head of a table, or the series — drawn from
:func:`nnstudio.data.preview`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
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
MAX_COLUMNS = 40  # a table head shows at most this many columns (the target last)
TILE_PX = 40  # sample images are scaled up (whole pixels) to about this size


def to_qimage(image: np.ndarray) -> QImage:
    """(H, W) grey or (H, W, 3) colour values in [0, 1] -> a QImage that owns its pixels."""
    pixels = np.ascontiguousarray(np.clip(image, 0, 1) * 255, dtype=np.uint8)
    h, w = pixels.shape[:2]
    if pixels.ndim == 2:
        return QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    rgb = np.ascontiguousarray(pixels[..., :3])
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def describe(preview: dict[str, Any]) -> str:
    sizes = preview.get("sizes", {})
    total = sum(sizes.values())
    parts = [(f"<b>{preview.get('name', '?')}</b> · {total:,} examples "
              f"(train {sizes.get('train', 0):,} · val {sizes.get('val', 0):,} · "
              f"test {sizes.get('test', 0):,})"),
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
        self.image_grid = QWidget()
        self.image_grid.setObjectName("SampleImages")
        self.image_layout = QGridLayout(self.image_grid)
        self.image_layout.setSpacing(4)
        self.image_layout.setContentsMargins(6, 8, 6, 0)
        self.series_plot = self.add_plot("Series", "time step", "value")
        self.table = QTableWidget()
        self.table.setObjectName("DataHead")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        for w in (self.scatter_plot, self.image_grid, self.series_plot, self.table, self.error):
            self.stack.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
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
        """Sample images on a grid, each scaled up without smoothing, its class under it."""
        while self.image_layout.count():
            item = self.image_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        labels = list(preview.get("labels", []))
        for i, image in enumerate(preview["images"]):
            qimage = to_qimage(np.asarray(image, np.float32))
            scale = max(1, TILE_PX // max(qimage.width(), qimage.height()))
            pixmap = QPixmap.fromImage(qimage.scaled(
                qimage.width() * scale, qimage.height() * scale,
                Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
            tile = QLabel()
            tile.setPixmap(pixmap)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = QLabel(str(labels[i]) if i < len(labels) else "")
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setProperty("role", "muted")
            r, c = divmod(i, GRID_COLUMNS)
            self.image_layout.addWidget(tile, 2 * r, c)
            self.image_layout.addWidget(caption, 2 * r + 1, c)
        rows = 2 * (-(-len(preview["images"]) // GRID_COLUMNS))
        for row in range(rows):
            self.image_layout.setRowStretch(row, 0)
        self.image_layout.setRowStretch(rows, 1)  # the pictures at the top, space below
        self.stack.setCurrentWidget(self.image_grid)

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
        if len(header) > MAX_COLUMNS:  # 784 pixels as columns: nobody reads them, and
            # filling 50,000 cells would hold the window for a tenth of a second
            keep = [*range(MAX_COLUMNS - 1), len(header) - 1]  # the target stays in view
            header = [header[i] for i in keep[:-1]] + ["…", header[-1]]
            rows = [[row[i] for i in keep[:-1]] + ["…", row[-1]] for row in rows]
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(header)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                text = f"{value:.4g}" if isinstance(value, float) else str(value)
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.stack.setCurrentWidget(self.table)
