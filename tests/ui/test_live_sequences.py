"""The Live page's pictures of the sequence stage: a forecast drawn over the truth
("series"), generated text ("text") and attention maps ("heatmap"), each drawn from a
preview on its own and from a real run of its template in the window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from nnstudio.graph.templates import load_template
from nnstudio.train import Preview
from nnstudio.ui.theme import theme
from nnstudio.ui.training.live.heatmap import HeatmapRenderer
from nnstudio.ui.training.live.series import SeriesRenderer
from nnstudio.ui.training.live.text import TextRenderer
from nnstudio.ui.training.live_view import RENDERERS, LiveView

from .conftest import dock_of, draw, finish


def test_the_sequence_kinds_have_renderers():
    LiveView()  # loads the renderer modules
    assert RENDERERS["series"] is SeriesRenderer
    assert RENDERERS["text"] is TextRenderer
    assert RENDERERS["heatmap"] is HeatmapRenderer


# ------------------------------------------------------------------------- series
def series(truth, forecast, x=None):
    x = np.arange(len(truth), dtype=np.float64) if x is None else x
    return Preview("series", "Forecast over the truth", {
        "x": x, "x_label": "time step", "y_label": "value",
        "lines": [{"name": "truth", "y": np.asarray(truth, np.float32), "dashed": False},
                  {"name": "forecast", "y": np.asarray(forecast, np.float32), "dashed": False},
                  {"name": "naive", "y": np.zeros(len(truth), np.float32), "dashed": True}]})


def test_series_draws_one_curve_per_line_and_updates_it_in_place(page):
    (renderer,) = draw(page, series([1, 2, 3], [1.5, 2.5, 2.5], x=np.array([10.0, 11, 12])))
    assert list(renderer.curves) == ["truth", "forecast", "naive"]
    truth = renderer.curves["truth"]
    xs, ys = truth.getData()
    assert xs.tolist() == [10, 11, 12] and ys.tolist() == [1, 2, 3]
    assert renderer.curves["naive"].opts["pen"].style() == Qt.PenStyle.DashLine
    assert renderer.curves["forecast"].opts["pen"].style() == Qt.PenStyle.SolidLine
    item = renderer.plot.getPlotItem()
    assert item.getAxis("bottom").labelText == "time step"
    assert [label.text for _, label in item.legend.items] == ["truth", "forecast", "naive"]
    draw(page, series([4, 5, 6], [4, 4, 4]))
    assert renderer.curves["truth"] is truth  # the same curve, new data
    assert truth.getData()[1].tolist() == [4, 5, 6]
    assert renderer.curves["forecast"].getData()[1].tolist() == [4, 4, 4]


# --------------------------------------------------------------------------- text
def colour_at(renderer: TextRenderer, position: int) -> str:
    cursor = QTextCursor(renderer.body.document())
    cursor.setPosition(position)
    return cursor.charFormat().foreground().color().name()


def test_text_shows_the_prompt_then_the_generated_text_and_the_note(page):
    preview = Preview("text", "Generated text", {
        "prompt": "if <x> then", "text": " the model\nwrites on", "note": "temperature 0.8"})
    (renderer,) = draw(page, preview)
    assert renderer.plain_text == "if <x> then the model\nwrites on"
    assert renderer.note.text() == "temperature 0.8"
    assert "&lt;x&gt;" in renderer.body.document().toHtml()  # text, never markup
    muted = QColor(theme().colors["muted"]).name()
    assert colour_at(renderer, 1) == muted  # the prompt is dimmed
    assert colour_at(renderer, len("if <x> then") + 2) != muted  # the model's text is not
    draw(page, Preview("text", "Generated text", {"text": "no note"}))
    assert renderer.plain_text == "no note" and renderer.note.isHidden()


# ------------------------------------------------------------------------ heatmap
def test_heatmap_draws_each_matrix_on_one_colour_scale_with_token_labels(page):
    mats = np.full((2, 3, 3), 0.1, np.float32)
    mats[0, 0, 2] = 0.8  # head 1: row 0 looks at column 2
    mats[1, 2, 0] = 0.4
    preview = Preview("heatmap", "Attention", {
        "matrices": mats, "titles": ["head 1", "head 2"], "row_labels": ["a", "b", "c"],
        "col_labels": ["a", "b", "c"]})
    (renderer,) = draw(page, preview)
    assert len(renderer.plots) == 2 and len(renderer.images) == 2
    assert [p.getPlotItem().titleLabel.text for p in renderer.plots] == ["head 1", "head 2"]
    first, second = (img.image for img in renderer.images)
    assert first.shape == (3, 3, 4)
    brightness = first[..., :3].astype(int).sum(axis=2)
    assert np.unravel_index(brightness.argmax(), brightness.shape) == (0, 2)
    # one scale: head 2's 0.4 is half as far up the colour map as head 1's 0.8
    assert second[..., :3].astype(int).sum(axis=2).max() < brightness.max()
    ticks = renderer.plots[0].getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == ["a", "b", "c"]
    assert "0.80" in renderer.scale.text()
    draw(page, Preview("heatmap", "Attention", {"matrices": mats[:1], "titles": ["head 1"]}))
    assert len(renderer.plots) == 1  # fewer heads: fewer plots


def test_heatmap_refuses_data_of_the_wrong_shape(page):
    with pytest.raises(ValueError, match=r"matrices \[M, R, C\]"):
        draw(page, Preview("heatmap", "Bad", {"matrices": np.zeros((3, 3))}))


# --------------------------------------------------------- the templates, in the window
def short_run(template: str, dataset: dict, **config):
    project = load_template(template)
    project.training["dataset"].update(dataset)
    project.training["config"].update({"epochs": 2, "device": "cpu", **config})
    return project


@pytest.mark.parametrize("template, dataset, titles", [
    ("lstm-forecast", {"length": 400}, ["Forecast over the truth"]),
    ("char-rnn", {"max_chars": 20_000}, ["Generated text"]),
    ("transformer", {"n_samples": 400}, ["Attention on the first example", "Answers"]),
])
def test_a_run_of_the_template_fills_the_live_page(train_window, qtbot, template, dataset,
                                                    titles):
    window = train_window(short_run(template, dataset))
    dock = dock_of(window)
    assert dock.start()
    assert dock.pages.currentWidget() is dock.live
    finish(qtbot, dock)
    qtbot.waitUntil(lambda: dock.live.titles == titles, timeout=5000)
    dock.live.refresh()
    shown = dock.live.renderers[titles[0]]
    if template == "lstm-forecast":
        assert [len(c.getData()[1]) for c in shown.curves.values()] == [64, 64, 64]
    elif template == "char-rnn":
        data = shown.shown.data  # a passage, then what the model wrote
        assert len(data["text"]) == 200 and data["prompt"]
        assert shown.plain_text == data["prompt"] + data["text"]
    else:
        assert len(shown.plots) == 4
        assert shown.images[0].image.shape == (8, 8, 4)
        answers = dock.live.renderers["Answers"].plain_text
        assert answers.startswith("input ") and "target " in answers
