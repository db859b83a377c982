"""Autosave and recovery inside one process: unsaved work reaches the recovery file on the
timer and after training, leaves it when saved or closed cleanly, and what a crashed
session left is offered — Recover, Discard or later — and comes back as unsaved work.

The real crash (kill -9 of the application) is in test_kill_recovery.py."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import load_template
from nnstudio.train import TrainResult
from nnstudio.ui.commands import SetParamsCommand
from nnstudio.ui.recovery import (
    RecoveryManager,
    RecoveryStore,
    ask_recovery,
    install_recovery,
    offer_recovery,
)
from nnstudio.ui.session import ProjectSession


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "recovery"


@pytest.fixture
def make_window(qtbot, isolated_qsettings):
    from nnstudio.ui.main_window import MainWindow

    made = []

    def make(project=None, path=None):
        window = MainWindow(ProjectSession(project or load_template("mlp"), path))
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.session.undo_stack.setClean()
        window.close()
        window.deleteLater()
    QApplication.processEvents()


def edit(session: ProjectSession, value: int = 7) -> None:
    g = session.current_graph
    linear = next(n for n in g.nodes if n.type == "Linear")
    assert session.push(SetParamsCommand(g, linear.id, {"out_features": value}))


def first_linear_width(project) -> int:
    return next(n for n in project.graph().nodes if n.type == "Linear").params["out_features"]


def files(folder) -> list[str]:
    return sorted(p.suffix for p in folder.iterdir()) if folder.exists() else []


def crashed_session(folder, project, origin=None) -> RecoveryStore:
    """A store that wrote ``project`` and then lost its lock as a killed process does."""
    store = RecoveryStore(folder)
    store.begin()
    store.write(project, origin)
    store._lock = None  # dropped without the clean close: the lock file goes, the work stays
    return store


# ------------------------------------------------------------------ autosave
def test_unsaved_work_is_autosaved_on_the_timer_and_a_clean_project_is_not(make_window,
                                                                          folder, qtbot):
    window = make_window()
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=40)
    qtbot.wait(150)
    assert files(folder) == [".lock"]  # a clean project: nothing to keep
    edit(window.session, 7)
    autosaved = []
    manager.autosaved.connect(autosaved.append)
    qtbot.waitUntil(lambda: len(autosaved) == 1, timeout=3000)
    assert files(folder) == [".json", ".lock", ".nnstudio"]
    assert first_linear_width(load_project(manager.store.project_file)) == 7
    info = json.loads(manager.store.project_file.with_suffix(".json").read_text())
    assert info["title"] == window.session.project.title and info["origin"] is None
    # nothing changed since: the timer does not rewrite the file
    qtbot.wait(200)
    assert len(autosaved) == 1
    edit(window.session, 9)
    qtbot.waitUntil(lambda: len(autosaved) == 2, timeout=3000)
    assert first_linear_width(load_project(manager.store.project_file)) == 9
    manager.shutdown()


def test_saving_or_undoing_to_the_saved_state_removes_the_recovery_file(make_window, folder,
                                                                        tmp_path):
    window = make_window()
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    edit(window.session)
    assert manager.autosave_now() and ".nnstudio" in files(folder)
    window.session.undo_stack.undo()  # back to the saved state
    assert files(folder) == [".lock"]
    edit(window.session)
    manager.autosave_now()
    path = tmp_path / "saved.nnstudio"
    assert window.files._save_to(str(path))
    assert files(folder) == [".lock"]
    assert manager.autosave_now() is None  # saved: nothing to write
    manager.shutdown()


def test_a_finished_training_run_autosaves_at_once(make_window, folder):
    window = make_window()
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    edit(window.session, 5)
    assert not manager.store.project_file.exists()
    window.training.dock.run_finished.emit(TrainResult("completed", "Training completed."))
    assert first_linear_width(load_project(manager.store.project_file)) == 5
    manager.shutdown()


def test_a_clean_quit_removes_the_recovery_file_and_the_lock(make_window, folder, qapp):
    window = make_window()
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    edit(window.session)
    manager.autosave_now()
    assert files(folder) == [".json", ".lock", ".nnstudio"]
    qapp.aboutToQuit.emit()  # what app.exec() returning after the last window closed does
    assert files(folder) == []
    assert not manager.enabled and manager.autosave_now() is None


def test_a_failed_autosave_is_reported_and_editing_goes_on(make_window, folder, monkeypatch):
    window = make_window()
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    messages = []
    manager.message.connect(messages.append)

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(manager.store, "write", full_disk)
    edit(window.session)
    assert manager.autosave_now() is None
    assert messages == ["Autosave failed: No space left on device"]
    edit(window.session, 3)  # the window is still usable
    assert window.isWindowModified()
    manager.shutdown()


def test_a_recovery_folder_that_cannot_be_made_turns_autosave_off_quietly(make_window,
                                                                         tmp_path, qtbot):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    window = make_window()
    manager = install_recovery(window, RecoveryStore(blocker / "recovery"), interval_ms=20)
    assert not manager.enabled and manager.error.startswith("Autosave is off:")
    edit(window.session)
    qtbot.wait(100)
    assert manager.autosave_now() is None and manager.pending() == []
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Autosave is off"))


# ------------------------------------------------------------------ what is pending
def test_a_session_that_is_still_running_is_never_offered(folder):
    running = RecoveryStore(folder)
    running.begin()
    running.write(load_template("mlp"), None)
    other = RecoveryStore(folder)
    assert other.pending() == []
    assert running.project_file.exists()  # and its files are left alone
    running.end()
    assert list(folder.iterdir()) == []


def test_what_a_crashed_session_left_is_pending_newest_first(folder):
    old = crashed_session(folder, load_template("perceptron"), "/work/old.nnstudio")
    new = crashed_session(folder, load_template("mlp"))
    info = new.project_file.with_suffix(".json")
    data = json.loads(info.read_text())
    data["saved_at"] += 60
    info.write_text(json.dumps(data))
    pending = RecoveryStore(folder).pending()
    assert [e.session_id for e in pending] == [new.session_id, old.session_id]
    assert pending[1].origin == "/work/old.nnstudio"
    assert pending[1].title == load_template("perceptron").title
    assert "never saved" in pending[0].describe()


def test_a_missing_or_damaged_info_file_still_offers_the_project(folder):
    store = crashed_session(folder, load_template("mlp"))
    store.project_file.with_suffix(".json").write_bytes(b"\xff not json")
    (entry,) = RecoveryStore(folder).pending()
    assert entry.title == store.project_file.name and entry.origin is None
    assert entry.saved_at > 0
    assert entry.load().title == load_template("mlp").title


# ------------------------------------------------------------------ the offer
def test_recover_opens_the_work_unsaved_under_its_old_file_name(make_window, folder, tmp_path):
    original = tmp_path / "mine.nnstudio"
    project = load_template("mlp")
    save_project(project, original)
    g = project.graph()
    g.set_params(next(n for n in g.nodes if n.type == "Linear").id, {"out_features": 11})
    left = crashed_session(folder, project, str(original))

    window = make_window(load_template("perceptron"))
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    asked = []
    recovered = offer_recovery(manager, window,
                               ask=lambda parent, entry: asked.append(entry) or "recover")
    assert recovered and [e.session_id for e in asked] == [left.session_id]
    assert first_linear_width(window.session.project) == 11
    assert window.session.dirty and window.isWindowModified()
    assert window.session.path == str(original)
    assert window.windowTitle() == "mine.nnstudio[*] — nnstudio"
    assert not left.project_file.exists()  # now kept under this session's name
    assert first_linear_width(load_project(manager.store.project_file)) == 11
    assert manager.pending() == []
    assert "Recovered" in window.statusBar().currentMessage()
    manager.shutdown()


def test_discard_deletes_the_work_and_later_keeps_it(make_window, folder):
    kept = crashed_session(folder, load_template("mlp"))
    window = make_window(load_template("perceptron"))
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    assert not offer_recovery(manager, window, ask=lambda p, e: "later")
    assert kept.project_file.exists() and len(manager.pending()) == 1
    assert not offer_recovery(manager, window, ask=lambda p, e: "discard")
    assert not kept.project_file.exists() and manager.pending() == []
    assert window.session.project.title == load_template("perceptron").title
    assert not window.session.dirty
    manager.shutdown()


def test_a_damaged_recovery_file_is_reported_not_opened(make_window, folder):
    store = crashed_session(folder, load_template("mlp"))
    store.project_file.write_text('{"format": "nnstudio-project", "version": 1, "graphs": 3}')
    window = make_window(load_template("perceptron"))
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    messages = []
    manager.message.connect(messages.append)
    assert not offer_recovery(manager, window, ask=lambda p, e: "recover")
    assert messages and "graphs: expected a list of graphs" in messages[0]
    assert window.session.project.title == load_template("perceptron").title
    assert manager.pending() == []
    manager.shutdown()


@pytest.mark.parametrize(("button", "expected"), [("Recover", "recover"),
                                                 ("Discard", "discard")])
def test_the_dialog_asks_recover_or_discard(qapp, folder, button, expected):
    crashed_session(folder, load_template("mlp"), "/somewhere/mlp.nnstudio")
    (entry,) = RecoveryStore(folder).pending()
    seen = []

    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.informativeText())
        next(b for b in box.buttons() if b.text() == button).click()

    QTimer.singleShot(0, answer)
    assert ask_recovery(None, entry) == expected
    assert "/somewhere/mlp.nnstudio" in seen[0]


def test_the_answer_can_be_given_by_the_environment(folder, monkeypatch):
    crashed_session(folder, load_template("mlp"))
    (entry,) = RecoveryStore(folder).pending()
    monkeypatch.setenv("NNSTUDIO_RECOVERY_ANSWER", "discard")
    assert ask_recovery(None, entry) == "discard"


def test_the_app_offers_recovery_before_the_start_page(qtbot, isolated_qsettings, folder,
                                                       monkeypatch):
    from nnstudio.ui.app import open_window

    project = load_template("mlp")
    project.title = "Left behind"
    crashed_session(folder, project)
    monkeypatch.setenv("NNSTUDIO_RECOVERY_DIR", str(folder))
    monkeypatch.setenv("NNSTUDIO_RECOVERY_ANSWER", "recover")
    window = open_window()
    try:
        qtbot.waitUntil(lambda: window.session.project.title == "Left behind", timeout=3000)
        assert window.session.dirty and window.start_page is None
        assert window.recovery.pending() == []
    finally:
        window.recovery.shutdown()
        window.session.undo_stack.setClean()
        window.close()
        window.deleteLater()


def test_the_default_folder_is_per_user_and_the_environment_overrides_it(qapp, monkeypatch,
                                                                        tmp_path):
    from nnstudio.ui.recovery import recovery_dir

    monkeypatch.setenv("NNSTUDIO_RECOVERY_DIR", str(tmp_path / "x"))
    assert recovery_dir() == tmp_path / "x"
    monkeypatch.delenv("NNSTUDIO_RECOVERY_DIR")
    assert recovery_dir().name == "recovery"
    assert str(recovery_dir()).startswith(os.path.expanduser("~")) or \
        "XDG_DATA_HOME" in os.environ


def test_a_manager_without_a_window_autosaves_a_bare_session(qapp, folder):
    session = ProjectSession(load_template("mlp"))
    manager = RecoveryManager(session, RecoveryStore(folder), interval_ms=10_000_000)
    edit(session, 4)
    assert manager.autosave_now() == str(manager.store.project_file)
    manager.shutdown()
    assert list(folder.iterdir()) == []


def test_a_project_that_cannot_be_written_is_reported_and_stays_unsaved(make_window, folder,
                                                                        tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        staticmethod(lambda parent, title, text, *a, **k: shown.append(text)))
    window = make_window()
    manager = install_recovery(window, RecoveryStore(folder), interval_ms=10_000_000)
    messages = []
    manager.message.connect(messages.append)
    g = window.session.current_graph
    window.session.push(SetParamsCommand(g, g.nodes[0].id, {}))  # dirty
    window.session.project.graph().rename("a\ud800b")  # a lone surrogate: no UTF-8 for it
    assert not window.files._save_to(str(tmp_path / "x.nnstudio"))
    assert shown and "not valid Unicode" in shown[0]
    assert window.session.dirty and not (tmp_path / "x.nnstudio").exists()
    assert manager.autosave_now() is None and "not valid Unicode" in messages[0]
    manager.shutdown()
