"""Live renderer for "text" previews: generated text (after its prompt, dimmed) or a
table of answers, in a fixed-width font, with a one-line note above it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

from nnstudio.train.preview import Preview

from ...theme import theme
from ..live_view import LiveRenderer, LiveView, muted_label, register_renderer, titled_frame


@register_renderer
class TextRenderer(LiveRenderer):
    """A title, a muted note and a read-only text box.

    ``data["text"]`` is shown as plain text (spaces and line breaks kept, long lines
    wrapped); an optional ``data["prompt"]`` is shown before it, dimmed: what the model
    was given rather than what it wrote.
    """

    kind = "text"

    def __init__(self, page: LiveView, title: str) -> None:
        super().__init__(page, title)
        self.widget, layout = titled_frame(title)
        self.note = muted_label()
        self.body = QPlainTextEdit()
        self.body.setObjectName("LiveText")
        self.body.setReadOnly(True)
        self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.body.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.body.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body.setMinimumSize(120, 90)
        layout.addWidget(self.note)
        layout.addWidget(self.body, 1)
        self.shown: Preview | None = None  # the preview on screen

    def show(self, preview: Preview) -> None:
        self.shown = preview
        data = preview.data
        note = data.get("note", "")
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.body.clear()
        cursor = QTextCursor(self.body.document())
        dimmed = QTextCharFormat()
        dimmed.setForeground(QColor(theme().colors.get("muted", "#999")))
        cursor.insertText(data.get("prompt", ""), dimmed)
        cursor.insertText(data["text"], QTextCharFormat())

    @property
    def plain_text(self) -> str:
        """What the text box shows, as plain text (prompt and text)."""
        return self.body.toPlainText()
