"""A plot's SVG export (the context menu's Export…): Qt's generator, as on screen."""

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")

from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from .conftest import CURVE_COLOR, add_curve

ORANGE = QColor(CURVE_COLOR)


@pytest.fixture
def plot(curve_plot):
    return curve_plot


def test_a_plot_exports_as_svg_from_its_menu(plot, tmp_path):
    import xml.dom.minidom

    from pyqtgraph.exporters import listExporters

    from nnstudio.ui.training.svg_export import QtSvgExporter

    names = [e.Name for e in listExporters()]
    assert QtSvgExporter in listExporters() and names.count(QtSvgExporter.Name) == 1
    curve = add_curve(plot, dots=True)
    curve.set_data(np.linspace(0.5, 9.5, 20), np.linspace(0.9, 0.1, 20))
    out = tmp_path / "plot.svg"
    QtSvgExporter(plot.getPlotItem()).export(str(out))
    doc = xml.dom.minidom.parse(str(out))  # well-formed
    svg = out.read_text()
    assert doc.documentElement.tagName == "svg"
    assert "#ffb347" in svg.lower()  # the curve, as a vector path
    texts = {t.firstChild.data.strip() for t in doc.getElementsByTagName("text") if t.firstChild}
    assert {"epoch", "loss", "0.2"} <= texts  # labels and ticks as text, not pictures
    assert not doc.getElementsByTagName("image")
    assert plot.getPlotItem().getAxis("left").cacheMode() != QGraphicsItem.CacheMode.NoCache
    assert not list(tmp_path.glob(".plot.svg.*"))  # no temporary file left


def test_the_svg_looks_like_the_plot_on_screen(plot):
    from PySide6.QtSvg import QSvgRenderer

    from nnstudio.ui.training.svg_export import QtSvgExporter

    curve = add_curve(plot, width=2.0, dots=True)
    curve.set_data(np.linspace(0.5, 9.5, 20), np.linspace(0.9, 0.1, 20))
    item = plot.getPlotItem()
    data = QtSvgExporter(item).export(toBytes=True)
    screen = plot.grab(item.sceneBoundingRect().toAlignedRect()).toImage()
    drawn = QImage(screen.size(), QImage.Format.Format_ARGB32)
    drawn.fill(0)
    painter = QPainter(drawn)
    QSvgRenderer(data).render(painter)
    painter.end()

    def pixels(img):
        img = img.convertToFormat(QImage.Format.Format_RGB32)
        a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
        return a[:, : img.width(), :3].astype(int)

    differ = np.abs(pixels(screen) - pixels(drawn)).max(axis=2) > 60
    assert differ.mean() < 0.02  # the curve, the grid and the frame where the screen has them
    # the axes too: pyqtgraph draws them from a QPicture, which Qt scales by the devices'
    # dots per inch (at the generator's default 72 they came out at 3/4 size)
    axis = item.getAxis("left").sceneBoundingRect().translated(-item.sceneBoundingRect().topLeft())
    rows, cols = slice(int(axis.top()), int(axis.bottom())), slice(int(axis.left()), int(axis.right()))
    assert differ[rows, cols].mean() < 0.025  # 0.9 % measured; 5 % at the default 72


def test_the_export_dialog_offers_only_formats_that_can_work(plot):
    import importlib.util

    from pyqtgraph.GraphicsScene.exportDialog import ExportDialog

    dialog = ExportDialog(plot.scene())
    dialog.show(plot.getPlotItem())
    try:
        listed = dialog.ui.formatList
        names = [listed.item(i).text() for i in range(listed.count())]
    finally:
        dialog.close()
    assert "Scalable Vector Graphics (SVG)" in names and "CSV of original plot data" in names
    assert ("Matplotlib Window" in names) == (importlib.util.find_spec("matplotlib") is not None)


def test_exporters_whose_library_is_missing_are_dropped():
    from pyqtgraph.exporters import CSVExporter, MatplotlibExporter

    from nnstudio.ui.training.svg_export import drop_unusable

    exporters = [CSVExporter, MatplotlibExporter]
    drop_unusable(exporters, find_spec=lambda name: object())
    assert exporters == [CSVExporter, MatplotlibExporter]
    drop_unusable(exporters, find_spec=lambda name: None if name == "matplotlib" else object())
    assert exporters == [CSVExporter]
