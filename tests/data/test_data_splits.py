"""Seeded stratified splits, training-only normalisation, fingerprints."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from nnstudio.data import DatasetError, DatasetInfo, load_dataset
from nnstudio.data.splits import build_splits, fingerprint, norm_stats, split_indices


def test_same_seed_gives_identical_splits_and_another_seed_differs() -> None:
    a = load_dataset("moons", seed=3, n_samples=200)
    b = load_dataset("moons", seed=3, n_samples=200)
    c = load_dataset("moons", seed=4, n_samples=200)
    for part in ("train", "val", "test"):
        assert torch.equal(getattr(a, part).x, getattr(b, part).x)
        assert torch.equal(getattr(a, part).y, getattr(b, part).y)
    assert not torch.equal(a.train.x, c.train.x)


def test_split_sizes_follow_the_fractions() -> None:
    splits = load_dataset("iris", val_fraction=0.1, test_fraction=0.3)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (90, 15, 45)


def test_classification_splits_are_stratified() -> None:
    # iris has 50 of each class: every split must keep exactly one third of each
    splits = load_dataset("iris", seed=11)
    for part in (splits.train, splits.val, splits.test):
        counts = torch.bincount(part.y, minlength=3)
        assert counts.tolist() == [len(part) // 3] * 3
    # an unbalanced set keeps its proportions within one example
    cancer = load_dataset("breast-cancer", seed=2)
    overall = 212 / 569  # malignant share in the whole set
    for part in (cancer.train, cancer.val, cancer.test):
        malignant = int((part.y == 0).sum())
        assert abs(malignant - overall * len(part)) <= 1


def test_split_indices_cover_everything_once_and_fall_back_when_classes_are_tiny() -> None:
    labels = np.array([0] * 9 + [1])  # class 1 has a single member: cannot stratify
    train, val, test = split_indices(10, seed=0, val_fraction=0.2, test_fraction=0.2, labels=labels)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(10))
    assert (len(train), len(val), len(test)) == (6, 2, 2)
    with pytest.raises(DatasetError, match="2 examples are too few"):
        split_indices(2, seed=0, val_fraction=0.3, test_fraction=0.3)


def test_normalisation_statistics_come_from_the_training_split_only() -> None:
    raw = load_dataset("wine", seed=5, normalise=False)
    norm = load_dataset("wine", seed=5)
    train_mean = raw.train.x.mean(dim=0)
    train_std = raw.train.x.std(dim=0, unbiased=False)
    assert torch.allclose(norm.norm_mean, train_mean, rtol=1e-5, atol=1e-4)
    assert torch.allclose(norm.norm_std, train_std, rtol=1e-4)
    # train is standardised ...
    assert torch.allclose(norm.train.x.mean(dim=0), torch.zeros(13), atol=1e-4)
    assert torch.allclose(norm.train.x.std(dim=0, unbiased=False), torch.ones(13), atol=1e-3)
    # ... and val/test use the same statistics, so they are not exactly 0/1
    expected_val = (raw.val.x - norm.norm_mean) / norm.norm_std
    assert torch.allclose(norm.val.x, expected_val, atol=1e-5)
    assert norm.val.x.mean(dim=0).abs().max() > 0.05
    assert (norm.test.x.std(dim=0, unbiased=False) - 1).abs().max() > 0.05
    assert raw.norm_mean is None and raw.norm_std is None


def test_image_statistics_are_per_channel_and_constant_pixels_do_not_divide_by_zero() -> None:
    x = np.zeros((40, 3, 4, 4), np.float32)
    x[:, 1] = np.linspace(0, 1, 40)[:, None, None]
    mean, std = norm_stats(x, "image")
    assert mean.shape == (3, 1, 1)
    assert std[0, 0, 0] == 1.0 and std[2, 0, 0] == 1.0  # constant channels
    assert std[1, 0, 0] == pytest.approx(np.linspace(0, 1, 40).std(), rel=1e-5)


def test_regression_targets_are_standardised_with_training_statistics() -> None:
    raw = load_dataset("diabetes", seed=1, normalise=False)
    norm = load_dataset("diabetes", seed=1)
    assert raw.train.y.shape == (len(raw.train), 1) and raw.train.y.dtype == torch.float32
    assert raw.target_mean is None
    assert norm.target_mean.item() == pytest.approx(raw.train.y.mean().item(), rel=1e-5)
    restored = norm.test.y * norm.target_std + norm.target_mean
    assert torch.allclose(restored, raw.test.y, atol=1e-3)


def test_fingerprint_is_stable_and_depends_on_the_raw_data_only() -> None:
    a = load_dataset("iris", seed=0)
    b = load_dataset("iris", seed=7, val_fraction=0.3)
    assert a.fingerprint == b.fingerprint  # same raw data, another split
    assert len(a.fingerprint) == 64
    assert (
        load_dataset("moons", n_samples=100).fingerprint
        != load_dataset("moons", n_samples=101).fingerprint
    )
    x = np.arange(6, dtype=np.float32)
    # same bytes, other shape or dtype: another fingerprint
    assert fingerprint(x) != fingerprint(x.reshape(2, 3))
    assert fingerprint(x) != fingerprint(x.view(np.int32))
    assert fingerprint(x) == fingerprint(x.copy())
    # pinned recipe: sha256 of "<dtype><shape>;" then the bytes, array after array; a
    # change would silently break reproducibility bundles made earlier
    expected = hashlib.sha256(b"<i8(2,);" + bytes(16)).hexdigest()
    assert fingerprint(np.zeros(2, np.int64)) == expected


def test_per_class_keeps_at_most_n_training_examples_per_class() -> None:
    info = DatasetInfo("t", "classification", (1,), classes=("a", "b"))
    x = np.arange(100, dtype=np.float32)[:, None]
    y = (np.arange(100) % 2).astype(np.int64)
    splits = build_splits(
        info, x, y, seed=0, val_fraction=0.2, test_fraction=0.2, normalise=False, per_class=4
    )
    assert torch.bincount(splits.train.y).tolist() == [4, 4]
    assert len(splits.val) == 20 and len(splits.test) == 20  # untouched
