"""Python syntax colours for the code preview, from a pygments style.

superqt's ``CodeSyntaxHighlight`` lexes one line at a time, so a docstring that spans
lines loses its colour after the first; here the whole text is lexed once before it is
set (:meth:`PythonHighlighter.prepare`), and each block takes its slice of the spans.
"""

from __future__ import annotations

from bisect import bisect_right

from pygments.lexers import PythonLexer
from pygments.styles import get_style_by_name
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument


def _formats(style_name: str) -> tuple[dict, str]:
    style = get_style_by_name(style_name)
    out = {}
    for token, s in style:
        f = QTextCharFormat()
        if s["color"]:
            f.setForeground(QColor(f"#{s['color']}"))
        if s["bold"]:
            f.setFontWeight(QFont.Weight.Bold)
        if s["italic"]:
            f.setFontItalic(True)
        out[token] = f
    return out, style.background_color


class PythonHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, style_name: str = "default"):
        super().__init__(document)
        self._lexer = PythonLexer(stripnl=False, ensurenl=False)
        self._spans: list[tuple[int, int, QTextCharFormat]] = []
        self._starts: list[int] = []
        self._styles, self.background = _formats(style_name)

    def set_style(self, style_name: str) -> None:
        self._styles, self.background = _formats(style_name)
        self.prepare(self.document().toPlainText())
        self.rehighlight()

    def prepare(self, text: str) -> None:
        """Lex ``text``, which the document is about to be set to."""
        spans = []
        pos = 0
        for token, value in self._lexer.get_tokens(text):
            fmt = None
            t = token
            while t is not None and fmt is None:  # fall back to the parent token's style
                fmt = self._styles.get(t)
                t = t.parent
            if fmt is not None and value:
                spans.append((pos, len(value), fmt))
            pos += len(value)
        self._spans = spans
        self._starts = [p for p, _, _ in spans]

    def highlightBlock(self, text: str) -> None:
        start = self.currentBlock().position()
        end = start + len(text)
        first = max(0, bisect_right(self._starts, start) - 1)
        for pos, length, fmt in self._spans[first:]:
            if pos + length <= start:
                continue
            if pos >= end:
                break
            a, b = max(pos, start), min(pos + length, end)
            self.setFormat(a - start, b - a, fmt)
