"""Pens, brushes and fonts of the canvas, built once per theme.

Painting a thousand nodes must not parse colour strings a thousand times, so the
canvas builds one :class:`CanvasStyle` from the current theme and rebuilds it when
``THEMES.changed`` fires.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPen

from ..theme import Theme


def _font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    f.setHintingPreference(QFont.PreferNoHinting)  # text scales evenly with zoom
    return f


class CanvasStyle:
    def __init__(self, th: Theme):
        self.theme = th
        c = th.color
        self.canvas = c("canvas")
        self.grid_minor = c("grid_minor")
        self.grid_major = c("grid_major")
        self.body = QBrush(c("node_body"))
        self.border_pen = QPen(c("node_border"), 1.0)
        self.selected_pen = QPen(c("node_selected"), 2.0)
        self.error_pen = QPen(c("error"), 2.0)
        self.text = c("node_text")
        self.param_text = c("node_param_text")
        self.muted = c("muted")
        self.header_text = QColor("#ffffff")
        self.header_name = QColor(255, 255, 255, 190)
        self.accent = c("accent")
        self.ok = c("ok")
        self.refused = c("refused")
        self.error = c("error")
        self.node_body = c("node_body")
        self.ports = {"float": c("port_float"), "long": c("port_long"), "any": c("port_any")}
        self.wire = c("wire")
        self.wire_selected = c("wire_selected")
        self.wire_label = c("wire_label")
        self.wire_label_bg = c("wire_label_bg")
        label_border = QColor(c("wire"))
        label_border.setAlpha(110)
        self.wire_label_border = QPen(label_border, 1.0)
        self.title_font = _font(12, bold=True)
        self.name_font = _font(11)
        self.param_font = _font(11)
        self.small_font = _font(10)
        self.label_font = _font(10)
        self.badge_font = _font(11, bold=True)
        self.title_metrics = QFontMetricsF(self.title_font)
        self.name_metrics = QFontMetricsF(self.name_font)
        self.param_metrics = QFontMetricsF(self.param_font)
        self.small_metrics = QFontMetricsF(self.small_font)
        self.label_metrics = QFontMetricsF(self.label_font)
        self._categories: dict[str, QColor] = {}
        self.no_pen = QPen(Qt.NoPen)

    def category(self, name: str) -> QColor:
        col = self._categories.get(name)
        if col is None:
            col = self._categories[name] = self.theme.category(name)
        return col

    def port(self, dtype: str) -> QColor:
        return self.ports.get(dtype, self.ports["any"])
