"""Loading a big data set for a run or for the Setup preview shows progress and can be
cancelled: the window stays usable, Cancel returns at once and starts nothing, and a
load left alone starts the run.  The data set is a slow fake, registered for the test."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton

from nnstudio.data import registry
from nnstudio.data.base import DatasetInfo
from nnstudio.data.registry import DatasetEntry, Option
from nnstudio.data.splits import build_splits
from nnstudio.ui.training.prepare import DELAY_MS, PREPARE_TITLE, PREVIEW_TITLE

from .conftest import dock_of, finish, small_project

SLOW = "slow-test-table"
STEP_S = 0.02


class SlowLoads:
    """What the fake loader did: steps taken, and whether one ran to its end."""

    def __init__(self) -> None:
        self.steps = 0
        self.finished = threading.Event()


def _slow_loader(calls: SlowLoads):
    def load(request):
        steps = max(1, round(request.options["seconds"] / STEP_S))
        for i in range(steps):  # a big file read in chunks, reporting each one
            request.progress(i, steps, f"reading chunk {i + 1} of {steps}")
            calls.steps += 1
            time.sleep(STEP_S)
        rng = np.random.default_rng(request.seed)
        x = rng.normal(size=(200, 2)).astype(np.float32)
        y = (x[:, 0] > 0).astype(np.int64)
        info = DatasetInfo(request.name, "classification", (2,), ("left", "right"),
                           feature_names=("a", "b"), description="a slow fake table")
        splits = build_splits(info, x, y, seed=request.seed, val_fraction=request.val_fraction,
                              test_fraction=request.test_fraction, normalise=request.normalise)
        request.progress(steps, steps, "loaded")
        calls.finished.set()
        return splits

    return load


@pytest.fixture
def slow(monkeypatch):
    calls = SlowLoads()
    entry = DatasetEntry(SLOW, "Slow table", "a table that takes seconds to load",
                         "classification", "table", _slow_loader(calls),
                         (Option("seconds", float, 5.0, "how long loading takes"),), "Tests")
    monkeypatch.setitem(registry._REGISTRY, SLOW, entry)  # removed again after the test
    return calls


def slow_project(seconds: float):
    project = small_project(epochs=2)
    project.training["dataset"] = {"name": SLOW, "seconds": seconds}
    return project


def progress_dialogs() -> list[QProgressDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QProgressDialog) and w.isVisible()]


def cancel_when_shown(seen: dict) -> None:
    """Press the dialog's Cancel as soon as it shows; note when and what it said."""
    def poll():
        shown = progress_dialogs()
        if not shown:
            QTimer.singleShot(5, poll)
            return
        dialog = shown[0]
        seen.update(title=dialog.windowTitle(), shown_at=time.monotonic())
        QTimer.singleShot(150, lambda: press(dialog))  # let it show a chunk or two first

    def press(dialog):
        seen["label"] = dialog.labelText()
        (button,) = [b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel"]
        seen["clicked_at"] = time.monotonic()
        button.click()

    QTimer.singleShot(0, poll)


def test_cancelling_the_load_starts_no_run_and_leaves_the_window_usable(
        qtbot, train_window, slow):
    window = train_window(slow_project(seconds=5.0))
    dock = dock_of(window)
    runs_before = len(dock.store.runs)
    seen: dict = {}
    cancel_when_shown(seen)
    t0 = time.monotonic()
    assert dock.start() is False
    returned = time.monotonic()
    assert seen["title"] == PREPARE_TITLE
    assert seen["label"].startswith("reading chunk")  # the loader's own progress
    assert seen["shown_at"] - t0 >= DELAY_MS / 1000 * 0.9  # quick work never flashes one
    assert returned - seen["clicked_at"] < 0.5  # ~0.01 s measured; the load was abandoned
    assert returned - t0 < 3.0 and not slow.finished.is_set()
    assert progress_dialogs() == []
    assert not dock.is_running and len(dock.store.runs) == runs_before
    assert not window.session.locked and dock.start_button.isEnabled()
    assert "cancelled" in window.statusBar().currentMessage()
    steps = slow.steps
    time.sleep(0.2)
    assert slow.steps <= steps + 1  # its next progress report stopped the loader
    assert not slow.finished.is_set()


def test_a_load_left_alone_starts_the_run(qtbot, train_window, slow):
    window = train_window(slow_project(seconds=0.6))
    dock = dock_of(window)
    shown: list = []

    def look():
        shown.extend(d.windowTitle() for d in progress_dialogs())
        if slow.finished.is_set() or dock.is_running:
            return
        QTimer.singleShot(20, look)

    QTimer.singleShot(0, look)
    assert dock.start() is True
    assert slow.finished.is_set() and PREPARE_TITLE in shown
    finish(qtbot, dock)
    assert dock.current.status == "completed", dock.error_banner.text()
    assert progress_dialogs() == []


def test_quick_loads_show_no_dialog(qtbot, train_window):
    window = train_window()
    dock = dock_of(window)
    opened: list = []
    timer = QTimer()
    timer.timeout.connect(lambda: opened.extend(progress_dialogs()))
    timer.start(5)
    assert dock.start() is True
    timer.stop()
    finish(qtbot, dock)
    assert opened == []


def test_the_setup_preview_loads_behind_a_dialog_that_can_cancel(qtbot, train_window, slow):
    window = train_window()
    dock = dock_of(window)
    dock.pages.setCurrentWidget(dock.setup_page)
    dock.refresh_preview()
    assert dock.data.kind == "points2d"  # moons, quickly and without a dialog
    dock.settings.set_dataset(SLOW)
    dock.settings.set_option("seconds", 5.0)
    dock._preview_timer.stop()
    seen: dict = {}
    cancel_when_shown(seen)
    dock.refresh_preview()
    assert seen["title"] == PREVIEW_TITLE
    assert time.monotonic() - seen["clicked_at"] < 0.5
    assert dock.data.kind == "points2d"  # nothing replaced on screen
    assert "preview was cancelled" in window.statusBar().currentMessage()
    dock.settings.set_option("seconds", 0.1)  # a quick load, left alone, shows
    dock._preview_timer.stop()
    dock.refresh_preview()
    assert dock.data.kind == "table" and SLOW in dock.data.summary.text()
