"""The Live page's pictures of the generative stage: a mosaic of images (inputs above
their reconstructions, generated digits) and layers of 2-D points (a GAN's samples over
the data, a VAE's latent codes by class), each drawn from a preview on its own and from
a real run of its template in the window.

``NNSTUDIO_SCREENSHOT_DIR=<folder>`` keeps a picture of each template's Live page.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnstudio.graph.templates import load_template
from nnstudio.train import Preview
from nnstudio.ui.training.live.images import ImagesRenderer, mosaic
from nnstudio.ui.training.live.points import PointsRenderer
from nnstudio.ui.training.live_view import RENDERERS, LiveView
from nnstudio.ui.training.plot_style import class_color

from .conftest import dock_of, draw, finish


def test_the_generative_kinds_have_renderers():
    LiveView()  # loads the renderer modules
    assert RENDERERS["images"] is ImagesRenderer
    assert RENDERERS["points"] is PointsRenderer


# ------------------------------------------------------------------------- images
def test_a_mosaic_puts_tiles_in_rows_one_pixel_apart_with_transparent_gaps():
    images = np.zeros((3, 2, 2), np.float32)
    images[0] = 1.0  # white
    images[2, 1, 1] = 0.5
    out = mosaic(images, columns=2)
    assert out.shape == (2 * 3 + 1, 2 * 3 + 1, 4)  # 2 rows, 2 columns of 2x2 tiles + gaps
    assert out[1:3, 1:3, :3].min() == 255  # tile 0, top left
    assert out[1:3, 4:6, :3].max() == 0 and out[1:3, 4:6, 3].min() == 255  # tile 1, black
    assert out[5, 2, :3].tolist() == [128, 128, 128]  # tile 2 (second row), its 0.5 pixel
    assert out[0, :, 3].max() == 0 and out[:, 3, 3].max() == 0  # gaps: transparent
    assert out[4:7, 4:7, 3].max() == 0  # the empty fourth place


def test_a_mosaic_of_colour_images_keeps_their_colours_and_refuses_other_shapes():
    rgb = np.zeros((1, 3, 2, 2), np.float32)
    rgb[0, 0] = 1.0  # red
    assert mosaic(rgb, 1)[1, 1].tolist() == [255, 0, 0, 255]
    with pytest.raises(ValueError, match=r"\[N, H, W\] or \[N, 3, H, W\]"):
        mosaic(np.zeros((2, 5)), 1)


def pairs(n=4, value=0.25):
    inputs = np.zeros((n, 8, 8), np.float32)
    inputs[:, 2:6, 3:5] = 1.0  # a bar
    recon = np.full((n, 8, 8), value, np.float32)
    return Preview("images", "Reconstructions", {
        "images": np.concatenate([inputs, recon]), "columns": n,
        "captions": [str(i) for i in range(n)] + ["mse 0.1"] * n, "note": "top: inputs"})


def test_images_draw_the_mosaic_with_captions_under_their_tiles(page, qtbot):
    (renderer,) = draw(page, pairs())
    picture = renderer.image.image
    strip = 5  # caption strip: 0.6 of an 8-pixel tile, rounded
    assert picture.shape == (2 * (8 + strip + 1) + 1, 4 * 9 + 1, 4)
    top = picture[1:9, 1:9, 0]
    assert top[2:6, 3:5].min() == 255 and top[0, 0] == 0  # the input's bar, its background
    bottom = picture[1 + 8 + strip + 1:, 1:9, 0][:8]
    assert (bottom == 64).all()  # the reconstruction: 0.25 everywhere
    assert [c.toPlainText() for c in renderer.captions] == ["0", "1", "2", "3"] + ["mse 0.1"] * 4
    x, y = renderer.captions[5].pos().x(), renderer.captions[5].pos().y()
    assert (x, y) == (1 + 9 + 4, 1 + 8 + strip + 1 + 8)  # under the second tile of row 2
    qtbot.waitUntil(lambda: all(c.isVisible() for c in renderer.captions))  # once laid out
    assert renderer.note.text() == "top: inputs" and not renderer.note.isHidden()
    assert renderer.plot.getPlotItem().titleLabel.text == "Reconstructions"
    assert not renderer.plot.getPlotItem().getAxis("left").isVisible()


def test_captions_show_only_while_the_tiles_are_big_enough_for_them(page, qtbot):
    grid = Preview("images", "Samples", {"images": np.zeros((64, 8, 8), np.float32),
                                         "columns": 8, "captions": ["?"] * 64})
    page.resize(300, 160)  # 64 tiles in a small panel: a few pixels each
    (renderer,) = draw(page, grid)
    qtbot.waitUntil(lambda: not renderer.captions_fit())
    assert not any(c.isVisible() for c in renderer.captions)
    page.resize(1000, 1400)
    qtbot.waitUntil(lambda: all(c.isVisible() for c in renderer.captions))


def test_images_update_in_place_and_drop_captions_no_longer_sent(page):
    (renderer,) = draw(page, pairs())
    image_item = renderer.image
    draw(page, Preview("images", "Reconstructions", {
        "images": np.ones((2, 8, 8), np.float32), "columns": 2, "captions": None}))
    assert renderer.image is image_item
    assert renderer.image.image.shape == (8 + 2, 2 * 9 + 1, 4)  # no caption strip
    assert renderer.captions == [] and renderer.note.isHidden()


# ------------------------------------------------------------------------- points
def gan_points(shift=0.0):
    real = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]], np.float32)
    fake = np.array([[0.5, 0.5], [shift, shift]], np.float32)
    return Preview("points", "Generated points over the data", {
        "layers": [{"name": "real data", "xy": real, "classes": None, "color": (150, 150, 150),
                    "size": 4.0},
                   {"name": "generated", "xy": fake, "classes": None, "color": (255, 140, 40),
                    "size": 5.0}],
        "x_label": "x1", "y_label": "x2"})


def test_points_draw_each_layer_in_its_colour_later_layers_on_top(page):
    (renderer,) = draw(page, gan_points())
    assert list(renderer.scatters) == ["real data", "generated"]
    real, fake = renderer.scatters["real data"], renderer.scatters["generated"]
    assert real.data["x"].tolist() == [0, 1, -1] and real.data["y"].tolist() == [1, 0, 0]
    assert real.opts["brush"].color().getRgb()[:3] == (150, 150, 150)
    assert fake.opts["brush"].color().getRgb()[:3] == (255, 140, 40)
    assert fake.zValue() > real.zValue()
    item = renderer.plot.getPlotItem()
    assert item.getAxis("bottom").labelText == "x1" and item.getAxis("left").labelText == "x2"
    assert item.getAxis("left").autoSIPrefixScale == 1.0  # ticks show the values as they are
    assert [label.text for _, label in item.legend.items] == ["real data", "generated"]
    draw(page, gan_points(shift=2.0))
    assert renderer.scatters["generated"] is fake and fake.data["x"].tolist() == [0.5, 2.0]


def test_points_coloured_by_class_are_labelled_where_their_class_lies(page):
    xy = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [4, 5]], np.float32)
    preview = Preview("points", "Latent space", {
        "layers": [{"name": "examples", "xy": xy, "classes": np.array([3, 0, 3, 7, 3]),
                    "color": None, "size": 6.0}], "x_label": "z1", "y_label": "z2"})
    (renderer,) = draw(page, preview)
    assert sorted(renderer.scatters) == ["0", "3", "7"]
    three = renderer.scatters["3"]
    assert three.data["x"].tolist() == [0, 2, 4]
    assert three.opts["brush"].color() == class_color(3)
    label = renderer.class_labels["3"]
    assert label.textItem.toPlainText() == "3"
    assert (label.pos().x(), label.pos().y()) == (2, 2)  # the median of its points
    assert not renderer.plot.getPlotItem().legend.isVisible()  # the labels name the classes
    draw(page, Preview("points", "Latent space", {"layers": [
        {"name": "examples", "xy": xy[:2], "classes": np.array([0, 0]), "color": None,
         "size": 6.0}]}))
    assert list(renderer.class_labels) == ["0"] and list(renderer.scatters) == ["0"]
    with pytest.raises(ValueError, match="5 points but 3 classes"):
        draw(page, Preview("points", "Latent space", {"layers": [
            {"name": "examples", "xy": xy, "classes": np.array([1, 2, 3]), "color": None,
             "size": 6.0}]}))


# --------------------------------------------------------- the templates, in the window
def short_run(template: str, **config):
    project = load_template(template)
    project.training["config"].update({"epochs": 2, "device": "cpu", **config})
    return project


def keep_pictures(window, name: str) -> None:
    folder = os.environ.get("NNSTUDIO_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(folder) / f"window-{name}.png"))
        dock_of(window).grab().save(str(Path(folder) / f"live-{name}.png"))


@pytest.mark.parametrize("template, titles", [
    ("autoencoder", ["Reconstructions"]),
    ("vae", ["Reconstructions", "Latent space", "Samples"]),
    ("gan-2d", ["Generated points over the data"]),
    ("dcgan-digits", ["Generated samples"]),
])
def test_a_run_of_the_template_fills_the_live_page(train_window, qtbot, template, titles):
    epochs = int(os.environ.get("NNSTUDIO_LIVE_EPOCHS", "2"))  # more for a picture
    window = train_window(short_run(template, epochs=epochs), size=(1400, 1000))
    window.resizeDocks([window.bottom_dock], [620], Qt.Orientation.Vertical)  # room to see
    dock = dock_of(window)
    assert dock.start()
    assert dock.pages.currentWidget() is dock.live
    finish(qtbot, dock, timeout=max(60_000, 2_000 * epochs))
    qtbot.waitUntil(lambda: dock.live.titles == titles, timeout=5000)
    dock.live.refresh()
    shown = dock.live.renderers
    if "Reconstructions" in shown:
        picture = shown["Reconstructions"].image.image
        assert picture.shape[1] == 8 * 9 + 1  # 8 digits a row
        assert len(shown["Reconstructions"].captions) == 16
    if template == "vae":
        assert sum(len(s.data) for s in shown["Latent space"].scatters.values()) == 359
        assert shown["Samples"].image.image.shape[1] == 6 * 9 + 1
    if template == "gan-2d":
        layers = shown["Generated points over the data"].scatters
        assert [len(s.data) for s in layers.values()] == [600, 600]
    if template == "dcgan-digits":
        assert len(shown["Generated samples"].captions) == 36
    qtbot.wait(50)
    keep_pictures(window, template)


def test_points_keep_their_tick_values_when_the_axis_labels_change(page, qtbot):
    # a VAE's busiest code dimensions change as it learns, and with them the labels;
    # restyling an axis whose range lies within (0, 1) once froze a x1000 tick scale
    xy = np.array([[0.1, 0.1], [0.3, 0.4]], np.float32)

    def latent(x_label):
        return Preview("points", "Latent space", {"layers": [
            {"name": "examples", "xy": xy, "classes": None, "color": (1, 2, 3), "size": 5.0}],
            "x_label": x_label, "y_label": "z2"})

    (renderer,) = draw(page, latent("z1"))
    item = renderer.plot.getPlotItem()
    qtbot.waitUntil(lambda: max(abs(v) for v in item.getAxis("left").range) < 1)
    draw(page, latent("z3"))
    for name in ("left", "bottom"):
        assert item.getAxis(name).autoSIPrefixScale == 1.0  # the values as they are
