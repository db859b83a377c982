"""Saving, opening, recent files, the unsaved-changes prompt, drag-and-drop of files:
nothing a person made is lost on the way."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from nnstudio.graph.project_file import load_project
from nnstudio.ui.commands import SetParamsCommand
from nnstudio.ui.file_actions import RecentFiles

Button = QMessageBox.StandardButton


def edit(window, name="fc3", value=5):
    g = window.session.current_graph
    assert window.session.push(SetParamsCommand(g, g.find(name).id, {"out_features": value}))


def answer_save_dialog(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))


def answer_open_dialog(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))


def answer_question(monkeypatch, button):
    asked = []

    def question(parent, title, text, buttons=None, default=None):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def capture_errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        staticmethod(lambda parent, title, text, *a, **k: shown.append(text)))
    return shown


def test_dirty_marker_follows_edits_and_saving(window, tmp_path, monkeypatch):
    assert not window.isWindowModified()
    edit(window)
    assert window.isWindowModified()
    answer_save_dialog(monkeypatch, tmp_path / "mine")  # suffix is added
    window.menu_actions["save"].trigger()
    path = tmp_path / "mine.nnstudio"
    assert path.exists()
    assert not window.isWindowModified()
    assert window.windowTitle() == "mine.nnstudio[*] — nnstudio"
    assert window.session.path == str(path.resolve())


def test_save_then_open_round_trip(window, tmp_path, monkeypatch):
    edit(window, value=7)
    path = tmp_path / "round.nnstudio"
    answer_save_dialog(monkeypatch, path)
    window.menu_actions["save_as"].trigger()
    assert load_project(path).graph().find("fc3").params["out_features"] == 7

    window.files.new_blank()
    assert len(window.session.current_graph) == 0
    answer_open_dialog(monkeypatch, path)
    window.menu_actions["open"].trigger()
    g = window.session.current_graph
    assert g.find("fc3").params["out_features"] == 7
    assert window.canvas.graph is g
    assert len(window.canvas.scene_model.nodes) == len(g)
    assert window.windowTitle().startswith("round.nnstudio")
    assert not window.isWindowModified()


def test_second_save_writes_to_the_same_file_without_asking(window, tmp_path, monkeypatch):
    path = tmp_path / "again.nnstudio"
    answer_save_dialog(monkeypatch, path)
    window.menu_actions["save"].trigger()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (_ for _ in ()).throw(AssertionError)))
    edit(window, value=9)
    window.menu_actions["save"].trigger()
    assert load_project(path).graph().find("fc3").params["out_features"] == 9


def test_recent_files_are_listed_and_persisted(window, tmp_path, monkeypatch, isolated_settings):
    path = tmp_path / "recent.nnstudio"
    answer_save_dialog(monkeypatch, path)
    window.menu_actions["save"].trigger()
    assert RecentFiles().paths()[0] == str(path.resolve())
    names = [a.text() for a in window.recent_menu.actions()]
    assert any("recent.nnstudio" in n for n in names)
    # persisted: a fresh QSettings (what the next start reads) has it
    assert str(path.resolve()) in QSettings().value("recent/files")
    assert list(isolated_settings.rglob("*.ini")), "settings went to the test folder"


def test_choosing_a_recent_file_opens_it(window, tmp_path, monkeypatch):
    path = tmp_path / "r.nnstudio"
    answer_save_dialog(monkeypatch, path)
    window.menu_actions["save"].trigger()
    window.files.new_blank()
    item = next(a for a in window.recent_menu.actions() if "r.nnstudio" in a.text())
    item.trigger()
    assert window.session.path == str(path.resolve())
    assert len(window.session.current_graph) == 14


def test_close_with_unsaved_changes_asks_and_cancel_keeps_window(window, monkeypatch):
    edit(window)
    asked = answer_question(monkeypatch, Button.Cancel)
    assert not window.close()
    assert window.isVisible()
    assert len(asked) == 1 and "Save the changes" in asked[0]
    assert window.session.dirty


def test_close_discarding_changes_closes(window, monkeypatch):
    edit(window)
    answer_question(monkeypatch, Button.Discard)
    assert window.close()
    assert not window.isVisible()


def test_close_choosing_save_saves_first(window, tmp_path, monkeypatch):
    edit(window, value=4)
    answer_question(monkeypatch, Button.Save)
    answer_save_dialog(monkeypatch, tmp_path / "closing.nnstudio")
    assert window.close()
    assert load_project(tmp_path / "closing.nnstudio").graph().find("fc3").params[
        "out_features"] == 4


def test_quit_action_closes_a_clean_window_without_asking(window, monkeypatch):
    asked = answer_question(monkeypatch, Button.Cancel)
    window.menu_actions["quit"].trigger()
    assert not window.isVisible()
    assert asked == []


def test_new_with_unsaved_changes_cancel_keeps_the_project(window, monkeypatch):
    edit(window)
    project = window.session.project
    answer_question(monkeypatch, Button.Cancel)
    window.menu_actions["new_blank"].trigger()
    assert window.session.project is project


def test_opening_a_malformed_file_reports_it_and_keeps_the_project(window, tmp_path,
                                                                   monkeypatch):
    bad = tmp_path / "broken.nnstudio"
    bad.write_text('{"format": "nnstudio-project", "version": 1, "graphs": [{"nodes": 5}]}')
    edit(window)
    project = window.session.project
    errors = capture_errors(monkeypatch)
    answer_question(monkeypatch, Button.Discard)
    answer_open_dialog(monkeypatch, bad)
    window.menu_actions["open"].trigger()
    assert len(errors) == 1 and "broken.nnstudio" in errors[0]
    assert "\n" not in errors[0].strip()
    assert window.session.project is project
    assert window.canvas.graph is project.graphs[0]


def test_dropping_a_project_file_on_the_window_opens_it(window, tmp_path, monkeypatch):
    from nnstudio.graph.project_file import save_project
    from nnstudio.graph.templates import load_template

    path = tmp_path / "dropped.nnstudio"
    save_project(load_template("mlp"), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPoint(window.width() // 2, window.height() // 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert window.session.path == str(path.resolve())
    assert window.session.project.title.startswith("MLP")


def test_dropping_other_files_is_refused(window, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
