"""A closed window leaves no Qt objects in reference cycles: such garbage waits for the
cyclic collector, which may run long after Qt has deleted the objects underneath —
and collecting a wrapper of a deleted item can bring the interpreter down."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

from PySide6.QtCore import QEvent, QObject
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
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the window is deleted
    del window
    assert _qt_garbage() == []


def test_a_closed_window_with_a_built_training_panel_is_freed_without_the_collector(qapp):
    gc.collect()
    window = MainWindow(ProjectSession(load_template("mlp")))
    window.show()
    window.training.show_tab()  # the Training panel (pyqtgraph plots) is built
    QApplication.processEvents()
    gone = weakref.ref(window)
    session = weakref.ref(window.session)
    window.session.undo_stack.setClean()
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    del window
    was_enabled = gc.isenabled()
    gc.disable()  # reference counting alone must free the window and its session
    try:
        assert gone() is None, "a closed window is kept by a reference cycle"
        assert session() is None, "its session is kept by a reference cycle"
    finally:
        if was_enabled:
            gc.enable()
    assert _qt_garbage() == []  # nor any of the panel's plots and menus


def test_replacing_the_project_leaves_no_canvas_for_the_collector(make_window):
    window = make_window(ProjectSession(load_template("vgg-digits")))
    QApplication.processEvents()
    gc.collect()
    window.session.set_project(load_template("mlp"))  # the old graphs' canvases close
    QApplication.processEvents()
    assert _qt_garbage() == []


# ---- the session's undo stack and the cyclic collector
#
# PySide6 (6.11) bug: when the cyclic collector clears the wrapper of a Python QUndoCommand
# before the session that owns its stack, shiboken hands the command back to Python and
# deletes it, while the C++ QUndoStack still lists it; destroying the session then deletes
# it a second time (segfault in QUndoStack::clear, seen at the end of a test run).

_SESSION_IN_A_CYCLE = """
import gc
from PySide6.QtWidgets import QApplication
app = QApplication([])
from nnstudio.graph.templates import load_template
from nnstudio.ui.commands import SetParamsCommand
from nnstudio.ui.session import ProjectSession

class Holder:  # what a closed window is to its session: both in one reference cycle
    pass

project = load_template("mlp")
graph = project.graphs[0]
fc = next(n for n in graph.nodes if n.type == "Linear")
command = SetParamsCommand(graph, fc.id, {"out_features": 9})  # older: cleared first
holder = Holder()
holder.session = ProjectSession(project)
holder.session.holder = holder
assert holder.session.push(command)
del holder, command, graph, fc, project
gc.collect()
print("survived", flush=True)
"""


def test_a_session_with_edits_in_cyclic_garbage_is_collected_without_a_crash(tmp_path):
    script = tmp_path / "session_in_a_cycle.py"
    script.write_text(_SESSION_IN_A_CYCLE)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-X", "faulthandler", str(script)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "survived" in done.stdout, done.stderr[-3000:]


def test_a_dropped_session_with_edits_is_freed_without_the_collector(qapp):
    from nnstudio.ui.commands import SetParamsCommand

    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()  # only reference counting may free it
    try:
        session = ProjectSession(load_template("mlp"))
        graph = session.current_graph
        fc = next(n for n in graph.nodes if n.type == "Linear")
        assert session.push(SetParamsCommand(graph, fc.id, {"out_features": 9}))
        gone = weakref.ref(session)
        del session, graph, fc
        assert gone() is None, "the session is kept by a reference cycle"
    finally:
        if was_enabled:
            gc.enable()
    assert _qt_garbage() == []
