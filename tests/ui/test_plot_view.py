"""The plots paint without holding Python's GIL (a training thread goes on meanwhile), and
pyqtgraph's items still get to prepare before each paint."""

import threading

import pytest

pg = pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QEventLoop, QRectF, QTimer
from PySide6.QtWidgets import QGraphicsRectItem

from nnstudio.ui.training.plot_style import make_plot


class Mark(pg.GraphicsObject):
    """An item with a Python ``paint`` that notes the spinner's count when painted."""

    def __init__(self, counter: list[int], seen: list[int]) -> None:
        super().__init__()
        self.counter, self.seen = counter, seen

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, 10, 10)

    def paint(self, painter, *_args) -> None:
        self.seen.append(self.counter[0])


def spin_through_a_paint(plot) -> tuple[int, int]:
    """Paint ``plot`` from the event loop (as in the window: the loop has let the GIL go)
    while a Python thread counts; returns the count at a Python item painted before a
    thousand C++ items, and at one painted after them."""
    counter, seen_a, seen_b = [0], [], []
    first, last = Mark(counter, seen_a), Mark(counter, seen_b)
    first.setZValue(0)
    last.setZValue(2)
    plot.addItem(first)
    plot.addItem(last)
    for i in range(1000):  # drawn by Qt alone, between the two Python paints
        rect = QGraphicsRectItem(i % 40 * 0.25, i // 40 * 0.4, 0.2, 0.3)
        rect.setPen(pg.mkPen("w"))
        rect.setZValue(1)
        plot.addItem(rect)
    plot.setXRange(0, 10, padding=0)
    plot.setYRange(0, 10, padding=0)
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            counter[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        loop = QEventLoop()  # exec() lets the GIL go; QTest.qWait would hold it
        QTimer.singleShot(0, plot.viewport().repaint)
        QTimer.singleShot(400, loop.quit)
        loop.exec()
    finally:
        stop.set()
        spinner.join()
    assert seen_a and seen_b, "the plot was not painted"
    return seen_a[-1], seen_b[-1]


def test_a_plot_paints_its_cpp_items_without_holding_the_gil(shown):
    plot = shown(make_plot(None, "Loss", "epoch", "loss"), 500, 400)
    before, after = spin_through_a_paint(plot)
    # while Qt drew the thousand rectangles, the other thread ran Python
    assert after > before


def test_pyqtgraphs_own_widget_holds_the_gil_through_its_paint(shown):
    """The reason for PlotView: the same scene in pyqtgraph's widget, whose Python
    paintEvent keeps the GIL until Qt has drawn everything."""
    plot = shown(pg.PlotWidget(), 500, 400)
    before, after = spin_through_a_paint(plot)
    assert after == before


def test_a_new_range_is_applied_before_the_next_paint(shown):
    plot = shown(make_plot(None, "Loss", "epoch", "loss"), 500, 400)
    box = plot.getPlotItem().getViewBox()
    plot.setXRange(0, 100, padding=0)
    assert box._matrixNeedsUpdate  # pyqtgraph defers this to just before a paint
    loop = QEventLoop()
    QTimer.singleShot(50, loop.quit)
    loop.exec()
    assert not box._matrixNeedsUpdate
    # x = 100 is at the right edge of the view box
    right = box.childGroup.mapToParent(pg.Point(100, 0)).x()
    assert right == pytest.approx(box.rect().right(), abs=1.0)
