"""A closed window leaves no Qt objects in reference cycles: such garbage waits for the
cyclic collector, which may run long after Qt has deleted the objects underneath —
and collecting a wrapper of a deleted item can bring the interpreter down."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QGraphicsItem

from nnstudio.graph.templates import load_template
from nnstudio.ui.main_window import MainWindow
from nnstudio.ui.session import ProjectSession


def _qt_garbage() -> list[str]:
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = [type(o).__name__ for o in gc.garbage if isinstance(o, (QObject, QGraphicsItem))]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
    return found


def test_closing_a_window_leaves_no_qt_objects_for_the_collector(qapp):
    gc.collect()
    window = MainWindow(ProjectSession(load_template("resnet-digits")))  # blocks: 3 canvases
    window.show()
    QApplication.processEvents()
    if window.start_page is not None:
        window.start_page.close()
    window.canvases.setCurrentIndex(1)  # another graph's canvas, built and shown
    QApplication.processEvents()
    window.session.undo_stack.setClean()
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    del window
    assert _qt_garbage() == []


def test_replacing_the_project_leaves_no_canvas_for_the_collector(make_window):
    window = make_window(ProjectSession(load_template("vgg-digits")))
    QApplication.processEvents()
    gc.collect()
    window.session.set_project(load_template("mlp"))  # the old graphs' canvases close
    QApplication.processEvents()
    assert _qt_garbage() == []
