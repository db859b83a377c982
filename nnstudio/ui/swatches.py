"""Small coloured squares that stand for a layer category (palette, inspector, start page).

Colours come from the current theme, so callers rebuild their icons on ``THEMES.changed``.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from .theme import theme

# The order a learner meets the families in; categories not listed follow, A to Z.
CATEGORY_ORDER = (
    "Input / Output", "Dense", "Activation", "Convolution", "Pooling", "Normalization",
    "Regularization", "Reshape", "Merge", "Embedding", "Recurrent", "Attention",
    "Probabilistic", "Block",
)


def category_sort_key(category: str) -> tuple[int, str]:
    try:
        return (CATEGORY_ORDER.index(category), category)
    except ValueError:
        return (len(CATEGORY_ORDER), category)


def swatch_pixmap(color: QColor, size: int = 12, dpr: float = 2.0) -> QPixmap:
    """A rounded square of ``color``, ``size`` logical pixels wide, drawn for HiDPI."""
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    inset = size * 0.12
    p.drawRoundedRect(QRectF(inset, inset, size - 2 * inset, size - 2 * inset),
                      size * 0.22, size * 0.22)
    p.end()
    return pm


def category_icon(category: str, size: int = 12) -> QIcon:
    return QIcon(swatch_pixmap(theme().category(category), size))
