"""Generated 2-D sets, the ring of gaussians and the seasonal series."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnstudio.data import DatasetError, load_dataset
from nnstudio.data.synthetic import make_gaussians8, make_spiral, make_xor


@pytest.mark.parametrize("name", ["moons", "circles", "spiral", "xor", "blobs"])
def test_point_sets_are_float32_points_with_int64_labels(name: str) -> None:
    splits = load_dataset(name, n_samples=100, val_fraction=0.1, test_fraction=0.1)
    info = splits.info
    assert info.kind == "points2d" and info.input_shape == (2,) and info.task == "classification"
    assert splits.train.x.dtype == torch.float32 and splits.train.x.shape == (80, 2)
    assert splits.train.y.dtype == torch.int64
    total = len(splits.train) + len(splits.val) + len(splits.test)
    assert total == 100
    labels = torch.cat([splits.train.y, splits.val.y, splits.test.y])
    assert set(labels.tolist()) == set(range(info.n_classes))


def test_spiral_has_one_balanced_arm_per_class() -> None:
    x, y = make_spiral(503, n_classes=5, noise=0.0, seed=1)
    assert np.bincount(y).tolist() == [101, 101, 101, 100, 100]
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius.min() >= 0.1 - 1e-6 and radius.max() <= 1.0 + 1e-6
    assert load_dataset("spiral", n_classes=4, n_samples=80).info.classes == ("0", "1", "2", "3")


def test_xor_labels_come_from_the_quadrant() -> None:
    x, y = make_xor(400, noise=0.0, seed=0)
    assert np.array_equal(y, (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64))


def test_blobs_take_n_classes_and_noise_changes_the_points() -> None:
    splits = load_dataset("blobs", n_classes=5, n_samples=100)
    assert splits.info.n_classes == 5
    quiet = load_dataset("blobs", noise=0.1, normalise=False, n_samples=100)
    loud = load_dataset("blobs", noise=3.0, normalise=False, n_samples=100)
    assert quiet.fingerprint != loud.fingerprint


def test_gaussians8_lie_on_a_ring_and_label_their_mode() -> None:
    x, modes = make_gaussians8(800, noise=0.01, radius=2.0, seed=0)
    assert np.allclose(np.hypot(x[:, 0], x[:, 1]), 2.0, atol=0.06)
    angle = np.mod(np.arctan2(x[:, 1], x[:, 0]), 2 * np.pi)
    assert np.array_equal(np.round(angle / (np.pi / 4)).astype(int) % 8, modes)
    splits = load_dataset("gaussians8", n_samples=200)
    assert splits.info.task == "generative" and splits.info.n_classes == 8


def test_seasonal_series_windows_are_past_values_and_targets_the_next_ones() -> None:
    splits = load_dataset("seasonal-series", length=300, window=12, horizon=3, normalise=False)
    info = splits.info
    assert info.kind == "sequence" and info.task == "regression"
    assert info.input_shape == (12, 1) and info.n_targets == 3
    train = splits.train
    series = train.extra["series"]
    assert series.shape == (300,)
    for i in (0, 7, len(train) - 1):
        t = int(train.extra["target_index"][i])
        assert torch.equal(train.x[i, :, 0], series[t - 12 : t])
        assert torch.equal(train.y[i], series[t : t + 3])


def test_seasonal_series_split_is_chronological_without_shared_targets() -> None:
    splits = load_dataset("seasonal-series", length=400, window=10, horizon=2)
    parts = (splits.train, splits.val, splits.test)
    # 400 steps, 60/20/20: the val and test stretches start at steps 240 and 320
    assert [int(p.extra["split_start"]) for p in parts] == [0, 240, 320]
    for part in parts:
        start, end = int(part.extra["split_start"]), int(part.extra["split_end"])
        index = part.extra["target_index"]
        assert int(index.min()) >= start and int(index.max()) + 2 <= end
    assert int(splits.train.extra["target_index"].max()) < int(
        splits.val.extra["target_index"].min()
    )


def test_seasonal_series_is_normalised_with_the_training_stretch() -> None:
    raw = load_dataset("seasonal-series", length=400, window=10, trend=0.01, normalise=False)
    norm = load_dataset("seasonal-series", length=400, window=10, trend=0.01)
    stretch = raw.train.extra["series"][:240]
    assert norm.norm_mean.item() == pytest.approx(stretch.mean().item(), rel=1e-4)
    assert torch.equal(norm.target_mean, norm.norm_mean)
    assert torch.allclose(norm.test.y * norm.norm_std + norm.norm_mean, raw.test.y, atol=1e-4)
    # with an upward trend, the future sits above the training mean
    assert norm.test.y.mean() > 1.0


def test_seasonal_series_rejects_bad_periods_and_too_short_series() -> None:
    with pytest.raises(DatasetError, match="periods: 'day' is not a number"):
        load_dataset("seasonal-series", periods="24,day")
    with pytest.raises(DatasetError, match="length 60 is too short for window 58"):
        load_dataset("seasonal-series", length=60, window=58)
