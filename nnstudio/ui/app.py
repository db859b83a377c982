"""Starting the desktop application."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from .appearance import apply_theme, saved_theme
from .file_actions import example_project
from .main_window import MainWindow
from .session import ProjectSession
from .start_page import show_at_startup

APP_NAME = ORG_NAME = "nnstudio"


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
    it.  A file that cannot be opened is reported and the example opens instead."""
    window = MainWindow(ProjectSession(example_project()))
    window.show()
    if path:
        window.files.open_path(path, ask=False)
    elif show_at_startup():
        QTimer.singleShot(0, window.show_start_page)
    return window


def run(path: str | None = None, argv: list[str] | None = None) -> int:
    """Run the GUI until its window closes; returns the exit status."""
    app = create_application(argv)
    window = open_window(path)  # noqa: F841 (kept alive until exec returns)
    return app.exec()
