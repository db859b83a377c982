"""New, Open, Save, Save As and the recent-files list, with the questions they ask.

:class:`FileController` does what the File menu promises and nothing is lost on the
way: before a project is replaced the person is asked to save unsaved changes, a file
that cannot be read is reported in one line while the open project stays, and saving
goes through :func:`save_project` (atomic) before the session is marked clean.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..graph.document import Graph, Project
from ..graph.project_file import SUFFIX, ProjectFileError, load_project, save_project
from ..graph.templates import TemplateError, list_templates, load_template
from .progress import OperationCancelled, run_with_progress
from .session import ProjectSession
from .window_part import WindowPart

FILE_FILTER = f"nnstudio projects (*{SUFFIX});;All files (*)"
EXAMPLE_ORDER = ("mlp", "lenet5")
MAX_RECENT = 10


class RecentFiles(QObject):
    """The most recently opened or saved project files, newest first, kept in QSettings."""

    changed = Signal()
    KEY = "recent/files"

    def paths(self) -> list[str]:
        value = QSettings().value(self.KEY, [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(p) for p in (value or [])]

    def _store(self, paths: list[str]) -> None:
        settings = QSettings()
        settings.setValue(self.KEY, paths[:MAX_RECENT])
        settings.sync()
        self.changed.emit()

    def add(self, path: str) -> None:
        path = str(Path(path).resolve())
        self._store([path] + [p for p in self.paths() if p != path])

    def remove(self, path: str) -> None:
        self._store([p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._store([])


def example_project() -> Project:
    """The project a first start opens on: the MLP example, else any template, else blank."""
    try:
        names = [t.name for t in list_templates()]
    except ProjectFileError:
        names = []
    for name in [n for n in EXAMPLE_ORDER if n in names] + names:
        try:
            return load_template(name)
        except (ProjectFileError, TemplateError):
            continue
    return blank_project()


def blank_project() -> Project:
    project = Project("Untitled")
    project.add_graph(Graph("Net"))
    return project


class FileController(WindowPart):
    """File operations on ``session``; dialogs are parented to ``window``.

    Signals: ``message(str)`` — a short line for the status bar.
    """

    message = Signal(str)

    def __init__(self, session: ProjectSession, window: QWidget, recent: RecentFiles | None = None):
        super().__init__(window)
        self.session = session
        self.recent = recent or RecentFiles(self)

    # ----------------------------------------------------------------- asking
    def confirm_discard(self) -> bool:
        """True when the open project may be replaced: it is saved, the person saved it
        now, or chose to discard the changes.  False: keep it (Cancel)."""
        if not self.session.dirty:
            return True
        answer = QMessageBox.question(
            self.window, "Unsaved changes",
            f"Save the changes to “{self.session.display_name}” before closing it?\n\n"
            "If you don't save, your changes will be lost.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.window, title, text)

    def _dir(self) -> str:
        if self.session.path:
            return str(Path(self.session.path).parent)
        recent = self.recent.paths()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # ----------------------------------------------------------------- new / open
    def new_blank(self) -> bool:
        if not self.confirm_discard():
            return False
        self.session.set_project(blank_project(), None)
        self.message.emit("New blank project")
        return True

    def new_from_template(self, name: str) -> bool:
        """Open a copy of template ``name`` as a new, unsaved project."""
        if not self.confirm_discard():
            return False
        try:
            project = load_template(name)
        except (ProjectFileError, TemplateError) as e:
            self._error("Cannot open the example", str(e))
            return False
        self.session.set_project(project, None)
        self.message.emit(f"Opened the example “{project.title}”")
        return True

    def open_dialog(self) -> bool:
        if not self.confirm_discard():
            return False
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", self._dir(),
                                              FILE_FILTER)
        return bool(path) and self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True) -> bool:
        """Open the project file at ``path``; on failure the open project is kept."""
        if ask and not self.confirm_discard():
            return False
        try:
            # a big file takes seconds to read and check: show progress, allow Cancel
            project = run_with_progress(self.window, "Opening project",
                                        lambda _progress: load_project(path),
                                        label=f"Reading {Path(path).name}…",
                                        abandon_on_cancel=True)
        except OperationCancelled:
            self.message.emit(f"Opening {Path(path).name} cancelled")
            return False
        except ProjectFileError as e:
            self._error("Cannot open the project", str(e))
            if not Path(path).exists():
                self.recent.remove(str(Path(path).resolve()))
            return False
        self.session.set_project(project, str(Path(path).resolve()))
        self.recent.add(path)
        self.message.emit(f"Opened {Path(path).name}")
        return True

    # ----------------------------------------------------------------- save
    def save(self) -> bool:
        if not self.session.path:
            return self.save_as()
        return self._save_to(self.session.path)

    def save_as(self) -> bool:
        name = self.session.display_name
        if not name.endswith(SUFFIX):
            name = _file_stem(name) + SUFFIX
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project as",
                                              str(Path(self._dir()) / name), FILE_FILTER)
        if not path:
            return False
        if not path.endswith(SUFFIX):
            path += SUFFIX
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        try:
            save_project(self.session.project, path)
        except OSError as e:
            self._error("Cannot save the project", f"{path}: {e.strerror or e}")
            return False
        except ProjectFileError as e:  # e.g. text that is not valid Unicode: say so, keep it
            self._error("Cannot save the project", str(e))
            return False
        path = str(Path(path).resolve())
        self.session.mark_saved(path)
        self.recent.add(path)
        self.message.emit(f"Saved {Path(path).name}")
        return True


def _file_stem(title: str) -> str:
    """A file name from a project title ("MLP: two hidden layers…" → "MLP"), without
    characters that file systems refuse."""
    stem = "".join(c for c in title.split(":")[0] if c not in '<>"/\\|?*').strip(" .")
    return stem[:80] or "Untitled"
