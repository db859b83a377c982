"""Small parts of the Training panel: its banners, the column that fills it, and the
plain helpers it uses (time left as text, a dataset spec with every option filled in,
loading a data set's preview)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from nnstudio.data import DatasetError, get_dataset, load_dataset, preview
from nnstudio.graph.document import Project
from nnstudio.train.project_run import RunSetupError, dataset_spec

from ..theme import Theme, theme


def fmt_time(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def resolved_dataset(spec: dict[str, Any]) -> dict[str, Any]:
    """A dataset spec with every option's value filled in (so two runs compare fairly)."""
    try:
        entry = get_dataset(spec["name"])
        common = {o.name: spec.get(o.name, o.default) for o in entry.all_options()
                  if o.name not in {x.name for x in entry.options}}
        own = entry.resolve({k: v for k, v in spec.items() if k in {o.name for o in entry.options}})
        return {"name": spec["name"], **common, **own}
    except (DatasetError, KeyError):
        return dict(spec)


class FillLayout(QVBoxLayout):
    """A column that never asks for a height for its width: inside a scroll area, the
    word-wrapped banners would otherwise make the body as tall as all its size hints
    and push the plots below the fold; this way it fills the panel and only scrolls
    when the panel is smaller than the body's minimum."""

    def hasHeightForWidth(self) -> bool:
        return False


class Banner(QFrame):
    """A coloured line of text with a close button (errors) or without (the lock)."""

    def __init__(self, name: str, kind: str, closable: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.kind = kind
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 3, 4, 3)
        row.addWidget(self.label, 1)
        if closable:
            close = QToolButton()
            close.setText("✕")
            close.setAutoRaise(True)
            close.setToolTip("Dismiss")
            close.clicked.connect(self.hide)
            row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.restyle(theme())
        self.hide()

    def restyle(self, t: Theme) -> None:
        back = t.colors.get("error" if self.kind == "error" else "accent", "#c33")
        self.setStyleSheet(f"QFrame#{self.objectName()} {{ background: {back}; border-radius: 3px; }}"
                           f" QFrame#{self.objectName()} QLabel, QFrame#{self.objectName()} "
                           "QToolButton { color: #ffffff; background: transparent; border: none; }")

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


def load_preview(project: Project, shown: Mapping[str, Any] | None, files_ok: bool,
                 progress: Any = None
                 ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str]:
    """(spec, preview, problem) for the project's data set.

    ``spec`` is None when nothing was looked at: the spec equals ``shown`` (already on
    screen), or it names a person's files and ``files_ok`` is False (they can be large).
    ``problem`` is a message for the person ("" when the preview loaded).  ``progress``
    is passed to the loader (see :func:`nnstudio.data.load_dataset`): a cancelled load
    stops at its next report.
    """
    try:
        spec = dataset_spec(project)
        entry = get_dataset(spec["name"])
    except (RunSetupError, DatasetError) as e:
        return None, None, str(e)
    if spec == shown or (entry.group == "Your files" and not files_ok):
        return None, None, ""
    options = {k: v for k, v in spec.items() if k != "name"}
    options.setdefault("seed", (project.training.get("config") or {}).get("seed", 0))
    try:
        splits = load_dataset(spec["name"], progress=progress, **options)
    except DatasetError as e:
        return spec, None, f"dataset '{spec['name']}': {e}"
    view = preview(splits)
    view["feature_names"] = tuple(splits.info.feature_names)
    return spec, view, ""
