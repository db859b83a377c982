"""The layer palette: every layer type of the catalog, grouped by category, searchable.

A person drags an entry onto the canvas (the drag carries :data:`LAYER_MIME` with the
type name), or double-clicks it / presses Enter to add it at the centre of the canvas;
the palette only says which type was chosen (``layer_activated``) and the window asks
the current canvas to add it.

superqt's ``QSearchableTreeWidget`` shows a key/value mapping filtered by a regular
expression; a palette needs drag data, per-item tooltips and icons, and a plain-words
search over names, categories and descriptions, so it is a small QTreeWidget here.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..graph.spec import REGISTRY, LayerSpec, Registry
from .canvas import LAYER_MIME
from .canvas.clipboard import block_key, parse_layer_key
from .swatches import category_icon, category_sort_key
from .theme import THEMES

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 2


class _LayerTree(QTreeWidget):
    """A tree whose layer entries drag out as :data:`LAYER_MIME` with the type name."""

    activated_type = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.setRootIsDecorated(True)
        self.setIndentation(14)
        self.setUniformRowHeights(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.itemActivated.connect(self._on_activated)

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        names = [it.data(0, TYPE_ROLE) for it in items if it.data(0, TYPE_ROLE)]
        if names:
            mime.setData(LAYER_MIME, names[0].encode("utf-8"))
            mime.setText(names[0])
        return mime

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.activated_type.emit(type_name)


class _SearchBox(QLineEdit):
    """Down moves into the list; Enter takes the first match."""

    move_down = Signal()
    accept_first = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.move_down.emit()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept_first.emit()
        elif event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
        else:
            super().keyPressEvent(event)


class LayerPalette(QWidget):
    """Signals: ``layer_activated(str)`` — add this layer type where the person looks."""

    layer_activated = Signal(str)

    def __init__(self, registry: Registry = REGISTRY, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("LayerPalette")
        self.registry = registry
        self.search = _SearchBox(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter by name, category or description")
        self.tree = _LayerTree(self)
        self.doc = QLabel(self)
        self.doc.setWordWrap(True)
        self.doc.setProperty("role", "muted")
        self.doc.setObjectName("PaletteDoc")
        self.doc.hide()
        self.doc.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.doc)

        self._session = None
        self._project = None
        self._block_names: tuple[str, ...] = ()
        self._build()
        self.search.textChanged.connect(self.set_filter)
        self.search.move_down.connect(self._focus_first)
        self.search.accept_first.connect(self._activate_first)
        self.tree.activated_type.connect(self.layer_activated)
        self.tree.currentItemChanged.connect(self._show_doc)
        self.tree.itemEntered.connect(self._show_doc)
        self.tree.setMouseTracking(True)
        THEMES.changed.connect(self._recolor)

    # ----------------------------------------------------------------- building
    def _build(self) -> None:
        self.tree.clear()
        cats = self.registry.categories()
        for category in sorted(cats, key=category_sort_key):
            top = QTreeWidgetItem([category])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            top.setIcon(0, category_icon(category))
            top.setData(0, SEARCH_ROLE, category.lower())
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            self.tree.addTopLevelItem(top)
            for spec in cats[category]:
                top.addChild(self._item(spec))
            top.setExpanded(True)

    # ----------------------------------------------------------------- blocks
    def attach_session(self, session) -> None:
        """List the project's graphs under "Block" (a block running each), following the
        session's project as graphs come, go and are renamed."""
        self._session = session
        session.project_replaced.connect(self._on_project)
        session.current_graph_changed.connect(self._refresh_blocks)
        session.inferred.connect(self._refresh_blocks)  # after a rename, say
        self._on_project()

    def _on_project(self) -> None:
        if self._project is not None:
            self._project.graph_added.disconnect(self._refresh_blocks)
            self._project.graph_removed.disconnect(self._refresh_blocks)
        self._project = self._session.project
        self._project.graph_added.connect(self._refresh_blocks)
        self._project.graph_removed.connect(self._refresh_blocks)
        self._refresh_blocks()

    def _refresh_blocks(self, *_args) -> None:
        if self._session is None:
            return
        try:
            current = self._session.current_graph
        except RuntimeError:
            current = None
        names = tuple(g.name for g in self._session.project.graphs if g is not current)
        if names == self._block_names:
            return
        self._block_names = names
        top = self._category_item("Block")
        if top is None:
            return
        for j in reversed(range(top.childCount())):
            if top.child(j).data(0, TYPE_ROLE) != "Block":
                top.removeChild(top.child(j))
        for name in names:
            item = QTreeWidgetItem([name])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            item.setData(0, TYPE_ROLE, block_key(name))
            item.setData(0, SEARCH_ROLE, f"{name} block graph".lower())
            item.setToolTip(0, f"A block that runs the graph '{name}' of this project")
            item.setIcon(0, category_icon("Block"))
            top.addChild(item)
        self.set_filter(self.search.text())

    def _category_item(self, category: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            if self.tree.topLevelItem(i).text(0) == category:
                return self.tree.topLevelItem(i)
        return None

    @staticmethod
    def _item(spec: LayerSpec) -> QTreeWidgetItem:
        item = QTreeWidgetItem([spec.type])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsDragEnabled)
        item.setData(0, TYPE_ROLE, spec.type)
        item.setData(0, SEARCH_ROLE, f"{spec.type} {spec.category} {spec.doc}".lower())
        item.setToolTip(0, spec.doc)
        item.setIcon(0, category_icon(spec.category))
        return item

    def _recolor(self, _theme=None) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            top.setIcon(0, category_icon(top.text(0)))
            for j in range(top.childCount()):
                child = top.child(j)
                type_name = parse_layer_key(child.data(0, TYPE_ROLE))[0]
                child.setIcon(0, category_icon(self.registry.get(type_name).category))

    # ----------------------------------------------------------------- queries
    def visible_types(self) -> list[str]:
        """Layer types currently shown (after filtering), in display order."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.isHidden():
                continue
            out += [top.child(j).data(0, TYPE_ROLE) for j in range(top.childCount())
                    if not top.child(j).isHidden()]
        return out

    def item_for(self, type_name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, TYPE_ROLE) == type_name:
                    return top.child(j)
        return None

    # ----------------------------------------------------------------- filtering
    def set_filter(self, text: str) -> None:
        """Show only layers whose name, category or description contain every word typed."""
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            any_shown = False
            for j in range(top.childCount()):
                child = top.child(j)
                hay = child.data(0, SEARCH_ROLE)
                shown = all(w in hay for w in words)
                child.setHidden(not shown)
                any_shown |= shown
            top.setHidden(not any_shown)
            if words and any_shown:
                top.setExpanded(True)
        first = self._first_visible()
        if words and first is not None:
            self.tree.setCurrentItem(first)
        elif not words:
            self.tree.setCurrentItem(None)
            self.doc.hide()
        if words and first is None:
            self.doc.setText("No layer matches. Try a shorter word, e.g. “conv” or “norm”.")
            self.doc.show()

    def _first_visible(self) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.isHidden():
                continue
            for j in range(top.childCount()):
                if not top.child(j).isHidden():
                    return top.child(j)
        return None

    def _focus_first(self) -> None:
        first = self._first_visible()
        if first is not None:
            self.tree.setCurrentItem(first)
        self.tree.setFocus()

    def _activate_first(self) -> None:
        item = self.tree.currentItem() or self._first_visible()
        if item is not None and not item.isHidden() and item.data(0, TYPE_ROLE):
            self.layer_activated.emit(item.data(0, TYPE_ROLE))

    def _show_doc(self, item: QTreeWidgetItem | None, *_args) -> None:
        key = item.data(0, TYPE_ROLE) if item is not None else None
        if key:
            type_name, params = parse_layer_key(key)
            spec = self.registry.get(type_name)
            if params:
                self.doc.setText(f"<b>Block</b> — runs the graph "
                                 f"<b>{_html(params['graph'])}</b> of this project as one "
                                 "layer")
            else:
                self.doc.setText(f"<b>{spec.type}</b> — {_html(spec.doc)}")
            self.doc.show()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
