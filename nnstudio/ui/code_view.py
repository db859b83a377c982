"""The code preview: the PyTorch source the current graph compiles to, kept up to date.

The text is exactly what Export writes (``generate(graph).source``).  It is regenerated
a short moment after the last edit (edits come in bursts while a person types), and
while that moment lasts the header says the code is being updated.  When the graph
cannot be turned into code the view shows the problems instead — never old code.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..graph.codegen import CodegenError, GeneratedCode, generate
from ..graph.document import Graph
from ..graph.project_file import atomic_write
from .code_highlight import PythonHighlighter
from .session import ProjectSession
from .theme import THEMES, Theme, theme

DEBOUNCE_MS = 200
PYGMENTS_STYLE = {"dark": "one-dark", "light": "friendly"}
NODE_ROLE = Qt.ItemDataRole.UserRole + 1


def snake_case(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or
                                   (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out) or "model"


class CodeView(QWidget):
    """Signals: ``node_requested(str)`` — the person double-clicked a problem of that
    node; ``message(str)`` — a short status line ("Exported to …")."""

    node_requested = Signal(str)
    message = Signal(str)

    def __init__(self, session: ProjectSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("CodeView")
        self.session = session
        self.code: GeneratedCode | None = None
        self.problems: list[str] = []

        self.title = QLabel()
        self.title.setObjectName("CodeTitle")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the code to the clipboard")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the code as a Python file")
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 6, 4)
        bar.setSpacing(6)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.export_button)

        self.editor = QPlainTextEdit()
        self.editor.setObjectName("CodeText")
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editor.setFont(font)
        self.editor.document().setDocumentMargin(8)
        self.highlighter = PythonHighlighter(self.editor.document(),
                                             PYGMENTS_STYLE.get(theme().name, "default"))

        self.problem_list = QListWidget()
        self.problem_list.setObjectName("CodeProblems")
        self.problem_list.setWordWrap(True)
        self.problem_list.itemActivated.connect(self._on_problem_activated)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.editor)
        self.stack.addWidget(self.problem_list)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh_now)

        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.export_button.clicked.connect(self.export)
        session.inferred.connect(self._on_inferred)
        session.current_graph_changed.connect(self._on_current_graph)
        session.project_replaced.connect(self.schedule)
        THEMES.changed.connect(self._on_theme)
        self.refresh_now()

    # ----------------------------------------------------------------- updating
    def _on_inferred(self, graph: Graph, _result) -> None:
        if graph is self.session.current_graph:
            self.schedule()

    def _on_current_graph(self, _graph: Graph) -> None:
        self.schedule()

    def schedule(self) -> None:
        """Regenerate shortly; until then the header says the code is out of date."""
        if not self._timer.isActive():
            self.title.setText(self.title.text().split("  ·  updating")[0] + "  ·  updating…")
        self._timer.start()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def refresh_now(self) -> None:
        """Regenerate the code from the current graph at once."""
        self._timer.stop()
        try:
            graph = self.session.current_graph
        except RuntimeError:
            self._show_problems(["the project has no graph"])
            return
        result = self.session.inference(graph)
        try:
            code = generate(graph, result)
        except CodegenError as e:
            ids = {err.message: err.node for err in result.all_errors()}
            self._show_problems(e.problems, ids)
            return
        self.code, self.problems = code, []
        if self.editor.toPlainText() != code.source:
            bar = self.editor.verticalScrollBar()
            keep = bar.value()
            self.highlighter.prepare(code.source)
            self.editor.setPlainText(code.source)
            bar.setValue(keep)
        total = result.total_params
        self.title.setText(f"<b>{code.class_name}</b>  ·  {total:,} parameters  ·  "
                           f"{code.source.count(chr(10))} lines of PyTorch")
        self.stack.setCurrentWidget(self.editor)
        self.copy_button.setEnabled(True)
        self.export_button.setEnabled(True)

    def _show_problems(self, problems: list[str], ids: dict[str, str] | None = None) -> None:
        self.code, self.problems = None, list(problems)
        self.problem_list.clear()
        for text in problems:
            item = QListWidgetItem(f"•  {text[:1].upper()}{text[1:]}")
            item.setForeground(theme().color("error"))
            node = (ids or {}).get(text)
            if node:
                item.setData(NODE_ROLE, node)
                item.setToolTip("Double-click to select this layer")
            self.problem_list.addItem(item)
        n = len(problems)
        self.title.setText(f"<span style='color:{theme().colors.get('error')}'><b>No code yet"
                           f"</b></span>  ·  fix {'this problem' if n == 1 else f'these {n} problems'}"
                           " and the code appears here (double-click one to find its layer)")
        self.stack.setCurrentWidget(self.problem_list)
        self.copy_button.setEnabled(False)
        self.export_button.setEnabled(False)

    def _on_problem_activated(self, item: QListWidgetItem) -> None:
        node = item.data(NODE_ROLE)
        if node:
            self.node_requested.emit(node)

    def _on_theme(self, t: Theme) -> None:
        self.highlighter.set_style(PYGMENTS_STYLE.get(t.name, "default"))
        self.refresh_now()

    # ----------------------------------------------------------------- actions
    def source(self) -> str | None:
        """The current code (regenerated now if an update is pending), or None."""
        if self.pending:
            self.refresh_now()
        return self.code.source if self.code else None

    def copy_to_clipboard(self) -> None:
        text = self.source()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.message.emit("Code copied to the clipboard")

    def suggested_filename(self) -> str:
        return f"{snake_case(self.code.class_name) if self.code else 'model'}.py"

    def export(self) -> str | None:
        """Ask where to save the code and write it there atomically; the path, or None."""
        text = self.source()
        if text is None:
            QMessageBox.warning(self, "Export Python", "The graph has problems to fix before "
                                "it can be exported:\n\n" + "\n".join(f"• {p}" for p in self.problems))
            return None
        start = Path(self.session.path).parent if self.session.path else Path.home()
        path, _ = QFileDialog.getSaveFileName(self, "Export PyTorch code",
                                              str(start / self.suggested_filename()),
                                              "Python files (*.py)")
        if not path:
            return None
        if not path.endswith(".py"):
            path += ".py"
        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as e:
            QMessageBox.warning(self, "Export Python", f"Could not write {path}: {e.strerror or e}")
            return None
        self.message.emit(f"Exported {Path(path).name}")
        return path
