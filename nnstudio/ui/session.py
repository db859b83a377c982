"""The open project as the window sees it: the document, its undo stack, its file path,
whether it has unsaved changes, and the shapes inferred for each of its graphs.

Widgets observe a :class:`ProjectSession`; they never hold document state themselves.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack
from shiboken6 import Shiboken

from ..graph.document import Graph, GraphError, Project
from ..graph.shape_inference import InferenceResult, ShapeInference
from .commands import Command


class EditLocked(RuntimeError):
    """An edit was attempted while training holds the graph."""


class ProjectSession(QObject):
    """Signals:
    ``project_replaced()`` — a different project was opened (rebuild everything);
    ``inferred(graph, result)`` — shapes/errors of ``graph`` after an edit;
    ``current_graph_changed(graph)``; ``path_changed(str)``; ``dirty_changed(bool)``;
    ``lock_changed(bool, str)`` — edits locked (with the reason shown to the person).
    """

    project_replaced = Signal()
    inferred = Signal(object, object)
    current_graph_changed = Signal(object)
    path_changed = Signal(str)
    dirty_changed = Signal(bool)
    lock_changed = Signal(bool, str)
    message = Signal(str)  # short status-bar messages (refused edits, etc.)

    def __init__(self, project: Project | None = None, path: str | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.project: Project = Project()
        self.path: str | None = None
        self._inference: dict[int, ShapeInference] = {}
        self._current: Graph | None = None
        self._lock_reason = ""
        self._watchers: dict[int, tuple] = {}
        self.set_project(project or _blank_project(), path)

    def __del__(self) -> None:
        # Delete the edits while every wrapper is whole.  When the session ends in cyclic
        # garbage (a closed window and its controllers refer to one another), Python runs
        # this before it clears anything; left to the collector, PySide (6.11) may clear a
        # command's wrapper first, hand the command back to Python and delete it, and
        # ~QUndoStack then deletes it again (segfault in QUndoStack::clear).
        stack = self.__dict__.get("undo_stack")
        if stack is not None and Shiboken.isValid(stack):
            stack.blockSignals(True)  # no slot runs during a collection
            stack.clear()

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    # ----------------------------------------------------------------- project
    def set_project(self, project: Project, path: str | None = None) -> None:
        self._unwatch_all()
        self.project.graph_added.disconnect(self._watch)
        self.undo_stack.clear()
        self.project = project
        self._inference.clear()
        for g in project.graphs:
            self._watch(g)
        project.graph_added.connect(self._watch)
        self._current = project.graphs[0] if project.graphs else None
        self.path = path
        self.undo_stack.setClean()
        self.project_replaced.emit()
        self.path_changed.emit(path or "")
        self.dirty_changed.emit(False)
        if self._current is not None:
            self.current_graph_changed.emit(self._current)

    def _watch(self, graph: Graph) -> None:
        if id(graph) in self._watchers:  # a graph put back by undo is watched already
            return

        session = weakref.ref(self)  # the graph keeps this callback: no cycle through it

        def on_changed(graph=graph):
            me = session()
            if me is not None:
                me.inferred.emit(graph, me.inference(graph))

        self._watchers[id(graph)] = (graph, on_changed)
        graph.changed.connect(on_changed)

    def _unwatch_all(self) -> None:
        for graph, callback in self._watchers.values():
            graph.changed.disconnect(callback)
        self._watchers.clear()

    def inference(self, graph: Graph | None = None) -> InferenceResult:
        graph = graph if graph is not None else self.current_graph  # an empty Graph is falsy
        engine = self._inference.get(id(graph))
        if engine is None or engine.graph is not graph:
            engine = self._inference[id(graph)] = ShapeInference(graph)
        return engine.run()

    @property
    def current_graph(self) -> Graph:
        if self._current is None:
            raise RuntimeError("no graph is open")
        return self._current

    def set_current_graph(self, graph: Graph) -> None:
        if graph is not self._current:
            self._current = graph
            self.current_graph_changed.emit(graph)

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self, path: str) -> None:
        self.path = path
        self.undo_stack.setClean()
        self.path_changed.emit(path)

    @property
    def display_name(self) -> str:
        return Path(self.path).name if self.path else (self.project.title or "Untitled")

    # ----------------------------------------------------------------- editing
    @property
    def locked(self) -> bool:
        return bool(self._lock_reason)

    @property
    def lock_reason(self) -> str:
        return self._lock_reason

    def set_locked(self, reason: str) -> None:
        """Lock edits with a reason shown to the person ('' unlocks)."""
        self._lock_reason = reason
        self.lock_changed.emit(bool(reason), reason)

    def push(self, command: Command) -> bool:
        """Run an edit through the undo stack; refused (False) while edits are locked.

        A command whose document call raises (a refused connection, a bad parameter)
        leaves the document as it was; the reason goes to ``message``.
        """
        if self.locked:
            self.message.emit(f"Editing is locked: {self._lock_reason}")
            return False
        try:
            command.apply_first()
        except GraphError as e:
            self.message.emit(str(e))
            return False
        self.undo_stack.push(command)
        return True


def _blank_project() -> Project:
    p = Project("Untitled")
    p.add_graph(Graph("Net"))
    return p
