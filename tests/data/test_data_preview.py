"""The plain-data preview the UI draws."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.data import load_dataset, preview


def test_image_preview_shows_every_class_in_original_pixel_values() -> None:
    splits = load_dataset("digits", classes="0-3")
    shown = preview(splits, n=8)
    assert shown["kind"] == "image" and len(shown["images"]) == 8
    assert shown["images"][0].shape == (8, 8)
    assert shown["labels"] == ["0", "1", "2", "3"] * 2  # classes taken in turn
    raw = load_dataset("digits", classes="0-3", normalise=False)
    first = raw.train.y.numpy().tolist().index(0)
    assert np.allclose(shown["images"][0], raw.train.x[first, 0].numpy(), atol=1e-5)
    assert shown["sizes"] == {
        "train": len(splits.train),
        "val": len(splits.val),
        "test": len(splits.test),
    }
    assert sum(shown["class_counts"]["train"]) == len(splits.train)


def test_points_preview_gives_coordinates_and_labels() -> None:
    shown = preview(load_dataset("gaussians8", n_samples=300, noise=0.01))
    assert shown["points"].shape == (180, 2) and shown["labels"].shape == (180,)
    # normalisation undone: the points sit on the ring of radius 2 again
    assert np.allclose(np.hypot(*shown["points"].T), 2.0, atol=0.05)


def test_table_preview_has_header_and_rows_in_original_units() -> None:
    shown = preview(load_dataset("iris"), n=5)
    assert shown["header"][:2] == ["sepal length (cm)", "sepal width (cm)"]
    assert shown["header"][-1] == "target" and len(shown["rows"]) == 5
    assert all(4.0 <= row[0] <= 8.0 for row in shown["rows"])  # centimetres, not z-scores
    assert all(row[-1] in ("setosa", "versicolor", "virginica") for row in shown["rows"])
    regression = preview(load_dataset("diabetes"), n=3)
    assert all(25 <= float(row[-1]) <= 346 for row in regression["rows"])


def test_sequence_preview_has_the_series_and_split_points() -> None:
    splits = load_dataset("seasonal-series", length=500, window=20)
    shown = preview(splits, n=4)
    assert shown["series"].shape == (500,) and shown["split_points"] == [300, 400]
    assert shown["windows"].shape == (4, 20)
    raw = load_dataset("seasonal-series", length=500, window=20, normalise=False)
    assert np.allclose(shown["series"], raw.train.extra["series"].numpy(), atol=1e-5)
    assert shown["class_counts"] == {}


@pytest.mark.parametrize("n", [1, 3])
def test_preview_respects_n(n: int) -> None:
    assert len(preview(load_dataset("wine"), n=n)["rows"]) == n
