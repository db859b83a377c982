"""The quick-add popup: a small search field and list over the layer catalog.

Tab or a double-click on the empty canvas opens it at the pointer; typing filters the
catalog by fuzzy match on type names, categories and docs; Enter adds the highlighted
layer where the popup was opened.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from ...graph.spec import LayerSpec, Registry
from ..theme import theme
from .clipboard import block_key

MAX_RESULTS = 40


def fuzzy_score(query: str, text: str) -> float | None:
    """How well ``query`` matches ``text`` as an in-order subsequence (None: no match).

    Consecutive letters and letters at word starts score more, so "c2d" finds Conv2d
    and "bn" finds BatchNorm.
    """
    q, t = query.lower(), text.lower()
    if not q:
        return 0.0
    score, ti, prev = 0.0, 0, -2
    for ch in q:
        ti = t.find(ch, ti)
        if ti < 0:
            return None
        bonus = 1.0
        if ti == prev + 1:
            bonus += 2.0
        if ti == 0 or not text[ti - 1].isalnum() or (text[ti].isupper()
                                                    and text[ti - 1].islower()):
            bonus += 1.5
        score += bonus
        prev, ti = ti, ti + 1
    return score / len(q) - 0.01 * (len(t) - len(q))


def search_catalog(query: str, specs) -> list[LayerSpec]:
    """Layer specs that match ``query``, best first (all of them, by category, if empty)."""
    query = query.strip()
    specs = list(specs)
    if not query:
        return sorted(specs, key=lambda s: (s.category, s.type))
    words = query.lower().split()
    scored = []
    for spec in specs:
        best = None
        s = fuzzy_score(query.replace(" ", ""), spec.type)
        if s is not None:
            best = s * 3.0 + (6.0 if spec.type.lower() == query.lower() else 0.0) \
                + (2.0 if spec.type.lower().startswith(query.lower()) else 0.0)
        if all(w in spec.category.lower() for w in words):
            best = max(best or 0.0, 4.0)
        if all(w in spec.doc.lower() for w in words):
            best = max(best or 0.0, 2.0)
        if best is not None:
            scored.append((-best, spec.type, spec))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [s for _, _, s in scored]


class QuickAddPopup(QFrame):
    """Emits ``chosen(type_name)`` when the person picks a layer."""

    chosen = Signal(str)

    def __init__(self, registry: Registry, parent=None,
                 block_graphs: Callable[[], list[str]] | None = None):
        super().__init__(parent)
        self.registry = registry
        # the project's graphs a block may run: offered as "Block: <graph>"
        self.block_graphs = block_graphs or (list)
        self.setObjectName("QuickAdd")
        self.setFrameShape(QFrame.StyledPanel)
        self.setAutoFillBackground(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add layer…")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.NoFocus)
        lay.addWidget(self.edit)
        lay.addWidget(self.list)
        self.setFixedSize(260, 300)
        self.edit.textChanged.connect(self._refill)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._pick)
        self.list.itemClicked.connect(self._pick)
        self.hide()

    def popup(self, at: QPoint) -> None:
        """Show at ``at`` (parent coordinates), kept inside the parent."""
        parent = self.parentWidget()
        x, y = at.x(), at.y()
        if parent is not None:
            x = max(0, min(x, parent.width() - self.width()))
            y = max(0, min(y, parent.height() - self.height()))
        self.move(x, y)
        self.edit.clear()
        self._refill("")
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.PopupFocusReason)

    def _refill(self, text: str) -> None:
        self.list.clear()
        query = text.strip().replace(" ", "")
        names = self.block_graphs()
        # the project's graphs first when the query names one (or there is no query);
        # those found only through the word "block" after the catalog
        first = [n for n in names if not query or fuzzy_score(query, n) is not None]
        later = [n for n in names if n not in first
                 and fuzzy_score(query, f"Block {n}") is not None]
        self._add_blocks(first)
        for spec in search_catalog(text, self.registry)[:MAX_RESULTS]:
            item = QListWidgetItem(_swatch(theme().category(spec.category)), spec.type)
            item.setData(Qt.UserRole, spec.type)
            item.setToolTip(f"{spec.category} — {spec.doc}")
            self.list.addItem(item)
        self._add_blocks(later)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _add_blocks(self, names: list[str]) -> None:
        for name in names:
            item = QListWidgetItem(_swatch(theme().category("Block")), f"Block: {name}")
            item.setData(Qt.UserRole, block_key(name))
            item.setToolTip(f"Block — runs the graph '{name}' of this project")
            self.list.addItem(item)

    def current_type(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.UserRole) if item is not None else None

    def _pick(self, item=None) -> None:
        name = item.data(Qt.UserRole) if item is not None else self.current_type()
        if name:
            self.hide()
            self.chosen.emit(name)

    def eventFilter(self, obj, event):
        if obj is self.edit and event.type() == QEvent.KeyPress:
            key = event.key()
            if key in (Qt.Key_Return, Qt.Key_Enter):
                self._pick()
                return True
            if key == Qt.Key_Escape:
                self.hide()
                if self.parentWidget() is not None:
                    self.parentWidget().setFocus()
                return True
            if key in (Qt.Key_Down, Qt.Key_Up, Qt.Key_PageDown, Qt.Key_PageUp):
                step = {Qt.Key_Down: 1, Qt.Key_Up: -1, Qt.Key_PageDown: 8,
                        Qt.Key_PageUp: -8}[key]
                n = self.list.count()
                if n:
                    self.list.setCurrentRow(max(0, min(n - 1, self.list.currentRow() + step)))
                return True
        if (obj is self.edit and event.type() == QEvent.FocusOut and self.isVisible()
                and event.reason() not in (Qt.PopupFocusReason, Qt.OtherFocusReason)):
            self.hide()  # the person clicked elsewhere
        return super().eventFilter(obj, event)


def _swatch(color: QColor) -> QIcon:
    pm = QPixmap(10, 10)
    pm.fill(color)
    return QIcon(pm)
