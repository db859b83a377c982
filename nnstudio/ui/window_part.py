"""A helper object that belongs to one window: its Qt parent."""

from __future__ import annotations

from PySide6.QtCore import QObject


class WindowPart(QObject):
    """A QObject made with the window as its Qt parent.  :attr:`window` reads that
    parent: no Python reference back to the window, which would leave a closed window,
    and everything it holds, to the cyclic collector (see tests/ui/test_window_lifetime.py).
    """

    @property
    def window(self):
        return self.parent()
