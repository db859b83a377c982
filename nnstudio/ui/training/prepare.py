"""Loading a run's data off the GUI thread, behind a progress dialog with Cancel.

Preparing a run (loading the data set, compiling the graph) and loading the Setup
page's preview can take seconds: a big CSV file, an image folder, MNIST, or only the
first import of scikit-learn.  Both go through :func:`~nnstudio.ui.progress.run_with_progress`
on a worker thread, so the window keeps painting; a dialog appears when the work takes
longer than :data:`DELAY_MS`, and its Cancel returns at once, starting nothing.

On Cancel the worker is abandoned rather than waited for; the data registry's loaders
report progress as they go, and the next report after Cancel stops them with
``DatasetCancelled`` (a run's loader stops there, before the graph is compiled), and a
load that cannot report simply finishes unseen, its result dropped.

One load at a time: while one is in progress (its dialog is modal, but timers still
fire), a preview refresh is skipped and a second prepare refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from nnstudio.graph.document import Project
from nnstudio.train.project_run import PreparedRun

from ..progress import OperationCancelled, Progress, run_with_progress
from .panel_parts import load_preview

DELAY_MS = 300  # quicker work never shows a dialog
PREPARE_TITLE = "Preparing the run"
PREVIEW_TITLE = "Loading the data set"

_busy = False


def is_busy() -> bool:
    """Whether a run is being prepared or a preview loaded right now."""
    return _busy


def _tell(parent: QWidget | None, text: str) -> None:
    message = getattr(parent, "message", None)
    if message is not None and hasattr(message, "emit"):
        message.emit(text)


def _in_background(parent: QWidget | None, title: str, label: str,
                   work: Callable[[Progress], Any], delay_ms: int) -> Any:
    """``work(progress)`` behind the dialog; OperationCancelled on Cancel."""
    global _busy
    _busy = True
    try:
        return run_with_progress(parent, title, work, label=label, abandon_on_cancel=True,
                                 delay_ms=delay_ms)
    finally:
        _busy = False


def prepare_with_progress(parent: QWidget | None,
                          prepare: Callable[[Progress], PreparedRun], *,
                          delay_ms: int = DELAY_MS) -> PreparedRun | None:
    """Run ``prepare(progress)`` (e.g. ``prepare_run(..., progress=progress)``) on a
    worker thread behind a cancellable progress dialog.

    Returns the prepared run, or None when the person cancelled (or another load is in
    progress): then nothing was started and ``parent.message`` says so.  Anything
    ``prepare`` raises (RunSetupError, a layer torch refuses) is raised here, on the
    calling thread.  ``prepare`` must not touch widgets; it may read the document (the
    dialog is modal, so nothing edits it meanwhile).
    """
    if _busy:
        return None
    try:
        return _in_background(parent, PREPARE_TITLE,
                              "Loading the data set and compiling the graph…", prepare,
                              delay_ms)
    except OperationCancelled:
        _tell(parent, "Training not started: preparing the run was cancelled")
        return None


def preview_with_progress(parent: QWidget | None, project: Project,
                          shown: Mapping[str, Any] | None, files_ok: bool, *,
                          delay_ms: int = DELAY_MS
                          ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str]:
    """:func:`~.panel_parts.load_preview` on a worker thread behind a cancellable
    progress dialog: the same (spec, preview, problem).  Cancelled, or skipped because
    another load is in progress, it is (None, None, ""): nothing changes on screen and
    the next refresh tries again."""
    if _busy:
        return None, None, ""
    try:
        return _in_background(parent, PREVIEW_TITLE, "Loading the data set for its preview…",
                              lambda progress: load_preview(project, shown, files_ok, progress),
                              delay_ms)
    except OperationCancelled:
        _tell(parent, "Loading the data set's preview was cancelled")
        return None, None, ""
