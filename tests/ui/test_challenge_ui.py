"""Challenges in the window: the Training panel shows a template's goal, then after a real
run whether it was achieved with the figures; the start page marks achieved examples.

QSettings live in a temporary folder for every UI test (``isolated_settings`` in
conftest), so achievements recorded here never reach a person's settings."""

from __future__ import annotations

import pytest

from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import load_template
from nnstudio.ui import achievements
from nnstudio.ui.session import ProjectSession
from nnstudio.ui.start_page import StartPage


@pytest.fixture
def train_window(make_window):
    made = []

    def make(project):
        window = make_window(ProjectSession(project), size=(1400, 900))
        made.append(window)
        return window

    yield make
    for window in made:
        assert window.training.shutdown(5000)
        window.session.undo_stack.clear()


def perceptron(**config):
    project = load_template("perceptron")
    project.training["config"].update({"device": "cpu", **config})
    return project


def train(qtbot, window):
    dock = window.training.dock
    assert dock.start()
    qtbot.waitUntil(lambda: not dock.is_running, timeout=60_000)
    return dock


def test_a_run_that_meets_the_challenge_is_marked_in_the_panel_and_the_start_page(
        qtbot, train_window):
    window = train_window(perceptron())
    dock = window.training.dock
    goal = load_template("perceptron").meta["challenge"]["goal"]
    # before any run: the goal, and what to do
    assert dock.challenge.isVisibleTo(dock)
    assert dock.challenge.text() == f"Challenge: {goal}  — train to check it"
    page = StartPage()
    page.select_template("perceptron")
    assert not page.examples.currentItem().text().startswith("✓")
    assert "Not achieved yet" in page.detail_challenge.text()
    page.close()

    messages = []
    dock.message.connect(messages.append)
    train(qtbot, window)
    assert dock.current.status == "completed"
    text = dock.challenge.text()
    assert text.startswith(f"Challenge: {goal}")
    assert "✓ Achieved — test accuracy" in text
    assert "3 parameters ≤ 3 ✓" in text
    assert dock.challenge.verdict.achieved
    assert f"Challenge achieved: {goal}" in messages

    record = achievements.achievement("perceptron")
    assert record is not None and record["goal"] == goal
    assert record["summary"] == dock.challenge.verdict.summary
    page = StartPage()
    page.select_template("perceptron")
    assert page.examples.currentItem().text().startswith("✓ Perceptron")
    details = page.detail_challenge.text()
    assert goal in details and "✓ Achieved" in details and "3 parameters ≤ 3 ✓" in details
    page.select_template("mlp")  # another example is not marked
    assert not page.examples.currentItem().text().startswith("✓")
    page.close()


def test_a_run_that_misses_says_not_yet_and_an_edited_goal_records_nothing(
        qtbot, train_window):
    project = perceptron()
    project.meta["challenge"]["at_least"] = 1.01  # out of reach, and not the shipped goal
    window = train_window(project)
    dock = window.training.dock
    train(qtbot, window)
    text = dock.challenge.text()
    assert "✗ Not yet — test accuracy" in text and "< 1.01 ✗" in text
    assert not dock.challenge.verdict.achieved
    assert achievements.achievement("perceptron") is None
    # the same accuracy against the shipped goal is achieved, and recorded
    window.session.set_project(perceptron())
    assert dock.challenge.text().endswith("train to check it")  # the old verdict is gone
    train(qtbot, window)
    assert dock.challenge.verdict.achieved
    assert achievements.achievement("perceptron") is not None


def test_the_challenge_follows_the_project_through_save_as(qtbot, train_window, tmp_path):
    path = tmp_path / "my-perceptron.nnstudio"
    save_project(perceptron(), path)
    window = train_window(load_project(path))
    dock = window.training.dock
    assert window.session.project.meta["template"] == "perceptron"
    train(qtbot, window)
    assert dock.challenge.verdict.achieved
    assert achievements.achievement("perceptron") is not None
    window.session.set_project(load_project(path))  # opened again: the record is shown
    assert "✓ achieved" in dock.challenge.text()


def test_no_challenge_no_line_and_a_malformed_one_is_explained(qtbot, train_window):
    project = perceptron()
    del project.meta["challenge"]
    window = train_window(project)
    dock = window.training.dock
    assert not dock.challenge.isVisibleTo(dock) and dock.challenge.text() == ""
    broken = perceptron()
    broken.meta["challenge"] = {"goal": "x", "metric": "accuracy", "at_least": 0.9}
    window.session.set_project(broken)
    assert dock.challenge.isVisibleTo(dock)
    assert dock.challenge.text().startswith("Challenge: cannot be checked — "
                                            "meta.challenge.metric: expected")
    train(qtbot, window)  # trains as usual; nothing is judged
    assert dock.challenge.verdict is None
