"""Live renderer for "points" previews: layers of 2-D points (a GAN's samples over the
real data in grey, a VAE's latent codes coloured by class)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont

from nnstudio.train.preview import Preview

from ..live_view import LiveRenderer, LiveView, register_renderer
from ..plot_style import class_color, style_plot


@register_renderer
class PointsRenderer(LiveRenderer):
    """One plot (aspect 1:1, so a ring looks round); one ScatterPlotItem per layer, or
    per class of a layer coloured by class, made on first sight and then only updated.
    Later layers are drawn above earlier ones.  Layers of one colour are named in the
    legend; classes are named where they are, by a label at the median of their points
    (a legend of ten classes would hide the points)."""

    kind = "points"

    def __init__(self, page: LiveView, title: str) -> None:
        super().__init__(page, title)
        self.plot = page.add_plot(title, "", "", legend=True)
        self.plot.setAspectLocked(True)
        self.widget = self.plot
        self.scatters: dict[str, pg.ScatterPlotItem] = {}  # layer name, or class -> item
        self.class_labels: dict[str, pg.TextItem] = {}  # class -> its label
        self._labels = ("", "")

    def show(self, preview: Preview) -> None:
        data = preview.data
        item = self.plot.getPlotItem()
        labels = (str(data.get("x_label", "")), str(data.get("y_label", "")))
        if labels != self._labels:
            self._labels = labels
            item.setLabel("bottom", labels[0])
            item.setLabel("left", labels[1])
            style_plot(self.plot)
            for name in ("left", "bottom"):
                # style_plot turns SI scaling off while the range may be within (0, 1),
                # which would freeze a x1000 scale on the ticks: turn it off at scale 1
                axis = item.getAxis(name)
                axis.setSIPrefixEnableRanges(())
                axis.enableAutoSIPrefix(False)
        wanted: dict[str, tuple[np.ndarray, object, float, bool]] = {}
        for layer in data["layers"]:
            xy = np.asarray(layer["xy"], np.float64).reshape(-1, 2)
            size = float(layer.get("size") or 5.0)
            classes = layer.get("classes")
            if classes is None:
                color = layer.get("color") or (200, 200, 200)
                wanted[str(layer["name"])] = (xy, pg.mkBrush(*color), size, False)
                continue
            classes = np.asarray(classes, np.int64).reshape(-1)
            if len(classes) != len(xy):
                raise ValueError(f"points layer {layer['name']!r} has {len(xy)} points but "
                                 f"{len(classes)} classes")
            for k in np.unique(classes).tolist():
                wanted[str(k)] = (xy[classes == k], pg.mkBrush(class_color(k)), size, True)
        for name in [n for n in self.scatters if n not in wanted]:
            self.plot.removeItem(self.scatters.pop(name))
        for name in [n for n in self.class_labels if n not in wanted]:
            self.plot.removeItem(self.class_labels.pop(name))
        for z, (name, (xy, brush, size, is_class)) in enumerate(wanted.items()):
            scatter = self.scatters.get(name)
            if scatter is None:  # only one-colour layers are named in the legend
                scatter = pg.ScatterPlotItem(name=None if is_class else name, pen=None)
                self.plot.addItem(scatter)
                self.scatters[name] = scatter
            scatter.setZValue(z)
            scatter.setData(xy[:, 0], xy[:, 1], brush=brush, size=size, pen=None)
            if is_class:
                self._label_class(name, xy, len(wanted))
        if item.legend is not None:
            item.legend.setVisible(any(s.name() for s in self.scatters.values()))

    def _label_class(self, name: str, xy: np.ndarray, z: int) -> None:
        label = self.class_labels.get(name)
        if label is None:
            label = pg.TextItem(name, color=class_color(int(name)), anchor=(0.5, 0.5),
                                fill=pg.mkBrush(20, 20, 20, 120))
            font = QFont()
            font.setPointSize(9)
            font.setBold(True)
            label.setFont(font)
            self.plot.addItem(label)
            self.class_labels[name] = label
        label.setZValue(z + 1)  # above every layer
        centre = np.median(xy, axis=0) if len(xy) else np.zeros(2)
        label.setPos(float(centre[0]), float(centre[1]))
