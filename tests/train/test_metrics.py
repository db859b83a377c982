from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from nnstudio.train.metrics import (
    accuracy,
    class_scores,
    classification_metrics,
    confusion_matrix,
    mae,
    mse,
    r2_score,
)


@pytest.fixture
def labels():
    rng = np.random.default_rng(3)
    target = rng.integers(0, 4, size=50)
    keep = (rng.random(50) < 0.6) & (target < 3)
    pred = np.where(keep, target, rng.integers(0, 3, size=50))  # never predicts class 3
    return torch.from_numpy(pred), torch.from_numpy(target)


def test_accuracy_and_confusion_matrix_match_sklearn(labels):
    pred, target = labels
    assert accuracy(pred, target) == pytest.approx(skm.accuracy_score(target, pred))
    cm = confusion_matrix(pred, target, 4)
    np.testing.assert_array_equal(cm.numpy(), skm.confusion_matrix(target, pred, labels=range(4)))


def test_per_class_scores_match_sklearn_with_zero_division_0(labels):
    pred, target = labels
    scores = class_scores(confusion_matrix(pred, target, 4))
    p, r, f, s = skm.precision_recall_fscore_support(target, pred, labels=range(4), zero_division=0)
    np.testing.assert_allclose(scores.precision.numpy(), p)
    np.testing.assert_allclose(scores.recall.numpy(), r)
    np.testing.assert_allclose(scores.f1.numpy(), f)
    np.testing.assert_array_equal(scores.support.numpy(), s)
    assert scores.precision[3] == 0  # a class never predicted: 0/0 counts as 0


def test_macro_averages_match_sklearn(labels):
    pred, target = labels
    m = classification_metrics(confusion_matrix(pred, target, 4))
    p, r, f, _ = skm.precision_recall_fscore_support(target, pred, labels=range(4),
                                                     average="macro", zero_division=0)
    assert m["precision_macro"] == pytest.approx(p)
    assert m["recall_macro"] == pytest.approx(r)
    assert m["f1_macro"] == pytest.approx(f)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(target, pred))


def test_per_class_table_names_the_classes(labels):
    pred, target = labels
    rows = class_scores(confusion_matrix(pred, target, 4)).table(("a", "b", "c", "d"))
    assert [row["class"] for row in rows] == ["a", "b", "c", "d"]
    assert sum(row["support"] for row in rows) == 50


@pytest.mark.parametrize("shape", [(40,), (40, 3)])
def test_regression_metrics_match_sklearn(shape):
    rng = np.random.default_rng(5)
    target = rng.normal(size=shape)
    pred = target + rng.normal(scale=0.5, size=shape)
    t, p = torch.from_numpy(target), torch.from_numpy(pred)
    assert mse(p, t) == pytest.approx(skm.mean_squared_error(target, pred))
    assert mae(p, t) == pytest.approx(skm.mean_absolute_error(target, pred))
    assert r2_score(p, t) == pytest.approx(skm.r2_score(target, pred))


def test_r2_of_a_constant_target_follows_sklearn():
    target = np.array([[2.0, 1.0], [2.0, 2.0], [2.0, 3.0]])
    for pred in (target.copy(), target + np.array([0.5, 0.0])):
        assert r2_score(torch.from_numpy(pred), torch.from_numpy(target)) == pytest.approx(
            skm.r2_score(target, pred))
