"""Long work shows progress and can be cancelled, and the window stays alive meanwhile:
the progress helper, a dataset load cancelled from its dialog, and opening a big project."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton, QWidget

from nnstudio.data import DatasetError, load_dataset
from nnstudio.graph.project_file import save_project
from nnstudio.graph.templates import load_template
from nnstudio.ui.progress import OperationCancelled, run_with_progress


def progress_dialogs() -> list[QProgressDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QProgressDialog) and w.isVisible()]


def when_dialog_shows(action, seen: list | None = None) -> None:
    """Call ``action(dialog)`` on the progress dialog as soon as it is visible."""
    def poll():
        shown = progress_dialogs()
        if not shown:
            QTimer.singleShot(10, poll)
            return
        if seen is not None:
            seen.append((shown[0].windowTitle(), shown[0].labelText(), shown[0].maximum(),
                         shown[0].value()))
        action(shown[0])

    QTimer.singleShot(0, poll)


def click_cancel(dialog: QProgressDialog) -> None:
    (button,) = [b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel"]
    button.click()


@pytest.fixture
def parent(qapp, qtbot):
    w = QWidget()
    w.resize(300, 200)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


@pytest.mark.parametrize("in_thread", [True, False])
def test_quick_work_returns_its_result_without_a_dialog(parent, in_thread):
    def work(progress):
        progress(1, 2, "half")
        return 42

    assert run_with_progress(parent, "Quick", work, in_thread=in_thread) == 42
    assert progress_dialogs() == []


@pytest.mark.parametrize("in_thread", [True, False])
def test_slow_work_shows_its_progress_and_the_event_loop_keeps_running(parent, in_thread):
    ticks, seen = [], []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)

    def work(progress):
        for i in range(30):
            progress(i, 30, f"step {i}")
            time.sleep(0.01)
        return "done"

    when_dialog_shows(lambda d: None, seen)
    result = run_with_progress(parent, "Slow work", work, delay_ms=50, in_thread=in_thread)
    timer.stop()
    assert result == "done"
    assert seen and seen[0][0] == "Slow work" and seen[0][1].startswith("step")
    assert seen[0][2] == 1000 and 0 < seen[0][3] <= 1000
    assert len(ticks) >= 5  # timers (and repaints) ran during the work
    assert progress_dialogs() == []


@pytest.mark.parametrize("in_thread", [True, False])
def test_cancel_stops_work_that_asks(parent, in_thread):
    steps = []

    def work(progress):
        for i in range(1000):
            if not progress(i, 1000):
                return "stopped early"
            steps.append(i)
            time.sleep(0.005)
        return "ran to the end"

    when_dialog_shows(click_cancel)
    with pytest.raises(OperationCancelled):
        run_with_progress(parent, "Cancel me", work, delay_ms=0, in_thread=in_thread)
    assert len(steps) < 1000
    assert progress_dialogs() == []


def test_check_raises_at_the_next_step_after_cancel(parent):
    steps = []

    def work(progress):
        for i in range(1000):
            progress.check()
            steps.append(i)
            time.sleep(0.005)

    when_dialog_shows(click_cancel)
    with pytest.raises(OperationCancelled):
        run_with_progress(parent, "Cancel me", work, delay_ms=0)
    assert len(steps) < 1000


def test_work_that_cannot_stop_is_abandoned_at_once_when_allowed(parent):
    release = threading.Event()
    finished = threading.Event()

    def work(progress):
        release.wait(10)  # one long step that never looks at progress
        finished.set()
        return "late"

    when_dialog_shows(click_cancel)
    t0 = time.monotonic()
    with pytest.raises(OperationCancelled):
        run_with_progress(parent, "Parse", work, delay_ms=0, abandon_on_cancel=True)
    assert time.monotonic() - t0 < 5 and not finished.is_set()
    release.set()
    assert finished.wait(5)  # it ended on its own; its result went nowhere


@pytest.mark.parametrize("in_thread", [True, False])
def test_errors_of_the_work_reach_the_caller(parent, in_thread):
    def work(progress):
        raise DatasetError("the file is empty")

    with pytest.raises(DatasetError, match="the file is empty"):
        run_with_progress(parent, "Fails", work, in_thread=in_thread)
    assert progress_dialogs() == []


def test_a_dataset_load_is_cancelled_from_its_dialog(parent, tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(200)))
    reported, cancelled = [], threading.Event()

    def work(progress):
        def report(done, total, text):
            reported.append(text)
            if done == 1:  # hold the load until the person has pressed Cancel
                cancelled.wait(10)
            return progress(done, total, text)
        return load_dataset("csv", path=str(path), progress=report)

    def cancel(dialog):
        click_cancel(dialog)
        cancelled.set()

    when_dialog_shows(cancel)
    with pytest.raises(OperationCancelled, match="cancelled"):
        run_with_progress(parent, "Loading data", work, delay_ms=0)
    assert reported[:2] == ["reading table.csv", "encoding table.csv"]
    assert "loaded table.csv" not in reported


def test_a_dataset_load_that_is_not_cancelled_returns_the_splits(parent, tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(200)))
    splits = run_with_progress(parent, "Loading data",
                               lambda progress: load_dataset("csv", path=str(path),
                                                             progress=progress))
    assert len(splits.train) + len(splits.val) + len(splits.test) == 200


def test_opening_a_big_project_can_be_cancelled_and_keeps_the_open_one(
        parent, tmp_path, monkeypatch, qtbot, isolated_qsettings):
    from nnstudio.ui import file_actions
    from nnstudio.ui.main_window import MainWindow
    from nnstudio.ui.session import ProjectSession

    path = tmp_path / "big.nnstudio"
    save_project(load_template("lenet5"), path)
    real_load = file_actions.load_project

    def slow_load(p):
        time.sleep(3)  # a file of tens of megabytes
        return real_load(p)

    monkeypatch.setattr(file_actions, "load_project", slow_load)
    window = MainWindow(ProjectSession(load_template("mlp")))
    window.show()
    qtbot.waitExposed(window)
    try:
        when_dialog_shows(click_cancel)
        t0 = time.monotonic()
        assert not window.files.open_path(str(path), ask=False)
        assert time.monotonic() - t0 < 2.5  # Cancel did not wait for the parse
        assert window.session.project.title == load_template("mlp").title
        assert window.statusBar().currentMessage() == "Opening big.nnstudio cancelled"
        monkeypatch.setattr(file_actions, "load_project", real_load)
        assert window.files.open_path(str(path), ask=False)  # and it opens when left alone
        assert window.session.path == str(path.resolve())
    finally:
        window.session.undo_stack.setClean()
        window.close()
        window.deleteLater()
