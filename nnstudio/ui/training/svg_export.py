"""SVG export of a plot, drawn by Qt's own SVG generator.

pyqtgraph's SVG exporter (offered by every plot's context menu: Export…) rewrites the
coordinates of the SVG that Qt writes, and with Qt 6's generator it fails on the "Z"
that closes a path (``ValueError: not enough values to unpack``; pyqtgraph issue #3485,
open; pyqtgraph 0.14.0 with PySide6 6.11).  No file is written.

:class:`QtSvgExporter` keeps pyqtgraph's dialog and parameters (background, width,
height) and renders the plot's part of the scene into a ``QSvgGenerator`` as Qt draws
it on screen, but with no item drawn from a cached pixmap: lines stay vector paths,
text stays text.  :func:`install` puts it in
the export menu in place of pyqtgraph's, once per process (:mod:`.plot_style` calls it).
The file is written whole or not at all.
"""

from __future__ import annotations

import importlib.util

from pyqtgraph.exporters import Exporter, MatplotlibExporter, SVGExporter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QRectF, QSize
from PySide6.QtGui import QGuiApplication, QPainter, QPicture
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from ...train._atomic import atomic_write


class QtSvgExporter(SVGExporter):
    """pyqtgraph's "Scalable Vector Graphics (SVG)" entry, written by Qt."""

    def __init__(self, item) -> None:
        super().__init__(item)
        # the plot's size on screen (pyqtgraph starts from a size scaled by the screen's
        # dots per inch); width and height stay editable, and keep the aspect ratio
        source = self.getSourceRect()
        self.params.param("width").setValue(source.width(), blockSignal=self.widthChanged)
        self.params.param("height").setValue(source.height(), blockSignal=self.heightChanged)

    def export(self, fileName=None, toBytes=False, copy=False):
        if not toBytes and not copy and fileName is None:
            self.fileSaveDialog(filter="Scalable Vector Graphics (*.svg)")
            return None
        data = self.svg_bytes()
        if toBytes:
            return data
        if copy:
            mime = QMimeData()
            mime.setData("image/svg+xml", QByteArray(data))
            QGuiApplication.clipboard().setMimeData(mime)
            return None
        with atomic_write(fileName, "wb") as f:
            f.write(data)
        return None

    def svg_bytes(self) -> bytes:
        """The SVG document of the item, at the parameters' width and height."""
        width, height = max(1.0, self.params["width"]), max(1.0, self.params["height"])
        target = QRectF(0, 0, width, height)
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(QSize(round(width), round(height)))
        generator.setViewBox(target)
        generator.setTitle("nnstudio plot")
        # pyqtgraph's axes replay a QPicture, which Qt scales by the ratio of the two
        # devices' dots per inch: at the generator's default 72 the axes came out at 3/4
        # of their size, off the data
        generator.setResolution(QPicture().logicalDpiX())
        # drawn afresh, not from the pixmaps some items keep for the screen (axes, legend):
        # their lines and text stay vectors
        scene = self.getScene()
        cached = [(item, item.cacheMode()) for item in scene.items()
                  if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
        for item, _mode in cached:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        painter = QPainter(generator)
        try:
            background = self.params["background"]
            if background.alpha() > 0:
                painter.fillRect(target, background)
            self.setExportMode(True, {"antialias": True, "background": background,
                                      "painter": painter})
            try:
                self.render(painter, target, self.getSourceRect())
            finally:
                self.setExportMode(False)
        finally:
            painter.end()
            for item, mode in cached:
                item.setCacheMode(mode)
        return bytes(buffer.data())


def install() -> None:
    """Offer :class:`QtSvgExporter` in the export dialog instead of pyqtgraph's SVG, and
    only exporters that can work here (:func:`drop_unusable`)."""
    exporters = Exporter.Exporters
    drop_unusable(exporters)
    if QtSvgExporter in exporters:
        return
    if SVGExporter in exporters:
        exporters[exporters.index(SVGExporter)] = QtSvgExporter
    else:
        exporters.append(QtSvgExporter)


def drop_unusable(exporters: list, find_spec=importlib.util.find_spec) -> None:
    """Take out of ``exporters`` those whose library is not installed.  pyqtgraph lists
    "Matplotlib Window" whether or not matplotlib is there (its HDF5 exporter, by
    contrast, registers only with h5py); chosen without it, Export does nothing but
    print an ImportError on the console."""
    for exporter, library in ((MatplotlibExporter, "matplotlib"),):
        if exporter in exporters and find_spec(library) is None:
            exporters.remove(exporter)
