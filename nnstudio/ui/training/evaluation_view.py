"""The latest evaluation: a confusion matrix (counts on a heat map, class names on the
axes) and a per-class precision / recall / F1 table."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.train import EvalInfo

from .activation_history import colour
from .plot_style import PlotPanel, lut, set_ticks

MAX_TEXT_CLASSES = 20  # above this, the counts would not fit in their cells
TABLE_COLUMNS = ("class", "precision", "recall", "f1", "support")


class EvaluationView(PlotPanel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EvaluationView")
        self.plot = self.add_plot("Confusion matrix", "predicted class", "true class", grid=False)
        item = self.plot.getPlotItem()
        item.invertY(True)  # row 0 (first true class) at the top, as matrices are read
        item.setMouseEnabled(False, False)
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("PerClassTable")
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.summary = QLabel("No evaluation yet: it comes after the first epoch.")
        self.summary.setProperty("role", "muted")
        self.summary.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.summary)
        right.addWidget(self.table, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.addWidget(self.plot, 3)
        layout.addLayout(right, 2)
        self.latest: EvalInfo | None = None
        self._shown: EvalInfo | None = None

    def set_eval(self, ev: EvalInfo) -> None:
        self.latest = ev
        self.dirty = True  # drawn by the owner's repaint timer (or when shown)

    def clear(self) -> None:
        self.latest = self._shown = None
        self.image.clear()
        self._set_texts([])
        self.table.setRowCount(0)
        self.summary.setText("No evaluation yet: it comes after the first epoch.")

    def refresh(self) -> None:
        self.dirty = False
        ev = self.latest
        if ev is None or ev is self._shown:
            return
        self._shown = ev
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in ev.metrics.items())
        where = "validation" if ev.split == "val" else ev.split
        self.summary.setText(f"<b>{where.capitalize()} split, epoch {ev.epoch}</b><br>{metrics}")
        if ev.confusion is None:
            self.image.clear()
            self._set_texts([])
            self.table.setRowCount(0)
            return
        self._show_matrix(np.asarray(ev.confusion, np.int64), list(ev.class_names))
        self._show_table(ev.per_class or [])

    def _show_matrix(self, cm: np.ndarray, names: list[str]) -> None:
        k = cm.shape[0]
        names = names if len(names) == k else [str(i) for i in range(k)]
        # colour = share of the true class (row) predicted as each column: the diagonal
        # is the recall, off-diagonal cells show where each class is mistaken
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        self.image.setImage(colour(share.astype(np.float32), lut("viridis")), autoLevels=False)
        self.image.setRect(QRectF(-0.5, -0.5, k, k))
        item = self.plot.getPlotItem()
        set_ticks(item.getAxis("bottom"), names)
        set_ticks(item.getAxis("left"), names)
        item.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0.02)
        cells = []
        if k <= MAX_TEXT_CLASSES:
            for i in range(k):
                for j in range(k):
                    light = share[i, j] > 0.55  # viridis is light at the top: dark text there
                    cells.append((j, i, str(int(cm[i, j])), "#1e2126" if light else "#f0f0f0"))
        self._set_texts(cells)

    def _set_texts(self, cells: list[tuple[int, int, str, str]]) -> None:
        while len(self.texts) > len(cells):
            self.plot.removeItem(self.texts.pop())
        while len(self.texts) < len(cells):
            text = pg.TextItem(anchor=(0.5, 0.5))
            self.plot.addItem(text)
            self.texts.append(text)
        for text, (x, y, s, color) in zip(self.texts, cells):
            text.setText(s, color=QColor(color))
            text.setPos(x, y)

    def _show_table(self, rows: list[dict]) -> None:
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, key in enumerate(TABLE_COLUMNS):
                value = row.get(key, "")
                text = f"{value:.3f}" if isinstance(value, float) else str(value)
                cell = QTableWidgetItem(text)
                if c:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)
