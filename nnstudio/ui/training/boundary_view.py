"""The decision boundary of a 2-D classifier under its training points.

The picture comes finished from the worker thread (:mod:`.boundary_probe`); this view
only places it under the scatter of the training points and redraws when a new one
arrives (at most ~5 a second).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from .boundary_probe import BoundaryImage
from .plot_style import PlotPanel, class_color

NOT_2D = ("The decision boundary is drawn for 2-D point data sets (moons, circles, spiral, "
          "xor, blobs…). This run's data set is '{name}'.")


class BoundaryView(PlotPanel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BoundaryView")
        self.plot = self.add_plot("Decision boundary", "x1", "x2", legend=True)
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.scatter_items: list[pg.ScatterPlotItem] = []
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setProperty("role", "muted")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.latest: BoundaryImage | None = None
        self.images_shown = 0
        self._shown: BoundaryImage | None = None
        self.set_message("Train a 2-D classifier to see its decision boundary here.")

    def set_message(self, text: str) -> None:
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)

    def set_data(self, preview: dict[str, Any]) -> None:
        """Show the training points of a dataset ``preview`` (see nnstudio.data.preview)."""
        if preview.get("kind") != "points2d" or preview.get("task") != "classification":
            self.set_message(NOT_2D.format(name=preview.get("name", "?")))
            return
        self.stack.setCurrentWidget(self.plot)
        item = self.plot.getPlotItem()
        for s in self.scatter_items:
            item.removeItem(s)
        self.scatter_items.clear()
        self.image.clear()
        self.latest = self._shown = None
        points = np.asarray(preview["points"], np.float32)
        labels = np.asarray(preview["labels"]).reshape(-1)
        classes = list(preview.get("classes") or [])
        for c in range(len(classes) or int(labels.max(initial=0)) + 1):
            mine = points[labels == c]
            colour = class_color(c)
            scatter = pg.ScatterPlotItem(
                mine[:, 0], mine[:, 1], size=7, brush=pg.mkBrush(colour),
                pen=pg.mkPen("#15171a", width=1.0),
                name=f"class {classes[c] if c < len(classes) else c}")
            item.addItem(scatter)
            self.scatter_items.append(scatter)
        names = preview.get("feature_names") or ("x1", "x2")
        item.setLabel("bottom", names[0])
        item.setLabel("left", names[1])
        item.enableAutoRange()

    def set_boundary(self, image: BoundaryImage) -> None:
        self.latest = image
        self.dirty = True  # drawn by the owner's repaint timer (or when shown)

    def refresh(self) -> None:
        self.dirty = False
        image = self.latest
        if image is None or image is self._shown:
            return
        self._shown = image
        x0, x1, y0, y1 = image.extent
        self.image.setImage(image.rgba, autoLevels=False)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.plot.getPlotItem().setTitle(
            f"Decision boundary · epoch {image.epoch} · step {image.global_step}")
        self.images_shown += 1
