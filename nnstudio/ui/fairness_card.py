"""The model card from the Fairness tab: the intended use a person writes, and the export.

The intended use is part of the project (``project.meta["intended_use"]``, saved in the
project file).  :class:`IntendedUseEdit` shows it; every change is an undoable
:class:`SetProjectMetaCommand` on the session's undo stack, so Ctrl+Z takes it back and
the window's unsaved-changes marker follows.  The keystrokes of one visit to the field
(focus in to focus out) merge into one undo step, and the document holds the text
after every keystroke, so saving never misses the last words typed.

:func:`card_for_run` fills a :class:`~nnstudio.export.model_card.ModelCard` from a run
the tab keeps (see :mod:`nnstudio.export.model_card`; no Qt there).
"""

from __future__ import annotations

import copy
import itertools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from nnstudio.graph.document import Project

from .commands import Command

if TYPE_CHECKING:
    from nnstudio.export.model_card import ModelCard

    from .fairness_runs import FairRun
    from .session import ProjectSession

INTENDED_USE = "intended_use"
PLACEHOLDER = ("Intended use: who should use this model, for what decisions, and what it "
               "must not be used for. It goes on the model card and is saved with the "
               "project.")
_MISSING = object()


class SetProjectMetaCommand(Command):
    """Set one key of ``project.meta`` (e.g. the intended use); successive edits of the
    same key within one ``visit`` merge into one undo step."""

    ID = 2101

    def __init__(self, project: Project, key: str, value: Any, visit: int = 0,
                 text: str = ""):
        super().__init__(text or f"Edit {key.replace('_', ' ')}")
        self.project = project
        self.key = key
        old = project.meta.get(key, _MISSING)
        self.old = old if old is _MISSING else copy.deepcopy(old)  # a copy is not _MISSING
        self.new = copy.deepcopy(value)
        self.visit = visit

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other) -> bool:
        if (not isinstance(other, SetProjectMetaCommand) or other.project is not self.project
                or other.key != self.key or other.visit != self.visit):
            return False
        self.new = other.new
        return True

    def _set(self, value: Any) -> None:
        # a new dict rather than an edit in place: whoever holds the old one keeps it
        meta = dict(self.project.meta)
        if value is _MISSING:
            meta.pop(self.key, None)
        else:
            meta[self.key] = copy.deepcopy(value)
        self.project.meta = meta
        self.project.changed.emit()

    def apply(self) -> None:
        self._set(self.new)

    def revert(self) -> None:
        self._set(self.old)


_visits = itertools.count(1)


class IntendedUseEdit(QPlainTextEdit):
    """The project's intended use, edited in place (read-only while edits are locked)."""

    def __init__(self, session: ProjectSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IntendedUse")
        self.session = session
        self.setPlaceholderText(PLACEHOLDER)
        self.setToolTip(PLACEHOLDER)
        self.setTabChangesFocus(True)
        self._visit = next(_visits)
        self.textChanged.connect(self._on_text)
        session.undo_stack.indexChanged.connect(self.refresh)
        session.project_replaced.connect(self.refresh)
        session.lock_changed.connect(self._on_lock)
        self._on_lock(session.locked, session.lock_reason)
        self.refresh()

    def project_text(self) -> str:
        value = self.session.project.meta.get(INTENDED_USE, "")
        return value if isinstance(value, str) else ""

    def refresh(self, *_args) -> None:
        """Show the project's text (no-op when it is what is shown: the cursor stays)."""
        text = self.project_text()
        if text != self.toPlainText():
            with QSignalBlocker(self):
                self.setPlainText(text)

    def focusInEvent(self, event) -> None:
        self._visit = next(_visits)  # a new visit: a new undo step
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        self._visit = next(_visits)
        super().focusOutEvent(event)

    def _on_text(self) -> None:
        text = self.toPlainText()
        if text == self.project_text():
            return
        if not self.session.push(SetProjectMetaCommand(self.session.project, INTENDED_USE,
                                                       text, self._visit,
                                                       "Edit the intended use")):
            self.refresh()  # refused (edits locked): show what the project holds

    def _on_lock(self, locked: bool, reason: str) -> None:
        self.setReadOnly(locked)
        self.setToolTip(f"Read-only: {reason}" if locked else PLACEHOLDER)


def card_for_run(run: FairRun, session: ProjectSession, comparisons: list[dict[str, Any]],
                 intended_use: str | None = None) -> ModelCard:
    """The model card of ``run`` (its PreparedRun and TrainResult when the tab has them);
    ``intended_use`` None takes the project's."""
    from nnstudio.export.model_card import card_from_results

    prepared, result = run.prepared, run.result
    kwargs: dict[str, Any] = {}
    if prepared is not None:
        splits = prepared.splits
        kwargs.update(graph=prepared.graph, dataset=prepared.dataset,
                      config=prepared.config.to_dict(),
                      examples={s: len(getattr(splits, s)) for s in ("train", "val", "test")},
                      dataset_description=splits.info.description)
    if result is not None:
        kwargs.update(metrics=result.metrics,
                      trained=f"{result.stopped_reason}: {result.message}")
    return card_from_results(session.project, fairness=run.evaluations,
                             comparisons=comparisons, intended_use=intended_use, **kwargs)
