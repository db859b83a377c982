"""The challenge line of the Training panel: the template's goal before a run, and after
each run whether it was achieved, with the figures ("✓ Achieved — test accuracy 0.989 ≥
0.98 ✓; 45,866 parameters ≤ 50,000 ✓").

It follows the panel through its signals (a project opened, a run started, a run
finished) and records an achievement for the start page (:mod:`..achievements`).
Hidden when the project has no challenge.
"""

from __future__ import annotations

import html
import weakref
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel

from nnstudio.graph.challenge_schema import Challenge, ChallengeError, challenge_of
from nnstudio.train import TrainResult
from nnstudio.train.challenges import Verdict, check, count_parameters

from .. import achievements
from ..theme import THEMES, Theme, theme

if TYPE_CHECKING:
    from .dock import TrainingDock


class ChallengeView(QFrame):
    """The challenge of the dock's project and the verdict of its last run."""

    def __init__(self, dock: TrainingDock) -> None:
        super().__init__(dock)
        self.setObjectName("TrainingChallenge")
        self._dock = weakref.ref(dock)
        self.challenge: Challenge | None = None
        self.problem = ""  # why the project's challenge cannot be checked
        self.verdict: Verdict | None = None
        self.label = QLabel()
        self.label.setObjectName("TrainingChallengeText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 3, 6, 3)
        row.addWidget(self.label, 1)
        dock.session.project_replaced.connect(self.refresh)
        dock.state_changed.connect(self._on_state)
        dock.run_finished.connect(self._on_finished)
        THEMES.changed.connect(self._on_theme)
        self._t = theme()
        self._restyle()
        self.refresh()

    # ------------------------------------------------------------------ what it reads
    @property
    def dock(self) -> TrainingDock:
        """The panel this belongs to (held weakly: the panel holds this, and a reference
        back would leave both to the cyclic collector)."""
        return self._dock()

    @property
    def template(self) -> str | None:
        name = self.dock.session.project.meta.get("template")
        return name if isinstance(name, str) and name else None

    def refresh(self) -> None:
        """Read the project's challenge again and show its goal (no verdict yet)."""
        self.verdict = None
        self.challenge, self.problem = None, ""
        try:
            self.challenge = challenge_of(self.dock.session.project.meta)
        except ChallengeError as e:
            self.problem = str(e)
        self.setVisible(self.challenge is not None or bool(self.problem))
        self._show("")

    def text(self) -> str:
        """What the line says, as plain text (empty when hidden)."""
        if self.isHidden() or not self.label.text():
            return ""
        return QTextDocumentFragment.fromHtml(self.label.text()).toPlainText()

    # ------------------------------------------------------------------ following runs
    def _on_state(self, state: str) -> None:
        if state == "running" and self.challenge is not None:
            self.verdict = None
            self._show(f"<span style='color:{self._c('muted')}'>training…</span>")

    def _on_finished(self, result: TrainResult) -> None:
        if self.challenge is None:
            return
        prepared = self.dock.prepared
        parameters = count_parameters(prepared.model) if prepared is not None else None
        if parameters is None and self.challenge.max_parameters is not None:
            return  # no model to count: nothing fair to say
        self.verdict = check(self.challenge, result, parameters)
        if (self.verdict.achieved and self.template is not None
                and achievements.record(self.template,
                                        self.dock.session.project.meta["challenge"],
                                        self.verdict.summary)):
            self.dock.message.emit(f"Challenge achieved: {self.challenge.goal}")
        self._show(self._verdict_html(self.verdict))

    # ------------------------------------------------------------------ drawing
    def _c(self, key: str) -> str:
        return self._t.colors.get(key, "#888888")

    def _show(self, second: str) -> None:
        if self.problem:
            self.label.setText(f"<b>Challenge</b>: <span style='color:{self._c('muted')}'>"
                               f"cannot be checked — {html.escape(self.problem)}</span>")
            return
        if self.challenge is None:
            self.label.clear()
            return
        if not second:
            second = self._before_html()
        self.label.setText(f"<b>Challenge</b>: {html.escape(self.challenge.goal)}"
                           f"&nbsp;&nbsp;{second}")

    def _before_html(self) -> str:
        done = (achievements.achievement(self.template, self.challenge.goal)
                if self.template is not None else None)
        if done is not None:
            return (f"<span style='color:{self._c('ok')}'>✓ achieved {html.escape(done['when'])}"
                    f"</span> <span style='color:{self._c('muted')}'>— train to try again</span>")
        return f"<span style='color:{self._c('muted')}'>— train to check it</span>"

    def _verdict_html(self, v: Verdict) -> str:
        head = (f"<span style='color:{self._c('ok')}'><b>✓ Achieved</b></span>" if v.achieved
                else f"<span style='color:{self._c('node_selected')}'><b>✗ Not yet</b></span>")
        return f"<br>{head} — {html.escape(v.summary)}"

    def _on_theme(self, t: Theme) -> None:
        self._t = t
        self._restyle()
        self._show(self._verdict_html(self.verdict) if self.verdict is not None else "")

    def _restyle(self) -> None:
        self.setStyleSheet(
            f"QFrame#TrainingChallenge {{ border-left: 3px solid {self._c('accent')};"
            f" background: {self._c('node_body')}; border-radius: 2px; }}"
            " QFrame#TrainingChallenge QLabel { background: transparent; border: none; }")
