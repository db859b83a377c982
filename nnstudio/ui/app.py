"""Starting the desktop application."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from .appearance import apply_theme, saved_theme
from .file_actions import example_project
from .main_window import MainWindow
from .recovery import install_recovery, offer_recovery
from .session import ProjectSession
from .start_page import show_at_startup
from .window_part import WindowPart

APP_NAME = ORG_NAME = "nnstudio"
# Set, the app prints "nnstudio-first-paint <unix time> <heavy modules loaded>" once the
# main window has been painted the first time; set to "exit", it then quits
# (benchmarks/startup.py).
ENV_STARTUP_PROBE = "NNSTUDIO_STARTUP_PROBE"
FIRST_PAINT = "nnstudio-first-paint"
# imports that cost hundreds of milliseconds and that no window needs to show
HEAVY_MODULES = ("sklearn", "scipy", "pandas", "torch._dynamo", "matplotlib",
                 "onnx", "PIL.Image")


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (made if there is none yet), named for QSettings and themed."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(sys.argv if argv is None else argv))
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("nnstudio")
    apply_theme(saved_theme())
    return app


def open_window(path: str | None = None) -> MainWindow:
    """Show a main window on ``path``, or on the example project with the start page over
    it.  A file that cannot be opened is reported and the example opens instead.

    When an earlier session did not close cleanly, its unsaved work is offered first
    (see :mod:`nnstudio.ui.recovery`); recovering it replaces ``path`` and the start page.
    Dialogs wait until the window has been painted once: the window shows first.
    """
    window = MainWindow(ProjectSession(example_project()))
    window.recovery = install_recovery(window)  # autosave every 30 s, crash recovery
    painted = _FirstPaint(window, os.environ.get(ENV_STARTUP_PROBE, ""))
    window.show()
    if window.recovery.pending():
        painted.then(lambda: _start_after_recovery(window, path))
    elif path:
        window.files.open_path(path, ask=False)
    elif show_at_startup():
        painted.then(window.show_start_page)
    return window


def _start_after_recovery(window: MainWindow, path: str | None) -> None:
    if offer_recovery(window.recovery, window):
        return
    if path:
        window.files.open_path(path, ask=False)
    elif show_at_startup():
        window.show_start_page()


def run(path: str | None = None, argv: list[str] | None = None) -> int:
    """Run the GUI until its window closes; returns the exit status."""
    app = create_application(argv)
    window = open_window(path)  # noqa: F841 (kept alive until exec returns)
    return app.exec()


# ----------------------------------------------------------------- first paint
class _FirstPaint(WindowPart):
    """Runs callbacks once the main window has been painted the first time (or after
    ``FALLBACK_MS``, should no paint come), so that the window shows before any dialog.

    Under ``NNSTUDIO_STARTUP_PROBE`` it also prints the moment, and quits for "exit".
    """

    FALLBACK_MS = 2000

    def __init__(self, window: QWidget, probe: str = ""):
        super().__init__(window)
        self.probe = probe
        self.done = False
        self._callbacks: list = []
        QApplication.instance().installEventFilter(self)
        QTimer.singleShot(self.FALLBACK_MS, self, self._fire)  # not after the window is gone

    def then(self, callback) -> None:
        if self.done:
            QTimer.singleShot(0, self, callback)
        else:
            self._callbacks.append(callback)

    def eventFilter(self, obj, event) -> bool:  # Qt's name
        if not self.done and event.type() == QEvent.Type.Paint \
                and isinstance(obj, QWidget) and obj.window() is self.window:
            # after this paint event is handled and the frame is flushed
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        if self.done:
            return
        self.done = True
        QApplication.instance().removeEventFilter(self)
        if self.probe:
            heavy = ",".join(m for m in HEAVY_MODULES if m in sys.modules) or "-"
            print(f"{FIRST_PAINT} {time.time():.6f} {heavy}", flush=True)
            if self.probe == "exit":
                QApplication.instance().quit()
                return
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()
