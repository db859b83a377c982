"""The sets that ship inside scikit-learn."""

from __future__ import annotations

import pytest
import torch

from nnstudio.data import DatasetError, load_dataset
from nnstudio.data.sklearn_sets import parse_classes


def test_digits_are_one_channel_8x8_images_scaled_to_unit_range() -> None:
    raw = load_dataset("digits", normalise=False)
    assert raw.info.kind == "image" and raw.info.input_shape == (1, 8, 8)
    assert raw.train.x.shape[1:] == (1, 8, 8)
    assert raw.train.x.min() == 0.0 and raw.train.x.max() == 1.0
    assert raw.info.classes == tuple("0123456789")
    norm = load_dataset("digits")
    assert norm.norm_mean.shape == (1, 1, 1)
    assert abs(norm.train.x.mean().item()) < 1e-4


def test_digits_classes_option_keeps_and_remaps_labels() -> None:
    high = load_dataset("digits", classes="5,6,7,8,9", normalise=False)
    assert high.info.classes == ("5", "6", "7", "8", "9")
    labels = torch.cat([high.train.y, high.val.y, high.test.y])
    assert set(labels.tolist()) == {0, 1, 2, 3, 4}
    assert len(labels) == 1797 - 901  # digits 0-4 have 901 images
    low = load_dataset("digits", classes="0-4")
    assert low.info.classes == ("0", "1", "2", "3", "4")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0-4", (0, 1, 2, 3, 4)), ("9, 3", (3, 9)), ("0-1,7-8", (0, 1, 7, 8)), ("", tuple(range(10)))],
)
def test_parse_classes_reads_ranges_and_lists(text: str, expected: tuple) -> None:
    assert parse_classes(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a-b", "cannot read 'a-b'"),
        ("4-1", "runs backwards"),
        ("3,12", r"\[12\] not in 0..9"),
        ("1,1", "names a class twice"),
        ("7", "keeps 1 class"),
    ],
)
def test_parse_classes_explains_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(DatasetError, match=fragment):
        parse_classes(text)


def test_digits_per_class_limits_training_examples_for_few_shot() -> None:
    splits = load_dataset("digits", classes="5-9", per_class=3, seed=4)
    assert torch.bincount(splits.train.y).tolist() == [3, 3, 3, 3, 3]
    assert len(splits.val) > 100  # validation and test keep everything
    again = load_dataset("digits", classes="5-9", per_class=3, seed=4)
    assert torch.equal(splits.train.x, again.train.x)


@pytest.mark.parametrize(
    ("name", "features", "classes"),
    [("iris", 4, 3), ("wine", 13, 3), ("breast-cancer", 30, 2)],
)
def test_tables_carry_feature_and_class_names(name: str, features: int, classes: int) -> None:
    splits = load_dataset(name)
    assert splits.info.kind == "table" and splits.info.input_shape == (features,)
    assert len(splits.info.feature_names) == features and splits.info.n_classes == classes
    assert splits.train.x.dtype == torch.float32


def test_iris_names_come_from_scikit_learn() -> None:
    info = load_dataset("iris").info
    assert info.feature_names[0] == "sepal length (cm)"
    assert info.classes == ("setosa", "versicolor", "virginica")


def test_diabetes_is_a_one_target_regression_on_raw_units() -> None:
    raw = load_dataset("diabetes", normalise=False)
    assert raw.info.task == "regression" and raw.info.n_targets == 1 and raw.info.classes == ()
    assert raw.train.y.shape == (len(raw.train), 1)
    assert raw.train.x[:, 0].max() > 50  # unscaled ages, not scikit-learn's scaled ones
    assert 25 <= raw.train.y.min() and raw.train.y.max() <= 346
