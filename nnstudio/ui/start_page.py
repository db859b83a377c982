"""The start page: the worked examples of the roadmap, recent files, a blank project.

A dialog in the manner of MATLAB's Deep Network Designer: a list of examples on the
left (each with a small picture of its network), the chosen one's full explanation on
the right, with its challenge — a ✓ beside the examples whose challenge this person has
achieved (:mod:`.achievements`).  It only reports what the person chose; the window
opens it.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..graph.challenge_schema import ChallengeError, challenge_of
from ..graph.project_file import ProjectFileError
from ..graph.templates import TemplateError, TemplateInfo, list_templates, load_template
from . import achievements
from .graph_preview import graph_preview
from .theme import theme

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
SHOW_KEY = "start/show_at_startup"
THUMB = QSize(112, 40)


def show_at_startup() -> bool:
    return QSettings().value(SHOW_KEY, True, type=bool)


class StartPage(QDialog):
    """Signals: ``template_chosen(name)``, ``recent_chosen(path)``, ``blank_requested()``,
    ``open_requested()``.  Choosing anything closes the page."""

    template_chosen = Signal(str)
    recent_chosen = Signal(str)
    blank_requested = Signal()
    open_requested = Signal()

    def __init__(self, recent_paths: list[str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("StartPage")
        self.setWindowTitle("Welcome to nnstudio")
        self.resize(960, 600)
        try:
            self.templates: list[TemplateInfo] = list_templates()
        except ProjectFileError:
            self.templates = []
        self._previews: dict[tuple, object] = {}
        self._projects: dict[str, object] = {}

        title = QLabel("Welcome to nnstudio")
        title.setProperty("role", "title")
        subtitle = QLabel("Draw a network, see the tensor shape on every wire, train it, and "
                          "export plain PyTorch. Start from an example:")
        subtitle.setProperty("role", "muted")
        subtitle.setWordWrap(True)

        self.examples = QListWidget()
        self.examples.setObjectName("StartExamples")
        self.examples.setIconSize(THUMB)
        self.examples.setSpacing(2)
        self.examples.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for info in self.templates:
            item = QListWidgetItem(self._list_text(info))
            item.setData(NAME_ROLE, info.name)
            item.setToolTip(info.description)
            thumb = self._preview(info.name, THUMB.width(), THUMB.height())
            if thumb is not None:
                item.setIcon(QIcon(thumb))
            item.setSizeHint(QSize(0, THUMB.height() + 14))
            self.examples.addItem(item)
        self.examples.currentItemChanged.connect(self._show_details)
        self.examples.itemActivated.connect(lambda _i: self._choose_template())

        self.recent = QListWidget()
        self.recent.setObjectName("StartRecent")
        for path in (recent_paths or [])[:6]:
            item = QListWidgetItem(Path(path).name)
            item.setToolTip(path)
            item.setData(NAME_ROLE, path)
            self.recent.addItem(item)
        self.recent.setMaximumHeight(26 * max(1, self.recent.count()) + 8)
        self.recent.itemActivated.connect(self._choose_recent)
        recent_title = QLabel("RECENT FILES")
        recent_title.setProperty("role", "section")
        recent_title.setVisible(self.recent.count() > 0)
        self.recent.setVisible(self.recent.count() > 0)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        examples_title = QLabel("EXAMPLES")
        examples_title.setProperty("role", "section")
        lv.addWidget(examples_title)
        lv.addWidget(self.examples, 1)
        lv.addWidget(recent_title)
        lv.addWidget(self.recent)

        self.preview = QLabel()
        self.preview.setObjectName("StartPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedHeight(120)
        self.detail_title = QLabel()
        self.detail_title.setProperty("role", "title")
        self.detail_title.setWordWrap(True)
        self.detail_stage = QLabel()
        self.detail_stage.setProperty("role", "muted")
        self.detail_challenge = QLabel()
        self.detail_challenge.setObjectName("StartChallenge")
        self.detail_challenge.setWordWrap(True)
        self.detail_challenge.setTextFormat(Qt.TextFormat.RichText)
        self.detail_text = QLabel()
        self.detail_text.setWordWrap(True)
        self.detail_text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.detail_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open example")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self._choose_template)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(12, 0, 0, 0)
        rv.setSpacing(8)
        rv.addWidget(self.preview)
        rv.addWidget(self.detail_title)
        rv.addWidget(self.detail_stage)
        rv.addWidget(self.detail_challenge)
        rv.addWidget(self.detail_text, 1)
        rb = QHBoxLayout()
        rb.addStretch(1)
        rb.addWidget(self.open_button)
        rv.addLayout(rb)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 560])
        split.setChildrenCollapsible(False)

        self.blank_button = QPushButton("Blank project")
        self.blank_button.clicked.connect(lambda: self._done(self.blank_requested.emit))
        self.file_button = QPushButton("Open file…")
        self.file_button.clicked.connect(lambda: self._done(self.open_requested.emit))
        self.show_check = QCheckBox("Show this page at startup")
        self.show_check.setChecked(show_at_startup())
        self.show_check.toggled.connect(lambda on: QSettings().setValue(SHOW_KEY, on))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.blank_button)
        bottom.addWidget(self.file_button)
        bottom.addSpacing(16)
        bottom.addWidget(self.show_check)
        bottom.addStretch(1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

        if self.examples.count():
            self.examples.setCurrentRow(0)
        else:
            self._show_details(None)

    # ----------------------------------------------------------------- details
    def _project(self, name: str):
        if name not in self._projects:
            try:
                self._projects[name] = load_template(name)
            except (ProjectFileError, TemplateError):
                self._projects[name] = None  # still listed; it just has no picture
        return self._projects[name]

    def _preview(self, name: str, w: int, h: int):
        key = (name, w, h)
        project = self._project(name)
        if project is None or not project.graphs:
            return None
        if key not in self._previews:
            self._previews[key] = graph_preview(project.graph(), w, h)
        return self._previews[key]

    def _list_text(self, info: TemplateInfo) -> str:
        """Two lines: "Perceptron" / "one neuron, one straight line" (or the stage);
        "✓ " before the name when its challenge is achieved."""
        head, _, rest = info.title.partition(":")
        if not rest.strip():
            project = self._project(info.name)
            rest = project.meta.get("stage", "") if project is not None else ""
        head = ("✓ " if self.achieved(info.name) is not None else "") + head.strip()
        return f"{head}\n{rest.strip()}" if rest.strip() else head

    def _goal(self, name: str) -> str | None:
        project = self._project(name)
        try:
            challenge = challenge_of(project.meta) if project is not None else None
        except ChallengeError:
            return None
        return challenge.goal if challenge is not None else None

    def achieved(self, name: str) -> dict[str, str] | None:
        """The record of template ``name``'s challenge achieved (its goal as it is now)."""
        goal = self._goal(name)
        return achievements.achievement(name, goal) if goal is not None else None

    def _challenge_html(self, name: str) -> str:
        goal = self._goal(name)
        if goal is None:
            return ""
        colors = theme().colors
        done = self.achieved(name)
        if done is None:
            state = (f"<span style='color:{colors.get('muted', '#888')}'>Not achieved yet: "
                     "train the example, change it, and the Training panel checks it.</span>")
        else:
            state = (f"<span style='color:{colors.get('ok', '#3a3')}'>✓ Achieved "
                     f"{html.escape(done['when'])}</span> — {html.escape(done['summary'])}")
        return f"<b>Challenge</b>: {html.escape(goal)}<br>{state}"

    def _info(self, name: str) -> TemplateInfo | None:
        return next((t for t in self.templates if t.name == name), None)

    def _show_details(self, item: QListWidgetItem | None, _prev=None) -> None:
        info = self._info(item.data(NAME_ROLE)) if item is not None else None
        if info is None:
            self.detail_title.setText("No examples found")
            self.detail_text.setText("Start from a blank project, or open a file.")
            self.detail_stage.clear()
            self.detail_challenge.clear()
            self.preview.clear()
            self.open_button.setEnabled(False)
            return
        self.detail_title.setText(info.title)
        project = self._project(info.name)
        stage = project.meta.get("stage", "") if project is not None else ""
        self.detail_stage.setText(f"Roadmap: {stage}" if stage else "")
        challenge = self._challenge_html(info.name)
        self.detail_challenge.setText(challenge)
        self.detail_challenge.setVisible(bool(challenge))
        self.detail_text.setText(info.description)
        pm = self._preview(info.name, 520, 110)
        if pm is not None:
            self.preview.setPixmap(pm)
        self.open_button.setEnabled(True)

    # ----------------------------------------------------------------- choosing
    def selected_template(self) -> str | None:
        item = self.examples.currentItem()
        return item.data(NAME_ROLE) if item is not None else None

    def select_template(self, name: str) -> None:
        for i in range(self.examples.count()):
            if self.examples.item(i).data(NAME_ROLE) == name:
                self.examples.setCurrentRow(i)

    def _choose_template(self) -> None:
        name = self.selected_template()
        if name:
            self._done(lambda: self.template_chosen.emit(name))

    def _choose_recent(self, item: QListWidgetItem) -> None:
        path = item.data(NAME_ROLE)
        self._done(lambda: self.recent_chosen.emit(path))

    def _done(self, emit) -> None:
        self.accept()
        emit()
