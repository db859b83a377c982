"""Applying a theme to the whole application (style sheet and remembered choice)."""

from __future__ import annotations

from PySide6.QtCore import QDir, QSettings
from PySide6.QtWidgets import QApplication

from ..paths import assets_dir
from .theme import THEMES, theme

THEME_KEY = "ui/theme"


def apply_theme(name: str | None = None) -> None:
    """Switch to theme ``name`` (None: keep the current one), restyle the application,
    and remember the choice for the next start."""
    if name:
        THEMES.set(name)
        QSettings().setValue(THEME_KEY, name)
    # the style sheet names its arrows and ticks "icons:<file>.svg"
    QDir.setSearchPaths("icons", [str(assets_dir() / "icons")])
    app = QApplication.instance()
    if app is not None:
        app.setStyleSheet(theme().stylesheet())


def saved_theme() -> str:
    name = str(QSettings().value(THEME_KEY, "dark"))
    return name if name in THEMES.available() else "dark"
