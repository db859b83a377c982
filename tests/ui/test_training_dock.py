"""The Training panel in the main window, as a person uses it: settings bound to the
project, Train / Pause / Stop, live curves and decision boundary, the edit lock, clear
messages when a run cannot start or fails, runs side by side, PNG and CSV export."""

from __future__ import annotations

import csv
import gc

import numpy as np
import pytest
from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QPushButton, QTextBrowser

from nnstudio.ui.commands import AddNodeCommand
from nnstudio.ui.session import ProjectSession
from nnstudio.ui.training import LOCK_REASON
from nnstudio.ui.training.runs import compare

from .conftest import dock_of, finish, small_project


def test_training_tab_menu_and_toolbar_are_mounted(train_window):
    window = train_window()
    dock = dock_of(window)
    tabs = [window.bottom_tabs.tabText(i) for i in range(window.bottom_tabs.count())]
    assert tabs[:2] == ["Code", "Training"]
    assert window.bottom_tabs.widget(tabs.index("Training")) is dock
    assert {"train", "pause", "stop"} <= set(window.menu_actions)
    assert window.menu_actions["train"].isEnabled()
    assert not window.menu_actions["pause"].isEnabled()
    assert not window.menu_actions["stop"].isEnabled()
    assert [a.text() for a in window.training.menu.actions()] == [
        "&Train", "&Pause", "&Stop", "", "Train &Each Graph"]  # "": a separator
    assert window.training.toolbar.isVisible()


def test_settings_edit_the_project_through_undoable_commands(train_window):
    window = train_window()
    session, settings = window.session, dock_of(window).settings
    assert settings.lr.value() == pytest.approx(0.01)
    settings.lr.stepBy(1)  # 1e-2 → 2e-2: a nice step
    settings.lr.stepBy(1)  # → 5e-2, merged with the previous step
    assert session.project.training["config"]["lr"] == pytest.approx(0.05)
    assert session.dirty and session.undo_stack.count() == 1
    settings.optimizer.setCurrentText("sgd")
    assert session.project.training["config"]["optimizer"] == "sgd"
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert session.project.training["config"]["lr"] == pytest.approx(0.01)
    assert settings.optimizer.currentText() == "adam" and settings.lr.value() == pytest.approx(0.01)
    assert not session.dirty


def test_choosing_a_dataset_shows_its_typed_options_with_a_browse_button(train_window):
    window = train_window()
    settings = dock_of(window).settings
    settings.dataset_combo.setCurrentIndex(settings.dataset_combo.findData("csv"))
    training = window.session.project.training
    assert training["dataset"] == {"name": "csv"}
    assert settings.option_widget("path").findChild(QPushButton, "browse_path") is not None
    assert "needs option 'path'" not in settings.error.text()  # shown when it starts
    settings.dataset_combo.setCurrentIndex(settings.dataset_combo.findData("diabetes"))
    assert window.session.project.training["config"]["recipe"] == "regression"
    window.session.undo_stack.undo()
    window.session.undo_stack.undo()
    assert window.session.project.training["dataset"]["name"] == "moons"


def test_the_setup_page_previews_points_images_and_tables(train_window):
    window = train_window()
    dock = dock_of(window)
    dock.pages.setCurrentWidget(dock.setup_page)
    dock.refresh_preview()
    assert dock.data.kind == "points2d"
    assert "moons" in dock.data.summary.text() and "2 classes" in dock.data.summary.text()
    dock.settings.set_dataset("digits")
    dock.refresh_preview()
    assert dock.data.kind == "image"
    assert dock.data.stack.currentWidget() is dock.data.image_grid
    assert dock.data.image_layout.count() == 32  # 16 pictures, each with its class
    dock.settings.set_dataset("iris")
    dock.refresh_preview()
    assert dock.data.kind == "table" and dock.data.table.rowCount() == 16
    assert dock.data.table.horizontalHeaderItem(4).text() == "target"
    dock.settings.set_dataset("csv")
    dock.refresh_preview()
    assert "needs option 'path'" in dock.data.error.text()


def test_a_missing_dataset_file_is_reported_in_the_panel_and_nothing_starts(train_window, tmp_path):
    project = small_project()
    project.training["dataset"] = {"name": "csv", "path": str(tmp_path / "missing.csv")}
    window = train_window(project)
    dock = dock_of(window)
    assert not window.training.train()
    text = dock.error_banner.text()
    assert text.startswith("Cannot start training: dataset 'csv'") and "missing.csv" in text
    assert not dock.is_running and not window.session.locked
    assert window.menu_actions["train"].isEnabled()


def test_an_input_that_does_not_fit_the_data_is_explained_before_starting(train_window):
    project = small_project()
    project.training["dataset"] = {"name": "iris"}
    window = train_window(project)
    assert not window.training.train()
    text = dock_of(window).error_banner.text()
    assert "takes [B, 2]" in text and "gives [B, 4]" in text


def test_the_panel_trains_the_mlp_template_and_the_curves_gain_points(qtbot, train_window):
    window = train_window(small_project(n_samples=400, epochs=400))
    dock = dock_of(window)
    window.menu_actions["train"].trigger()
    assert dock.is_running
    assert window.bottom_tabs.currentWidget() is dock
    assert dock.pages.currentWidget() is dock.curves
    qtbot.waitUntil(lambda: dock.curves.point_count("train") >= 3, timeout=60_000)
    during = dock.curves.point_count("train")
    qtbot.waitUntil(lambda: dock.curves.point_count("train") > during, timeout=10_000)
    assert dock.is_running  # the curve grows while the run goes
    qtbot.waitUntil(lambda: dock.curves.point_count("val") >= 2, timeout=30_000)
    assert dock.curves.metric_name == "accuracy"
    dock.stop()
    finish(qtbot, dock)
    record = dock.current
    assert record.status == "stopped", record.message
    assert record.final_metric("accuracy") > 0.5
    epochs_done = len(record.val["loss"])
    assert dock.curves.point_count("val") == epochs_done  # one validation point per epoch
    assert dock.curves.point_count("train") == len(record.train_loss)
    assert not dock.error_banner.isVisible()
    assert dock.runner.run_thread.isFinished()


def test_a_completed_run_fills_progress_evaluation_and_activations(qtbot, train_window):
    window = train_window(small_project(epochs=4))
    dock = dock_of(window)
    window.training.train()
    finish(qtbot, dock)
    assert dock.current.status == "completed"
    assert dock.progress.value() == dock.progress.maximum()
    dock.pages.setCurrentWidget(dock.evaluation)
    qtbot.waitUntil(lambda: dock.evaluation.table.rowCount() == 2)
    assert dock.evaluation.table.item(0, 0).text() == "0"
    counts = sorted(int(t.textItem.toPlainText()) for t in dock.evaluation.texts)
    assert len(counts) == 4 and sum(counts) == 80  # 20 % of 400 points, all counted
    dock.pages.setCurrentWidget(dock.activations)
    qtbot.waitUntil(lambda: dock.activations.frames_shown >= 1)
    labels = [dock.activations.layer_combo.itemText(i)
              for i in range(dock.activations.layer_combo.count())]
    assert labels == ["fc1 · Linear", "relu1 · ReLU", "fc2 · Linear", "relu2 · ReLU",
                      "fc3 · Linear"]
    dock.activations.select_layer("relu2")
    assert "dead" in dock.activations.layer_info.text()


def test_the_decision_boundary_is_redrawn_while_moons_train(qtbot, train_window):
    window = train_window(small_project(n_samples=300, epochs=10_000))
    dock = dock_of(window)
    window.training.train()
    dock.pages.setCurrentWidget(dock.boundary)
    qtbot.waitUntil(lambda: dock.boundary.images_shown >= 1, timeout=60_000)
    first = dock.boundary.latest.rgba.copy()
    qtbot.waitUntil(lambda: dock.boundary.images_shown >= 3, timeout=30_000)
    assert dock.is_running  # redrawn while it trains, at most ~5 times a second
    assert np.any(dock.boundary.latest.rgba != first)  # the picture follows the model
    assert dock.boundary.latest.global_step > 0
    assert len(dock.boundary.scatter_items) == 2  # the two moons, drawn over the picture
    dock.stop()
    finish(qtbot, dock)


def test_edits_are_refused_while_training_and_allowed_after(qtbot, train_window):
    window = train_window(small_project(epochs=10_000))
    dock, session = dock_of(window), window.session
    graph = session.current_graph
    messages = []
    session.message.connect(messages.append)
    window.training.train()
    assert session.locked and session.lock_reason == LOCK_REASON
    assert dock.lock_banner.isVisible() and "Stop the run to edit" in dock.lock_banner.text()
    assert LOCK_REASON in window.training.status_label.text()
    assert not dock.settings.isEnabled()
    n = len(graph)
    assert not session.push(AddNodeCommand(graph, "ReLU", (0, 300)))
    assert len(graph) == n and messages and LOCK_REASON in messages[-1]
    dock.stop()
    finish(qtbot, dock)
    assert not session.locked and not dock.lock_banner.isVisible()
    assert session.push(AddNodeCommand(graph, "ReLU", (0, 300)))
    assert len(graph) == n + 1


def test_pause_and_resume_from_the_menu(qtbot, train_window):
    window = train_window(small_project(epochs=10_000))
    dock = dock_of(window)
    window.training.train()
    qtbot.waitUntil(lambda: dock.current.last_step is not None, timeout=60_000)
    window.menu_actions["pause"].trigger()
    qtbot.waitUntil(lambda: dock.runner.state == "paused", timeout=2000)
    assert dock.pause_button.text() == "Resume"
    assert window.menu_actions["pause"].text() == "&Resume"
    window.menu_actions["pause"].trigger()
    qtbot.waitUntil(lambda: dock.runner.state == "running", timeout=2000)
    window.menu_actions["stop"].trigger()
    finish(qtbot, dock)
    assert dock.current.status == "stopped"


@pytest.mark.parametrize("lr, words", [(1e6, "loss became")], ids=["nan-loss"])
def test_a_run_that_fails_says_why_and_the_window_stays_usable(qtbot, train_window, lr, words):
    # plain SGD at lr=1e6 on the MLP drives the loss to inf/NaN within a few steps
    window = train_window(small_project(epochs=50, optimizer="sgd", lr=lr))
    dock = dock_of(window)
    window.training.train()
    finish(qtbot, dock)
    assert dock.current.status == "error"
    assert dock.error_banner.isVisible()
    text = dock.error_banner.text()
    assert text.startswith("Training failed:") and words in text
    assert dock.runner.run_thread.isFinished()
    assert not window.session.locked and window.menu_actions["train"].isEnabled()
    dock.settings.set_config("lr", 0.01)  # the window is usable: fix it and train again
    assert window.training.train()
    assert not dock.error_banner.isVisible()
    dock.stop()
    finish(qtbot, dock)


def test_a_layer_that_raises_is_reported_by_name(qtbot, train_window, monkeypatch):
    window = train_window()
    dock = dock_of(window)
    from nnstudio.train import project_run

    real = project_run.prepare_run

    def prepare_with_a_broken_layer(*args, **kwargs):
        prepared = real(*args, **kwargs)
        relu = prepared.model.relu1

        def broken(x):
            if relu.training:
                raise ValueError("relu1 cannot handle this")
            return x.clamp(min=0)

        relu.forward = broken
        return prepared

    monkeypatch.setattr("nnstudio.ui.training.dock.prepare_run", prepare_with_a_broken_layer)
    window.training.train()
    finish(qtbot, dock)
    text = dock.error_banner.text()
    assert "relu1 cannot handle this" in text and "ValueError" in text
    assert not window.session.locked


def test_closing_the_window_mid_run_joins_the_thread_without_qt_warnings(qtbot):
    from nnstudio.ui.main_window import MainWindow

    messages: list[str] = []

    def handler(mode, context, message):
        if mode != QtMsgType.QtDebugMsg:
            messages.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        window = MainWindow(ProjectSession(small_project(epochs=10_000)))
        window.show()
        qtbot.waitExposed(window)
        dock = dock_of(window)
        window.training.train()
        qtbot.waitUntil(lambda: dock.current.last_step is not None, timeout=60_000)
        thread = dock.runner.run_thread
        window.session.undo_stack.clear()
        assert window.close()
        assert thread.isFinished()
        assert not dock.is_running and dock.current.status == "stopped"
        window.deleteLater()
        QApplication.processEvents()
        qtbot.wait(50)
        gc.collect()
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in messages if "QThread" in m or "Destroyed" in m], messages


def test_the_status_bar_says_what_runs_now_not_how_the_last_run_ended(qtbot, train_window):
    window = train_window(small_project(epochs=1))
    dock = dock_of(window)
    window.training.train()
    finish(qtbot, dock)
    assert window.statusBar().currentMessage() == "Run 1: Completed 1 epoch."
    window.training.train()
    assert window.statusBar().currentMessage().startswith("Run 2: training on ")
    finish(qtbot, dock)


def test_runs_are_kept_overlaid_compared_and_exported(qtbot, train_window, tmp_path):
    window = train_window(small_project(epochs=2))
    dock = dock_of(window)
    window.training.train()
    finish(qtbot, dock)
    first = dock.current
    dock.settings.set_config("lr", 0.02)
    window.training.train()
    finish(qtbot, dock)
    second = dock.current
    assert [r.name for r in dock.store.runs] == ["Run 1", "Run 2"]
    assert dock.runs_view.table.rowCount() == 2
    assert compare(first, second).lines() == ["lr: 0.01 → 0.02"]

    dock.store.set_overlay(first, True)  # what ticking its box does
    dock.pages.setCurrentWidget(dock.curves)
    legend = dock.curves.loss_plot.getPlotItem().legend
    names = [label.text for _, label in legend.items]
    assert names == ["Run 2", "Run 1"]  # one entry per run; the title names the line kinds

    dock.runs_view.select([first, second])
    dialog = dock.runs_view.compare_selected()
    text = dialog.findChild(QTextBrowser, "CompareText").toPlainText()
    assert "What changed from Run 1 to Run 2" in text and "lr: 0.01 → 0.02" in text
    dialog.close()

    png = tmp_path / "curves.png"
    assert dock.export_png(png) and png.stat().st_size > 1000
    path = tmp_path / "run2.csv"
    second.save_csv(str(path))
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert {"train_loss", "lr", "val_loss", "val_accuracy"} <= set(rows[0])
