"""The plots' grid: plain Qt path items in the view, not pyqtgraph's plot-sized axis
pictures; the context menu's Grid controls still drive it."""

import pytest

pg = pytest.importorskip("pyqtgraph")

from nnstudio.ui.training.plot_style import GridLines, make_plot


def lines(path_item):
    """(vertical x positions, horizontal y positions) of the segments of a grid path."""
    path = path_item.path()
    xs, ys = set(), set()
    for i in range(0, path.elementCount() - 1, 2):
        a, b = path.elementAt(i), path.elementAt(i + 1)
        if a.x == b.x:
            xs.add(round(a.x, 6))
        elif a.y == b.y:
            ys.add(round(a.y, 6))
    return xs, ys


@pytest.fixture
def plot(shown):
    widget = shown(make_plot(None, "Loss", "epoch", "loss"), 400, 300)
    widget.setXRange(0, 10, padding=0)
    widget.setYRange(0, 2, padding=0)
    return widget


def test_the_grid_follows_the_ticks_and_the_axes_draw_none(plot):
    item = plot.getPlotItem()
    grid = GridLines.of(item)
    assert grid.shown == (True, True)
    for name in ("left", "bottom"):
        assert item.getAxis(name).grid is False  # no plot-sized axis picture
    xs, ys = lines(grid._paths[0])
    ticks_x = {round(v, 6) for v in item.getAxis("bottom").tickValues(0, 10, item.vb.width())[0][1]}
    assert xs and xs == {x for x in ticks_x if 0 <= x <= 10}
    assert ys and all(0 <= y <= 2 for y in ys)
    plot.setXRange(0, 100, padding=0)  # a new range: new lines
    xs2, _ = lines(grid._paths[0])
    assert max(xs2) > 10


def test_the_context_menu_turns_the_grid_off_and_on(plot):
    item = plot.getPlotItem()
    grid = GridLines.of(item)
    item.ctrl.xGridCheck.setChecked(False)
    xs, ys = lines(grid._paths[0])
    assert not xs and ys  # vertical lines gone, horizontal ones kept
    assert item.getAxis("bottom").grid is False
    item.ctrl.gridAlphaSlider.setValue(item.ctrl.gridAlphaSlider.maximum())
    assert grid._paths[0].pen().color().alphaF() == pytest.approx(1.0, abs=0.01)
    item.ctrl.xGridCheck.setChecked(True)
    assert lines(grid._paths[0])[0]


def test_a_plot_made_without_a_grid_draws_none(qtbot):
    from nnstudio.ui.training.plot_style import PlotPanel

    panel = PlotPanel()
    qtbot.addWidget(panel)
    plot = panel.add_plot("Confusion matrix", "", "", grid=False)
    plot.setXRange(0, 5)
    grid = GridLines.of(plot.getPlotItem())
    assert grid.shown == (False, False)
    assert grid._paths[0].path().isEmpty() and grid._paths[1].path().isEmpty()
