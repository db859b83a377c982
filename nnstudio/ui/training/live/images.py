"""Live renderer for "images" previews: a mosaic of small images (inputs above their
reconstructions, a grid of generated digits), each with an optional caption."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from nnstudio.train.preview import Preview

from ...theme import theme
from ..live_view import LiveRenderer, LiveView, register_renderer

GAP = 1  # pixels of background between tiles
CAPTION = 0.6  # height of a caption strip below each row, in tile heights
CAPTION_PT = 8


def mosaic(images: np.ndarray, columns: int, caption_rows: int = 0) -> np.ndarray:
    """Tiles ``images`` [N, H, W] (grey) or [N, 3, H, W] (colour), values in 0..1, into
    one RGBA uint8 picture [rows, cols, 4], ``columns`` to a row, 1 px apart; gaps (and
    ``caption_rows`` empty pixel rows under each row of tiles) are transparent, so the
    panel's background shows between the tiles."""
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        rgb = np.repeat(images[:, :, :, None], 3, axis=3)
    elif images.ndim == 4 and images.shape[1] == 3:
        rgb = images.transpose(0, 2, 3, 1)
    else:
        raise ValueError(f"an images preview needs [N, H, W] or [N, 3, H, W], got shape "
                         f"{images.shape}")
    n, h, w = rgb.shape[:3]
    columns = max(1, min(int(columns), n)) if n else 1
    rows = -(-n // columns) if n else 0
    cell_h, cell_w = h + caption_rows + GAP, w + GAP
    out = np.zeros((rows * cell_h + GAP, columns * cell_w + GAP, 4), np.uint8)
    tiles = (np.nan_to_num(np.clip(rgb, 0.0, 1.0)) * 255).round().astype(np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        top, left = GAP + r * cell_h, GAP + c * cell_w
        out[top:top + h, left:left + w, :3] = tiles[i]
        out[top:top + h, left:left + w, 3] = 255
    return out


@register_renderer
class ImagesRenderer(LiveRenderer):
    """One plot without axes holding one ImageItem (the mosaic, aspect locked), caption
    texts under the tiles, and the preview's note below the plot.  Captions show only
    while the tiles are drawn large enough for them: text spilling over the next row of
    tiles reads worse than none (enlarge the panel to see them)."""

    kind = "images"

    def __init__(self, page: LiveView, title: str) -> None:
        super().__init__(page, title)
        self.widget = QFrame()
        self.plot = page.add_plot(title, "", "", grid=False)
        item = self.plot.getPlotItem()
        for axis in ("left", "bottom"):
            item.hideAxis(axis)
        item.invertY(True)  # row 0 at the top, as images are read
        item.setMouseEnabled(False, False)
        item.setMenuEnabled(False)
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.captions: list[pg.TextItem] = []
        self.note = QLabel("")
        self.note.setProperty("role", "muted")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        self.shape: tuple[int, ...] = ()
        self._cell = (0, 0, 0)  # tile height, width, caption strip: in mosaic pixels
        self._font = QFont()
        self._font.setPointSize(CAPTION_PT)
        # a resize changes the view range of the aspect-locked view only afterwards
        item.vb.sigResized.connect(self._fit_captions)
        item.vb.sigRangeChanged.connect(self._fit_captions)

    def show(self, preview: Preview) -> None:
        data = preview.data
        images = np.asarray(data["images"], np.float32)
        n = len(images)
        columns = max(1, min(int(data.get("columns") or n or 1), max(n, 1)))
        captions = list(data.get("captions") or [])
        h, w = images.shape[-2:] if images.ndim >= 3 else (0, 0)
        strip = round(CAPTION * h) if captions else 0
        picture = mosaic(images, columns, strip)
        self.image.setImage(picture, autoLevels=False, levels=(0, 255))
        rows, cols = picture.shape[:2]
        self.image.setRect(QRectF(0, 0, cols, rows))
        self._cell = (h, w, strip)
        self._caption(captions[:n], columns, h, w, strip)
        if self.shape != picture.shape:  # frame the mosaic once per layout
            self.shape = picture.shape
            self.plot.getPlotItem().setRange(xRange=(0, cols), yRange=(0, rows), padding=0.01)
        self._fit_captions()
        note = str(data.get("note") or "")
        self.note.setText(html.escape(note))
        self.note.setVisible(bool(note))

    def _caption(self, captions: list[str], columns: int, h: int, w: int, strip: int) -> None:
        while len(self.captions) > len(captions):
            self.plot.removeItem(self.captions.pop())
        color = theme().colors.get("text", "#ddd")
        while len(self.captions) < len(captions):
            text = pg.TextItem("", color=color, anchor=(0.5, 0.0))
            text.setFont(self._font)
            text.textItem.document().setDocumentMargin(0)  # the strip is only a line high
            self.plot.addItem(text)
            self.captions.append(text)
        for i, (item, caption) in enumerate(zip(self.captions, captions, strict=True)):
            r, c = divmod(i, columns)
            item.setText(str(caption))
            item.setPos(GAP + c * (w + GAP) + w / 2, GAP + r * (h + strip + GAP) + h)

    def captions_fit(self) -> bool:
        """Whether every caption fits under its tile at the size the mosaic is drawn."""
        _, w, strip = self._cell
        if not self.captions or strip == 0:
            return False
        px_w, px_h = self.plot.getPlotItem().vb.viewPixelSize()  # mosaic px per screen px
        if px_w <= 0 or px_h <= 0:
            return False
        metrics = QFontMetrics(self._font)
        widest = max(metrics.horizontalAdvance(c.toPlainText()) for c in self.captions)
        return ((strip + GAP) / px_h >= 0.95 * metrics.height()
                and (w + GAP) / px_w >= widest + 2)

    def _fit_captions(self) -> None:
        fits = self.captions_fit()
        for caption in self.captions:
            caption.setVisible(fits)
