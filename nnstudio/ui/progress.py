"""Long work behind a progress dialog with a Cancel button.

:func:`run_with_progress` runs ``fn(progress)`` and returns what it returns.  ``progress``
is a :class:`Progress`: call it as ``progress(done, total, text)`` — the shape of the
data registry's ``progress`` callback, so ``load_dataset(..., progress=progress)`` and
``prepare_run(..., progress=progress)`` take it as it is — and it answers False once the
person pressed Cancel (those loaders then stop with ``DatasetCancelled``).  Code of
one's own can call :meth:`Progress.check` between steps instead.

By default ``fn`` runs on a worker thread and the window stays painted; such an ``fn``
must not touch widgets (it may read the document: the dialog is modal, so nothing edits
it meanwhile).  With ``in_thread=False`` it runs on the calling (GUI) thread and the
dialog is kept alive by processing events from inside ``progress`` — for work that must
build Qt objects.  Either way the dialog appears only when the work takes longer than
``delay_ms``, so quick work never flashes a window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from .interpreter_policy import RunInterpreterPolicy

T = TypeVar("T")
DELAY_MS = 400
POLL_S = 0.03  # how often the dialog is refreshed (about 30 times a second)


class OperationCancelled(Exception):
    """The person cancelled the operation; whatever it produced was dropped."""


class Progress:
    """What the work reports: done / total steps and a line of text; whether to stop.

    Thread-safe: written by the work, read by the dialog.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = 0
        self.total = 0  # 0: unknown (a busy indicator)
        self.text = ""
        self._cancelled = threading.Event()
        self._pump: Callable[[], None] | None = None  # in_thread=False: keeps the GUI alive

    def __call__(self, done: float = 0, total: float = 0, text: str = "") -> bool:
        """Report progress; returns False once cancelled (the registry's convention)."""
        with self._lock:
            self.done, self.total = done, total
            if text:
                self.text = text
        if self._pump is not None:
            self._pump()
        return not self._cancelled.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def check(self) -> None:
        """Raise OperationCancelled if the person cancelled (call it between steps)."""
        if self._pump is not None:
            self._pump()
        if self._cancelled.is_set():
            raise OperationCancelled("cancelled")

    def snapshot(self) -> tuple[Any, Any, str]:
        with self._lock:
            return self.done, self.total, self.text


def _is_cancellation(exc: BaseException) -> bool:
    if isinstance(exc, OperationCancelled):
        return True
    try:  # the data registry's own cancellation (imported late: it pulls in torch)
        from nnstudio.data.base import DatasetCancelled
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, DatasetCancelled)


class _Dialog:
    """The QProgressDialog, shown after a delay and fed from a Progress."""

    def __init__(self, parent: QWidget | None, title: str, label: str, progress: Progress,
                 cancellable: bool, delay_ms: int):
        self.progress = progress
        self.label = label
        self.started = time.monotonic()
        self.delay_s = delay_ms / 1000
        self.dialog = QProgressDialog(label, "Cancel" if cancellable else "", 0, 0, parent)
        self.dialog.setObjectName("ProgressDialog")
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal if parent is not None
                                      else Qt.WindowModality.ApplicationModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(0)
        if not cancellable:
            self.dialog.setCancelButton(None)
        self.dialog.canceled.connect(self._on_cancel)
        self.dialog.hide()  # until the delay has passed
        self._last = 0.0

    @property
    def shown(self) -> bool:
        return self.dialog.isVisible()

    def _on_cancel(self) -> None:
        self.progress.cancel()
        self.dialog.setLabelText("Cancelling…")
        if self.dialog.isHidden():  # Escape closes the dialog; keep it up until the work ends
            self.dialog.show()

    def refresh(self) -> None:
        now = time.monotonic()
        if self.dialog.wasCanceled() and not self.progress.cancelled:
            self._on_cancel()  # cancel() called directly, without the signal
        if not self.shown and not self.progress.cancelled and now - self.started >= self.delay_s:
            self.dialog.show()
        if self.shown and not self.progress.cancelled:
            done, total, text = self.progress.snapshot()
            if total and total > 0:
                scale = 1000 / total
                self.dialog.setRange(0, 1000)
                self.dialog.setValue(int(min(max(done, 0), total) * scale))
            else:
                self.dialog.setRange(0, 0)  # busy
            self.dialog.setLabelText(text or self.label)
        self._last = now

    def pump(self) -> None:
        """Keep the GUI alive from inside the work (in_thread=False), 30 times a second."""
        if time.monotonic() - self._last < POLL_S:
            return
        self.refresh()
        flags = (QEventLoop.ProcessEventsFlag.AllEvents if self.shown
                 else QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        QApplication.processEvents(flags, 10)

    def close(self) -> None:
        self.dialog.canceled.disconnect(self._on_cancel)
        self.dialog.reset()  # else Qt's own show timer can bring a closed dialog back
        self.dialog.hide()
        self.dialog.deleteLater()


def run_with_progress(parent: QWidget | None, title: str, fn: Callable[[Progress], T], *,
                      label: str = "", cancellable: bool = True, in_thread: bool = True,
                      abandon_on_cancel: bool = False, delay_ms: int = DELAY_MS) -> T:
    """Run ``fn(progress)`` behind a progress dialog; returns its result.

    Raises :class:`OperationCancelled` if the person cancelled (the result, if any, is
    dropped; a ``DatasetCancelled`` from ``fn`` counts as the same), and re-raises on the
    calling thread anything else ``fn`` raised.  Blocks the caller until ``fn`` ends,
    but not the window: it keeps painting, and only the dialog takes input.

    ``abandon_on_cancel`` (worker thread only) returns at once on Cancel instead of
    waiting for ``fn`` to notice: for work without side effects that cannot check
    in between (parsing one big file), whose late result is simply dropped.
    """
    progress = Progress()
    dialog = _Dialog(parent, title, label or title, progress, cancellable, delay_ms)
    outcome: dict[str, Any] = {}
    held = False
    try:
        if in_thread:
            def work() -> None:
                try:
                    outcome["value"] = fn(progress)
                except BaseException as e:  # noqa: BLE001 (handed to the calling thread)
                    outcome["error"] = e

            thread = threading.Thread(target=work, name=f"nnstudio: {title}", daemon=True)
            RunInterpreterPolicy.hold()  # collections on this thread only, between polls
            held = True
            thread.start()
            while thread.is_alive():
                if abandon_on_cancel and progress.cancelled:
                    break
                dialog.refresh()
                # no clicks or keys reach the window before the modal dialog is up
                flags = (QEventLoop.ProcessEventsFlag.AllEvents if dialog.shown
                         else QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
                QApplication.processEvents(flags, 10)
                RunInterpreterPolicy.collect_if_due()
                thread.join(POLL_S)
        else:
            progress._pump = dialog.pump
            try:
                outcome["value"] = fn(progress)
            except Exception as e:  # noqa: BLE001
                outcome["error"] = e
    finally:
        if held:
            RunInterpreterPolicy.release()
        dialog.close()
    error = outcome.get("error")
    if error is not None and _is_cancellation(error):
        raise OperationCancelled(str(error) or "cancelled") from None
    if progress.cancelled:
        raise OperationCancelled("cancelled")
    if error is not None:
        raise error
    return outcome["value"]
