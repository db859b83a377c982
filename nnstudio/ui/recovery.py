"""Nothing lost: autosave of unsaved work, and the offer to recover it after a crash.

While the open project has unsaved changes, :class:`RecoveryManager` writes it every
30 s, and after every finished training run, to this session's recovery file in a
per-user folder (``QStandardPaths.AppDataLocation``/recovery, or ``NNSTUDIO_RECOVERY_DIR``).
A save, opening another project, undoing back to the saved state, or a clean close
removes the file: it only ever holds work that exists nowhere else.

Each running session holds a lock file for its whole life (:class:`QLockFile`: process
id, host, program and boot id, so a recycled pid is not mistaken for it).  A recovery
file whose lock nobody holds was left by a session that ended without closing —
killed, crashed, or the power went — and the next start offers it: Recover / Discard.
A second nnstudio running at the same time never takes the first one's files for
abandoned ones.

The folder holds, for a session ``<id>``:

* ``<id>.lock`` — held while the session runs;
* ``<id>.nnstudio`` — the unsaved project: an ordinary project file, written atomically
  and validated like any other when it is read back;
* ``<id>.json`` — where it came from: the file it was opened from (if any), its title
  and when it was written.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ..graph.document import Project
from ..graph.project_file import ProjectFileError, atomic_write, dumps_project, load_project
from .session import ProjectSession

if TYPE_CHECKING:
    from .main_window import MainWindow

AUTOSAVE_INTERVAL_MS = 30_000
ENV_DIR = "NNSTUDIO_RECOVERY_DIR"  # where recovery files go (tests, portable installs)
ENV_INTERVAL = "NNSTUDIO_AUTOSAVE_MS"  # autosave period, for tests and demonstrations
ENV_ANSWER = "NNSTUDIO_RECOVERY_ANSWER"  # "recover" / "discard" / "later": no dialog
INFO_FORMAT = "nnstudio-recovery"
_SESSION_ID = re.compile(r"^\d{8}-\d{6}-\d+-\d+$")
_counter = itertools.count()  # several stores in one process (tests) get distinct ids


def recovery_dir() -> Path:
    """The per-user folder of recovery files (``NNSTUDIO_RECOVERY_DIR`` overrides it)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".nnstudio") / "recovery"


def _interval_from_env() -> int:
    try:
        value = int(os.environ.get(ENV_INTERVAL, ""))
    except ValueError:
        return AUTOSAVE_INTERVAL_MS
    return value if value > 0 else AUTOSAVE_INTERVAL_MS


def _lock(path: Path) -> QLockFile:
    lock = QLockFile(str(path))
    # a lock is stale only when its process is gone, never merely because it is old
    lock.setStaleLockTime(0)
    return lock


# --------------------------------------------------------------------------- the folder
@dataclass(frozen=True)
class RecoveryEntry:
    """Unsaved work left by a session that did not close cleanly."""

    session_id: str
    project_file: Path
    title: str
    origin: str | None  # the project file it was opened from or saved as, if any
    saved_at: float  # seconds since the epoch

    def load(self) -> Project:
        """The recovered project (validated like any file); raises ProjectFileError."""
        return load_project(self.project_file)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = f"from {self.origin}" if self.origin else "never saved"
        return f"“{self.title}” ({where}), autosaved {when}"


class RecoveryStore:
    """The recovery folder: this session's files, and those left by sessions that crashed.

    :meth:`begin` takes this session's lock; :meth:`write` and :meth:`clear` keep its
    recovery file; :meth:`end` is the clean close.  :meth:`pending` lists what other
    sessions left behind.  Nothing here asks anything or touches a window.
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else recovery_dir()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.session_id = f"{stamp}-{os.getpid()}-{next(_counter)}"
        self._lock: QLockFile | None = None

    def _path(self, session_id: str, suffix: str) -> Path:
        return self.folder / f"{session_id}{suffix}"

    @property
    def project_file(self) -> Path:
        return self._path(self.session_id, ".nnstudio")

    @property
    def active(self) -> bool:
        return self._lock is not None

    def begin(self) -> None:
        """Create the folder and take this session's lock; raises OSError if it cannot."""
        if self._lock is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = _lock(self._path(self.session_id, ".lock"))
        if not lock.tryLock(0):
            raise OSError(f"cannot create a lock file in {self.folder} ({lock.error().name})")
        self._lock = lock

    def write(self, project: Project, origin: str | None) -> Path:
        """Write ``project`` as this session's recovery file (atomically); returns its path.

        Raises ProjectFileError if the project cannot be saved, OSError if the disk refuses.
        """
        if self._lock is None:
            raise OSError("the recovery folder is not in use")
        text = dumps_project(project)
        atomic_write(self.project_file, text.encode("utf-8"))
        info = {"format": INFO_FORMAT, "version": 1, "title": project.title,
                "origin": origin, "saved_at": time.time(), "pid": os.getpid()}
        atomic_write(self._path(self.session_id, ".json"),
                     json.dumps(info, ensure_ascii=False).encode("utf-8"))
        return self.project_file

    def clear(self) -> None:
        """Remove this session's recovery file: nothing unsaved any more."""
        for suffix in (".nnstudio", ".json"):
            _unlink(self._path(self.session_id, suffix))

    def end(self) -> None:
        """The clean close: the recovery file goes and the lock is released."""
        self.clear()
        if self._lock is not None:
            self._lock.unlock()  # removes the lock file
            self._lock = None

    def pending(self) -> list[RecoveryEntry]:
        """What sessions that are no longer running left unsaved, newest first.

        A lock file whose process is gone is removed on the way (so is one that guards
        no recovery file); files of sessions still running are left alone.
        """
        if not self.folder.is_dir():
            return []
        entries = []
        for lock_path in self.folder.glob("*.lock"):
            sid = lock_path.stem
            if sid == self.session_id or not _SESSION_ID.match(sid):
                continue
            lock = _lock(lock_path)
            if lock.tryLock(0):  # its owner is gone: the stale lock was taken over
                lock.unlock()
        for path in self.folder.glob("*.nnstudio"):
            sid = path.stem
            if sid == self.session_id or not _SESSION_ID.match(sid):
                continue
            if self._path(sid, ".lock").exists():
                continue  # a session that is running now
            entries.append(self._entry(sid, path))
        entries.sort(key=lambda e: e.saved_at, reverse=True)
        return entries

    def _entry(self, sid: str, path: Path) -> RecoveryEntry:
        info: dict = {}
        try:
            loaded = json.loads(self._path(sid, ".json").read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and loaded.get("format") == INFO_FORMAT:
                info = loaded
        except (OSError, ValueError):
            pass  # the project file is what matters; the info is a courtesy
        title = info.get("title") if isinstance(info.get("title"), str) else path.name
        origin = info.get("origin") if isinstance(info.get("origin"), str) else None
        saved_at = info.get("saved_at")
        if not isinstance(saved_at, (int, float)) or isinstance(saved_at, bool):
            try:
                saved_at = path.stat().st_mtime
            except OSError:
                saved_at = 0.0
        return RecoveryEntry(sid, path, title[:200], origin, float(saved_at))

    def discard(self, entry: RecoveryEntry) -> None:
        """Delete what ``entry``'s session left."""
        for suffix in (".nnstudio", ".json"):
            _unlink(self._path(entry.session_id, suffix))


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass  # a file we cannot remove now is offered again later; never worth a crash


# --------------------------------------------------------------------------- the session
class RecoveryManager(QObject):
    """Autosaves ``session`` while it has unsaved changes; recovers what a crash left.

    Signals: ``autosaved(str)`` — the recovery file was written (its path);
    ``message(str)`` — a line for the status bar (a failed autosave, a recovery).
    """

    autosaved = Signal(str)
    message = Signal(str)

    def __init__(self, session: ProjectSession, store: RecoveryStore | None = None,
                 interval_ms: int | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.store = store if store is not None else RecoveryStore()
        self.error = ""
        try:
            self.store.begin()
        except OSError as e:  # a read-only home, say: the app works, only without autosave
            self.error = f"Autosave is off: {e}"
        self._generation = 0  # bumped on every change of the document or its saved state
        self._written = 0  # the generation last written (or known to need no file)
        session.undo_stack.indexChanged.connect(self._on_edit)
        session.project_replaced.connect(self._on_edit)
        session.dirty_changed.connect(self._on_dirty)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms or _interval_from_env())
        self.timer.timeout.connect(self._tick)
        if self.store.active:
            self.timer.start()

    @property
    def enabled(self) -> bool:
        return self.store.active

    def _on_edit(self, *_args) -> None:
        self._generation += 1

    def _on_dirty(self, dirty: bool) -> None:
        self._generation += 1
        if not dirty:  # saved, or back at the saved state: nothing to recover
            self.store.clear()
            self._written = self._generation

    def _tick(self) -> None:
        if self.session.dirty and self._generation != self._written:
            self.autosave_now()

    def autosave_now(self, *_args) -> str | None:
        """Write the unsaved project to the recovery file now (the training panel calls
        this when a run finishes; it takes and ignores any arguments, so it can be
        connected to any signal).  Returns the file's path, or None when nothing is
        unsaved, autosave is off, or the write failed (said through ``message``)."""
        if not self.store.active:
            return None
        if not self.session.dirty:
            self.store.clear()
            return None
        try:
            path = self.store.write(self.session.project, self.session.path)
        except (OSError, ProjectFileError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            self.message.emit(f"Autosave failed: {reason}")
            return None
        self._written = self._generation
        self.autosaved.emit(str(path))
        return str(path)

    def pending(self) -> list[RecoveryEntry]:
        return self.store.pending() if self.store.active else []

    def recover(self, entry: RecoveryEntry) -> bool:
        """Open ``entry``'s project as this session's unsaved work; its old files go.

        Returns False (and says why) if the file cannot be read back.
        """
        try:
            project = entry.load()
        except ProjectFileError as e:
            self.message.emit(f"Cannot recover {entry.title}: {e}")
            self.store.discard(entry)  # unreadable now means unreadable every time
            return False
        self.session.set_project(project, entry.origin)
        self.session.undo_stack.resetClean()  # unsaved work, and the window says so
        self.autosave_now()  # under this session's name before the old files go
        self.store.discard(entry)
        self.message.emit(f"Recovered {entry.describe()}; save it to keep it")
        return True

    def shutdown(self) -> None:
        """The clean close (the person saved or chose not to): remove the recovery file
        and release the lock."""
        self.timer.stop()
        self.store.end()


# --------------------------------------------------------------------------- the window
Answer = str  # "recover" | "discard" | "later"


def ask_recovery(parent: QWidget | None, entry: RecoveryEntry) -> Answer:
    """Ask whether to recover ``entry``: "recover", "discard", or "later" (Escape).

    ``NNSTUDIO_RECOVERY_ANSWER`` answers without a dialog (scripts, tests).
    """
    preset = os.environ.get(ENV_ANSWER, "").strip().lower()
    if preset in ("recover", "discard", "later"):
        return preset
    box = QMessageBox(parent)
    box.setObjectName("RecoveryDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Recover unsaved work")
    box.setText("nnstudio did not close properly last time.")
    box.setInformativeText(f"Unsaved work was kept: {entry.describe()}.\n\n"
                           "Recover it, or discard it for good?")
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    return "recover" if clicked is recover else "discard" if clicked is discard else "later"


def offer_recovery(manager: RecoveryManager, parent: QWidget | None = None,
                   ask: Callable[[QWidget | None, RecoveryEntry], Answer] = ask_recovery,
                   entries: list[RecoveryEntry] | None = None) -> bool:
    """Offer what crashed sessions left, newest first, until one is recovered.

    Discarded entries are deleted; "later" keeps them for the next start.  Returns
    whether a project was recovered (it is then the session's unsaved project).
    """
    for entry in manager.pending() if entries is None else entries:
        answer = ask(parent, entry)
        if answer == "recover" and manager.recover(entry):
            return True
        if answer == "discard":
            manager.store.discard(entry)
    return False


def install_recovery(window: MainWindow, store: RecoveryStore | None = None,
                     interval_ms: int | None = None) -> RecoveryManager:
    """Autosave ``window``'s session; returns the manager (``window.recovery``).

    Autosaves after every finished training run (the Training panel's ``run_finished``)
    and removes the recovery file when the application quits cleanly.
    """
    manager = RecoveryManager(window.session, store, interval_ms, parent=window)
    manager.message.connect(window.show_message)
    training = getattr(window, "training", None)
    if training is not None:  # the panel is built when first needed: follow it from then
        training.when_built(lambda dock: dock.run_finished.connect(manager.autosave_now))
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(manager.shutdown)
    if manager.error:
        QTimer.singleShot(0, lambda: window.show_message(manager.error))
    return manager
