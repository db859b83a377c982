"""Inside the network while it trains: for the layer chosen by its node name, how its
outputs are distributed over time, their mean ± std and (conv layers) the feature maps
of one example; across layers, the share of dead ReLU units and the gradient norms.

Every picture arrives ready-made in an :class:`~.activation_history.ActivationFrame`
built on the worker thread; this view only sets images, curves and bars.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSignalBlocker
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..theme import theme
from .activation_history import ActivationFrame, LayerFrame
from .plot_style import PlotPanel, run_color, set_ticks


def _short(label: str) -> str:
    """"fc1 · Linear" -> "fc1": bar labels must be short."""
    return label.split(" · ", 1)[0]


class ActivationsView(PlotPanel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ActivationsView")
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("LayerChoice")
        self.layer_combo.setToolTip("The layer (by its node name) whose outputs are shown")
        self.layer_combo.setMinimumContentsLength(16)
        self.layer_combo.currentIndexChanged.connect(self._on_layer)
        self.layer_info = QLabel("Activations appear once training starts.")
        self.layer_info.setProperty("role", "muted")
        head = QHBoxLayout()
        head.setContentsMargins(6, 2, 6, 0)
        head.addWidget(QLabel("Layer"))
        head.addWidget(self.layer_combo)
        head.addWidget(self.layer_info, 1)

        self.hist_plot = self.add_plot("Output distribution", "step", "value")
        self.hist_image = pg.ImageItem(axisOrder="row-major")
        self.hist_plot.addItem(self.hist_image)
        self.stats_plot = self.add_plot("Mean ± std", "step", "value")
        accent = QColor(theme().colors.get("accent", "#4c9bff"))
        band = QColor(accent)
        band.setAlpha(60)
        self.mean_curve = self.stats_plot.plot([], [], pen=pg.mkPen(accent, width=2))
        self.upper = self.stats_plot.plot([], [], pen=pg.mkPen(band))
        self.lower = self.stats_plot.plot([], [], pen=pg.mkPen(band))
        self.stats_plot.addItem(pg.FillBetweenItem(self.lower, self.upper, brush=pg.mkBrush(band)))
        self.fmap_plot = self.add_plot("Feature maps", "", "")
        self.fmap_plot.setAspectLocked(True)
        for name in ("bottom", "left"):
            self.fmap_plot.getPlotItem().hideAxis(name)
        self.fmap_image = pg.ImageItem(axisOrder="row-major")
        self.fmap_plot.addItem(self.fmap_image)
        self.fmap_note = pg.TextItem("conv layers only", anchor=(0.5, 0.5),
                                     color=theme().colors.get("muted", "#999"))
        self.fmap_plot.addItem(self.fmap_note)
        self.dead_plot = self.add_plot("Dead ReLU units", "", "share")
        self.dead_plot.setYRange(0, 1, padding=0.02)
        self.dead_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=run_color(3))
        self.dead_plot.addItem(self.dead_bars)
        self.grad_plot = self.add_plot("Gradient norms", "", "L2 norm")
        self.grad_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=run_color(0))
        self.grad_plot.addItem(self.grad_bars)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.hist_plot, 0, 0, 2, 1)
        grid.addWidget(self.stats_plot, 0, 1)
        grid.addWidget(self.fmap_plot, 1, 1)
        grid.addWidget(self.dead_plot, 0, 2)
        grid.addWidget(self.grad_plot, 1, 2)
        grid.setColumnStretch(0, 5)
        grid.setColumnStretch(1, 4)
        grid.setColumnStretch(2, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addLayout(grid, 1)
        self.latest: ActivationFrame | None = None
        self._shown: tuple[int, str] | None = None
        self.frames_shown = 0

    # ------------------------------------------------------------------ input
    def clear(self) -> None:
        self.latest = None
        self._shown = None
        with QSignalBlocker(self.layer_combo):
            self.layer_combo.clear()
        self.layer_info.setText("Activations appear once training starts.")
        for image in (self.hist_image, self.fmap_image):
            image.clear()
        for curve in (self.mean_curve, self.upper, self.lower):
            curve.setData([], [])
        self.dead_bars.setOpts(x=[], height=[])
        self.grad_bars.setOpts(x=[], height=[])

    def set_frame(self, frame: ActivationFrame) -> None:
        self.latest = frame
        paths = [layer.path for layer in frame.layers]
        if paths != [self.layer_combo.itemData(i) for i in range(self.layer_combo.count())]:
            chosen = self.layer_combo.currentData()
            with QSignalBlocker(self.layer_combo):
                self.layer_combo.clear()
                for layer in frame.layers:
                    self.layer_combo.addItem(layer.label, layer.path)
                index = paths.index(chosen) if chosen in paths else 0
                self.layer_combo.setCurrentIndex(index)
        self.dirty = True  # drawn by the owner's repaint timer (or when shown)

    def select_layer(self, path: str) -> None:
        index = self.layer_combo.findData(path)
        if index >= 0:
            self.layer_combo.setCurrentIndex(index)

    def _on_layer(self, _index: int) -> None:
        self.dirty = True
        self.refresh()

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        self.dirty = False
        frame = self.latest
        path = self.layer_combo.currentData()
        if frame is None or (frame.global_step, path) == self._shown:
            return
        self._shown = (frame.global_step, path)
        layer = next((la for la in frame.layers if la.path == path), None)
        if layer is not None:
            self._show_layer(layer)
        self._show_bars(frame)
        self.frames_shown += 1

    def _show_layer(self, layer: LayerFrame) -> None:
        steps = layer.steps
        lo, hi = layer.value_range
        first, last = (float(steps[0]), float(steps[-1])) if len(steps) else (0.0, 1.0)
        width = max(last - first, 1.0)
        self.hist_image.setImage(layer.hist_rgba, autoLevels=False)
        self.hist_image.setRect(QRectF(first, lo, width, hi - lo))
        self.mean_curve.setData(steps, layer.mean)
        self.upper.setData(steps, layer.mean + layer.std)
        self.lower.setData(steps, layer.mean - layer.std)
        shape = "×".join(str(d) for d in layer.shape[1:])
        dead = f" · dead {layer.dead:.0%}" if layer.dead is not None else ""
        mean, std = (layer.mean[-1], layer.std[-1]) if len(steps) else (np.nan, np.nan)
        self.layer_info.setText(f"output [B, {shape}] · mean {mean:.3g} · std {std:.3g}{dead}")
        if layer.fmap_rgba is not None:
            self.fmap_note.hide()
            self.fmap_image.setImage(layer.fmap_rgba, autoLevels=False)
            h, w = layer.fmap_rgba.shape[:2]
            self.fmap_image.setRect(QRectF(0, 0, w, h))
            self.fmap_plot.getPlotItem().setRange(xRange=(0, w), yRange=(0, h), padding=0.02)
        else:
            self.fmap_image.clear()
            self.fmap_note.show()
            self.fmap_note.setPos(0.5, 0.5)
            self.fmap_plot.getPlotItem().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)

    def _show_bars(self, frame: ActivationFrame) -> None:
        relus = [la for la in frame.layers if la.dead is not None]
        self.dead_bars.setOpts(x=np.arange(len(relus)), height=[la.dead for la in relus])
        set_ticks(self.dead_plot.getPlotItem().getAxis("bottom"), [_short(la.label) for la in relus])
        if relus:
            self.dead_plot.setXRange(-0.6, len(relus) - 0.4, padding=0)
        labels = {la.path: _short(la.label) for la in frame.layers}
        names = list(frame.grad_norms)
        norms = [frame.grad_norms[n] for n in names]
        self.grad_bars.setOpts(x=np.arange(len(names)), height=norms)
        set_ticks(self.grad_plot.getPlotItem().getAxis("bottom"), [labels.get(n, n) for n in names])
        if names:
            self.grad_plot.setXRange(-0.6, len(names) - 0.4, padding=0)
            self.grad_plot.setYRange(0, max(max(norms), 1e-12) * 1.1, padding=0)
