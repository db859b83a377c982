"""The Training panel's Live page: shown for recipes that draw something, fed by the
run's previews, one panel per title, drawn by the renderer registered for the kind."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from nnstudio.train import ClassificationRecipe, Preview
from nnstudio.train import recipes as recipes_module
from nnstudio.ui.training import live_view
from nnstudio.ui.training.live_view import LiveRenderer, LiveView

from .conftest import dock_of, finish, small_project


class _Scores(ClassificationRecipe):
    name = "live_test"

    def preview(self, model, source, step, epoch):
        mean = float(model(source.x).softmax(-1)[:, 0].mean())
        return [Preview("text", "Class-0 share", {"text": f"{mean:.3f}"}),
                Preview("text", "Step", {"text": f"step {step}"})]


class _TextLabel(LiveRenderer):
    kind = "text"

    def __init__(self, page, title):
        super().__init__(page, title)
        self.widget = QLabel()
        self.shown: list[str] = []

    def show(self, preview):
        self.shown.append(preview.data["text"])
        self.widget.setText(preview.data["text"])


@pytest.fixture
def live_recipe(monkeypatch):
    monkeypatch.setitem(recipes_module._RECIPES, "live_test", _Scores)
    monkeypatch.setitem(live_view.RENDERERS, "text", _TextLabel)


def test_live_page_only_for_recipes_that_draw(train_window, live_recipe, qtbot):
    window = train_window()
    dock = dock_of(window)
    index = dock.pages.indexOf(dock.live)
    assert not dock.pages.isTabVisible(index)  # classification draws nothing there
    dock.settings.set_config("recipe", "live_test")  # an undoable settings edit
    qtbot.waitUntil(lambda: dock.pages.isTabVisible(index), timeout=2000)
    window.session.undo_stack.undo()
    qtbot.waitUntil(lambda: not dock.pages.isTabVisible(index), timeout=2000)


def test_a_run_fills_the_live_page(train_window, live_recipe, qtbot):
    window = train_window(small_project(recipe="live_test", epochs=4))
    dock = dock_of(window)
    dock.pages.setCurrentWidget(dock.setup_page)
    assert dock.start()
    assert dock.pages.currentWidget() is dock.live  # the page that shows this recipe at work
    finish(qtbot, dock)
    qtbot.waitUntil(lambda: dock.live.titles == ["Class-0 share", "Step"], timeout=3000)
    step, result = dock.live.renderers["Step"], dock.current.result
    assert result.stopped_reason == "completed", result.message
    assert step.shown[-1] == f"step {result.global_step}"  # the final picture
    assert dock.live.placeholder.isHidden()
    share = float(dock.live.renderers["Class-0 share"].widget.text())
    assert 0.0 <= share <= 1.0
    # a new run starts from an empty page
    dock.live.clear()
    assert dock.live.titles == [] and not dock.live.placeholder.isHidden()


def test_unknown_kind_says_so(qtbot, monkeypatch):
    live_view._load_renderers()
    monkeypatch.delitem(live_view.RENDERERS, "heatmap", raising=False)
    page = LiveView()
    qtbot.addWidget(page)
    page.set_previews([Preview("heatmap", "Attention", {})])
    page.refresh()
    assert "cannot draw" in page.renderers["Attention"].widget.text()


def test_pages_follow_the_data_and_the_recipe(train_window, qtbot):
    from nnstudio.graph.templates import load_template

    window = train_window()  # moons: points in 2-D, classified
    dock = dock_of(window)
    boundary = dock.pages.indexOf(dock.boundary)
    live = dock.pages.indexOf(dock.live)
    assert dock.start()
    finish(qtbot, dock)
    assert dock.pages.isTabVisible(boundary) and not dock.pages.isTabVisible(live)
    project = load_template("lstm-forecast")
    project.training["config"].update({"epochs": 1, "device": "cpu"})
    window.session.set_project(project)
    assert dock.start()
    finish(qtbot, dock)
    assert dock.current.result.stopped_reason == "completed", dock.current.result.message
    assert not dock.pages.isTabVisible(boundary)  # a series has no 2-D boundary to draw
    assert dock.pages.isTabVisible(live)  # the forecast over the truth
    dock.pages.setCurrentWidget(dock.live)  # drawn when in view
    qtbot.waitUntil(lambda: dock.live.titles != [], timeout=3000)
    assert any("forecast" in t.lower() for t in dock.live.titles), dock.live.titles
