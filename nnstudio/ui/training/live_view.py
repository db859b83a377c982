"""The Training panel's Live page: what the model does, drawn as it learns.

Recipes that have something to show (reconstructions, generated samples, a forecast
over the truth, generated text, attention maps) send :class:`~nnstudio.train.preview.Preview`
objects about once a second.  This page keeps one panel per preview title, in the order
they first arrive, two to a row (three when there are three), and draws each with the renderer registered for its
kind.  Renderers live in :mod:`nnstudio.ui.training.live` (one module per kind, found
automatically) and register themselves with :func:`register_renderer`.

The page holds only the latest set of previews and draws on the owner's repaint timer
(``dirty`` + :meth:`refresh`), and only while it is in view.
"""

from __future__ import annotations

import html
import importlib
import pkgutil
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from nnstudio.train.preview import Preview

from .plot_style import PlotPanel

COLUMNS = 2


class LiveRenderer:
    """Draws the previews of one ``kind`` into ``self.widget``.

    Subclasses set ``kind``, build their widget in ``__init__`` (plots through
    ``page.add_plot`` so that theme changes restyle them) and draw in :meth:`show`.
    """

    kind: ClassVar[str] = ""

    def __init__(self, page: LiveView, title: str) -> None:
        self.page = page
        self.title = title
        self.widget: QWidget = QLabel(title)

    def show(self, preview: Preview) -> None:
        raise NotImplementedError


RENDERERS: dict[str, type[LiveRenderer]] = {}


def muted_label(text: str = "") -> QLabel:
    """A wrapped label in the theme's muted colour: notes under and over pictures."""
    label = QLabel(text)
    label.setProperty("role", "muted")
    label.setWordWrap(True)
    return label


def titled_frame(title: str) -> tuple[QFrame, QVBoxLayout]:
    """A frame with ``title`` in bold at the top; add the panel's parts to the layout."""
    frame = QFrame()
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(QLabel(f"<b>{html.escape(title)}</b>"))
    return frame, layout


def register_renderer(cls: type[LiveRenderer]) -> type[LiveRenderer]:
    """Class decorator: draw previews of ``cls.kind`` with ``cls``."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} does not say which kind of preview it draws")
    RENDERERS[cls.kind] = cls
    return cls


def _load_renderers() -> None:
    from . import live

    for info in pkgutil.iter_modules(live.__path__):
        importlib.import_module(f"{live.__name__}.{info.name}")


class _Unknown(LiveRenderer):
    """A kind no renderer draws: say so rather than showing nothing."""

    def __init__(self, page: LiveView, title: str) -> None:
        super().__init__(page, title)
        self.widget = QLabel()
        self.widget.setWordWrap(True)
        self.widget.setProperty("role", "muted")

    def show(self, preview: Preview) -> None:
        self.widget.setText(f"{preview.title}: this version cannot draw "
                            f"“{preview.kind}” pictures.")


class LiveView(PlotPanel):
    """One panel per preview title; see the module's docstring."""

    EMPTY = ("The live view shows what the model makes of its data while it trains: "
             "reconstructions, generated samples, forecasts, generated text or attention "
             "maps, depending on the recipe.  Press Train to watch it.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LiveView")
        if not RENDERERS:
            _load_renderers()
        self.renderers: dict[str, LiveRenderer] = {}
        self._latest: list[Preview] = []
        self.placeholder = QLabel(self.EMPTY)
        self.placeholder.setObjectName("LiveEmpty")
        self.placeholder.setWordWrap(True)
        self.placeholder.setProperty("role", "muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel("")
        self.caption.setObjectName("LiveCaption")
        self.caption.setProperty("role", "muted")
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addWidget(self.caption)
        layout.addWidget(self.placeholder, 1)
        layout.addLayout(self.grid, 1)

    # ------------------------------------------------------------------ data in
    def clear(self) -> None:
        """Forget the panels of the last run (a new run may show other things)."""
        for renderer in self.renderers.values():
            self.grid.removeWidget(renderer.widget)
            renderer.widget.deleteLater()
        self.renderers.clear()
        self.plots.clear()
        self._latest = []
        self.caption.setText("")
        self.placeholder.show()
        self.dirty = False

    def set_previews(self, previews: list[Preview]) -> None:
        """Keep the latest previews; they are drawn on the next :meth:`refresh`."""
        if previews:
            self._latest = list(previews)
            self.dirty = True

    @property
    def titles(self) -> list[str]:
        return list(self.renderers)

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        super().refresh()
        if not self._latest:
            return
        self.placeholder.hide()
        first = self._latest[0]
        self.caption.setText(f"epoch {first.epoch} · step {first.global_step}")
        for preview in self._latest:
            renderer = self.renderers.get(preview.title)
            if renderer is None or renderer.kind != preview.kind:
                renderer = self._add_panel(preview)
            renderer.show(preview)

    def _add_panel(self, preview: Preview) -> LiveRenderer:
        old = self.renderers.pop(preview.title, None)
        if old is not None:
            self.grid.removeWidget(old.widget)
            old.widget.deleteLater()
        renderer = RENDERERS.get(preview.kind, _Unknown)(self, preview.title)
        frame = renderer.widget
        frame.setObjectName(f"Live:{preview.title}")
        index = len(self.renderers)
        columns = 3 if len(self._latest) == 3 else COLUMNS  # three side by side, else pairs
        self.grid.addWidget(frame, index // columns, index % columns)
        self.renderers[preview.title] = renderer
        return renderer
