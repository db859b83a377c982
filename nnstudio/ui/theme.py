"""Colours of the window and the canvas, read from ``assets/themes/<name>.json``.

Widgets ask :func:`theme` for the current palette and listen to
``THEMES.changed`` to repaint when the person switches between dark and light.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from ..paths import assets_dir


@dataclass(frozen=True)
class Theme:
    name: str
    colors: dict[str, str]
    categories: dict[str, str]

    def color(self, key: str) -> QColor:
        return QColor(self.colors.get(key, "#ff00ff"))

    def category(self, category: str) -> QColor:
        return QColor(self.categories.get(category, self.colors.get("muted", "#888888")))

    def stylesheet(self) -> str:
        """The application style sheet, ``assets/themes/style.qss`` with this theme's colours."""
        qss = (assets_dir() / "themes" / "style.qss").read_text(encoding="utf-8")
        for key, value in self.colors.items():
            qss = qss.replace("{" + key + "}", value)
        return qss


def load_theme(name: str) -> Theme:
    path = assets_dir() / "themes" / f"{name}.json"
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    cats = data.pop("categories", {})
    return Theme(data.pop("name", name), {k: str(v) for k, v in data.items()}, cats)


class ThemeManager(QObject):
    changed = Signal(object)

    def __init__(self):
        super().__init__()
        self._theme = load_theme("dark")

    @property
    def current(self) -> Theme:
        return self._theme

    def set(self, name: str) -> None:
        if name != self._theme.name:
            self._theme = load_theme(name)
            self.changed.emit(self._theme)

    @staticmethod
    def available() -> list[str]:
        return sorted(p.stem for p in (assets_dir() / "themes").glob("*.json"))


THEMES = ThemeManager()


def theme() -> Theme:
    return THEMES.current
