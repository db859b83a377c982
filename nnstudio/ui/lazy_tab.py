"""A tab whose widget is built the first time it is needed.

The Training and Fairness panels hold a dozen pyqtgraph plots; building them (and
importing pyqtgraph) costs more than half a second, and neither is in view when the
window opens.  A :class:`LazyTab` puts an empty page in their place and builds the real
widget when its tab is first shown, or when code asks for it (:attr:`widget`) — for
instance when the person presses Train (F5) with the Code tab in front.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget, QWidget


class LazyTab(QObject):
    """Signal ``built(QWidget)`` once the real widget exists and sits in its tab."""

    built = Signal(object)

    def __init__(self, tabs: QTabWidget, title: str, factory: Callable[[], QWidget]) -> None:
        super().__init__(tabs)
        self.tabs = tabs
        self.title = title
        # a bound method (a controller's) is held weakly: the controller holds this tab,
        # and a strong reference back would leave both to the cyclic collector
        self._factory = (weakref.WeakMethod(factory) if hasattr(factory, "__self__")
                         else lambda: factory)
        self._widget: QWidget | None = None
        self._building = False
        self.placeholder = QWidget()
        self.placeholder.setObjectName(f"Placeholder:{title}")
        tabs.addTab(self.placeholder, title)
        tabs.currentChanged.connect(self._on_current_changed)

    @property
    def is_built(self) -> bool:
        return self._widget is not None

    @property
    def page(self) -> QWidget:
        """What sits in the tab now: the placeholder until built, then the widget."""
        return self._widget if self._widget is not None else self.placeholder

    @property
    def widget(self) -> QWidget:
        """The real widget, built now if it was not yet."""
        if self._widget is None:
            self._build()
        assert self._widget is not None
        return self._widget

    def _on_current_changed(self, index: int) -> None:
        if self._widget is None and not self._building and self.tabs.widget(index) is self.placeholder:
            self._build()

    def _build(self) -> None:
        if self._building:
            raise RuntimeError(f"the {self.title} panel asked for itself while being built")
        self._building = True
        try:
            factory = self._factory()
            if factory is None:
                raise RuntimeError(f"the {self.title} panel's owner is gone")
            widget = factory()
            index = self.tabs.indexOf(self.placeholder)
            was_current = self.tabs.currentIndex() == index
            self.tabs.insertTab(index, widget, self.title)
            self.tabs.removeTab(index + 1)
            if was_current:
                self.tabs.setCurrentWidget(widget)
            self._widget = widget
        finally:
            self._building = False
        self.placeholder.deleteLater()
        self.tabs.currentChanged.disconnect(self._on_current_changed)
        self.built.emit(widget)
