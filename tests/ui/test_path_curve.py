"""Live curves that Qt paints without Python: what they draw, and that no Python runs."""

import sys

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")

from PySide6.QtGui import QColor, QImage, QPainter

from nnstudio.ui.training.path_curve import PathCurve, peak_downsample

from .conftest import CURVE_COLOR, add_curve

ORANGE = QColor(CURVE_COLOR)


@pytest.fixture
def plot(curve_plot):
    return curve_plot


def _orange_pixels(plot) -> np.ndarray:
    """(rows, cols) of the pixels the curve's colour painted on the plot."""
    img = plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    b, g, r = a[..., 0].astype(int), a[..., 1].astype(int), a[..., 2].astype(int)
    return np.argwhere((abs(r - 0xff) < 40) & (abs(g - 0xb3) < 40) & (abs(b - 0x47) < 60))


def test_peak_downsampling_keeps_every_spike_and_the_newest_points():
    x = np.arange(10_001, dtype=float)
    y = np.zeros_like(x)
    y[[17, 5000, 9998]] = [5.0, -3.0, 7.0]
    xs, ys = peak_downsample(x, y, columns=100)
    assert len(xs) <= 2 * 100 + 100  # about two per column (plus the tail)
    assert {5.0, -3.0, 7.0} <= set(ys.tolist())
    assert xs[-1] == x[-1] and np.all(np.diff(xs) >= 0)
    same = peak_downsample(x[:150], y[:150], columns=100)  # few points: untouched
    assert same[0] is not None and len(same[0]) == 150


def test_the_line_is_drawn_where_the_data_are(plot, qtbot):
    curve = add_curve(plot, width=2.0)
    curve.set_data(np.array([0.0, 10.0]), np.array([0.5, 0.5]))  # a flat line across the middle
    qtbot.wait(20)
    rows = _orange_pixels(plot)[:, 0]
    assert len(rows) > 100
    top, bottom = plot.getPlotItem().getViewBox().sceneBoundingRect().getCoords()[1::2]
    middle = plot.mapFromScene(0, (top + bottom) / 2).y()
    assert abs(np.median(rows) - middle) <= 2
    curve.set_data(np.array([]), np.array([]))
    qtbot.wait(20)
    assert len(_orange_pixels(plot)) == 0  # cleared


def test_dots_are_discs_at_the_points_and_follow_a_zoom(plot, qtbot):
    curve = add_curve(plot, width=0.0001, dots=True)  # the line next to invisible: only dots
    curve.setPen(curve.pen().__class__(ORANGE.darker(400)))
    curve.set_data(np.array([2.0, 5.0, 8.0]), np.array([0.5, 0.5, 0.5]))
    qtbot.wait(20)
    cols = _orange_pixels(plot)[:, 1]
    clusters = np.split(np.sort(cols), np.where(np.diff(np.sort(cols)) > 3)[0] + 1)
    assert len(clusters) == 3
    assert all(3 <= c.max() - c.min() + 1 <= 8 for c in clusters)  # about DOT_PX wide, not dashes
    plot.setXRange(4, 6, padding=0)  # zoomed in 5×: the dots stay dots
    qtbot.wait(20)
    cols = np.sort(_orange_pixels(plot)[:, 1])
    assert 3 <= cols.max() - cols.min() + 1 <= 8


def test_log_mode_leaves_gaps_for_values_that_have_no_log(plot):
    curve = add_curve(plot)
    curve.set_data(np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.0, 10.0]))
    plot.getPlotItem().setLogMode(y=True)
    assert curve.dataBounds(1) == pytest.approx((-1.0, 1.0))
    assert curve.dataBounds(0) == (1.0, 3.0)
    assert _line_ends(curve) == set()  # two single points, not joined through the zero
    plot.getPlotItem().setLogMode(y=False)
    assert curve.dataBounds(1) == pytest.approx((0.0, 10.0))
    assert _line_ends(curve) == {(2.0, 0.0), (3.0, 10.0)}


def _line_ends(curve: PathCurve) -> set[tuple[float, float]]:
    """Where the path's lines go (from another point: a point "joined" to itself is not a line)."""
    path, ends = curve.path(), set()
    for i in range(1, path.elementCount()):
        e, prev = path.elementAt(i), path.elementAt(i - 1)
        if e.isLineTo() and (e.x, e.y) != (prev.x, prev.y):
            ends.add((e.x, e.y))
    return ends


def test_view_all_fits_the_curve(plot, qtbot):
    curve = add_curve(plot)
    curve.set_data(np.array([100.0, 200.0]), np.array([-5.0, 5.0]))
    plot.getPlotItem().autoRange(padding=0)
    (x0, x1), (y0, y1) = plot.getPlotItem().getViewBox().viewRange()
    assert x0 <= 100 and 200 <= x1 and x1 - x0 < 120
    assert y0 <= -5 and 5 <= y1 and y1 - y0 < 12


def test_the_legend_shows_the_curve_and_hides_it_on_click(plot, qtbot):
    curve = add_curve(plot, dots=True)
    legend = plot.getPlotItem().legend
    legend.addItem(curve, "run 1")
    assert [label.text for _sample, label in legend.items] == ["run 1"]
    sample = legend.items[0][0]
    image = QImage(20, 20, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    try:
        sample.paint(painter)  # reads curve.opts: a missing key raises here
    finally:
        painter.end()
    assert QColor(image.pixel(10, 11)) == ORANGE  # the line, under the dot
    sample.item.setVisible(False)
    assert not curve.isVisible() and not curve.dots.isVisible()


def test_removed_curves_stop_following_the_view(plot):
    curve = add_curve(plot)
    curve.set_data(np.arange(5000.0), np.arange(5000.0))
    plot.setXRange(0, 5000, padding=0)
    before = curve.path().elementCount()
    assert before < 5000  # downsampled to the plot's width
    curve.detach()
    plot.getPlotItem().removeItem(curve)
    plot.setXRange(0, 50, padding=0)
    assert curve.path().elementCount() == before  # not rebuilt any more


def test_painting_curves_runs_no_python(plot):
    curve = add_curve(plot, dots=True)
    curve.set_data(np.linspace(0, 10, 500), np.random.default_rng(0).random(500))
    plot.repaint()
    called = set()

    def watch(frame, event, _arg):
        if event == "call":
            called.add((frame.f_code.co_filename, frame.f_code.co_name))

    sys.setprofile(watch)
    try:
        for _ in range(3):
            plot.viewport().repaint()
    finally:
        sys.setprofile(None)
    assert called  # the profiler saw pyqtgraph's own items (axes, view)
    assert not [c for c in called if c[0].endswith("path_curve.py")]
    assert not [c for c in called if "PlotCurveItem" in c[0] or "ScatterPlotItem" in c[0]]


def test_a_named_curve_is_the_plots_data_item_and_exports_as_csv(plot, tmp_path):
    from pyqtgraph.exporters import CSVExporter

    item = plot.getPlotItem()
    curve = PathCurve(item.getViewBox(), ORANGE, name="Run 1")
    item.addItem(curve)
    curve.set_data(np.array([0.5, 1.0, 1.5]), np.array([0.9, 0.7, 0.6]))
    assert item.listDataItems() == [curve]
    assert [label.text for _sample, label in item.legend.items] == ["Run 1"]  # added by the plot
    out = tmp_path / "curve.csv"
    CSVExporter(item).export(str(out))
    rows = out.read_text().splitlines()
    assert rows[0] == '"Run 1_x","Run 1_y"' or rows[0] == "Run 1_x,Run 1_y"
    assert [tuple(float(v) for v in r.split(",")) for r in rows[1:]] == [(0.5, 0.9), (1.0, 0.7), (1.5, 0.6)]
    item.removeItem(curve)
    assert item.listDataItems() == [] and item.legend.items == []


def test_the_plot_menu_offers_only_what_applies_to_a_training_curve(plot):
    from nnstudio.ui.training.path_curve import fit_plot_menu

    item = plot.getPlotItem()
    curve = add_curve(plot)
    fit_plot_menu(item)
    shown = [a.text() for a in item.ctrlMenu.actions() if a.isVisible()]
    assert shown == ["Transforms", "Alpha", "Grid"]
    assert not item.ctrl.fftCheck.isEnabled() and item.ctrl.logYCheck.isEnabled()
    item.ctrl.alphaGroup.setChecked(True)
    item.ctrl.autoAlphaCheck.setChecked(False)
    item.ctrl.alphaSlider.setValue(item.ctrl.alphaSlider.maximum() // 2)
    assert 0.2 < curve.opacity() < 0.3  # pyqtgraph squares the slider's share

