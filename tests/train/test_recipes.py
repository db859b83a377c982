from __future__ import annotations

import pytest
import torch
from torch import nn

from nnstudio.data.base import DatasetInfo
from nnstudio.train import (
    Callback,
    ClassificationRecipe,
    Recipe,
    TrainConfig,
    Trainer,
    create_recipe,
    recipe_class,
    recipe_names,
    register_recipe,
)
from nnstudio.train.recipes import _RECIPES

THREE = DatasetInfo("three", "classification", (2,), ("a", "b", "c"))
TWO = DatasetInfo("two", "classification", (2,), ("a", "b"))


def test_builtin_recipes_are_registered():
    assert {"classification", "regression"} <= set(recipe_names())
    assert recipe_class("classification") is ClassificationRecipe


def test_registry_refuses_a_second_recipe_of_the_same_name():
    with pytest.raises(ValueError, match="already registered"):
        @register_recipe
        class Again(Recipe):
            name = "classification"


def test_a_new_recipe_registers_without_touching_the_trainer():
    @register_recipe
    class Echo(Recipe):
        name = "echo_test"

    try:
        assert TrainConfig(recipe="echo_test").recipe == "echo_test"
    finally:
        del _RECIPES["echo_test"]


def test_check_says_how_many_class_scores_are_needed():
    recipe = create_recipe(TrainConfig(), THREE)
    problems = recipe.check((8, 2))
    assert problems == [("classification needs one output with 3 class scores ([B, 3]), "
                         "the model gives [B, 2]")]
    assert recipe.check((8, 3)) == []


def test_check_refuses_bce_for_three_classes():
    problems = create_recipe(TrainConfig(loss="bce"), THREE).check((8, 1))
    assert "3 classes" in problems[0]


def test_regression_check_names_the_target_count():
    info = DatasetInfo("r", "regression", (2,), n_targets=2)
    recipe = create_recipe(TrainConfig(recipe="regression"), info)
    assert recipe.check((4, 2)) == []
    assert "2 values" in recipe.check((4, 3))[0] and "[B, 3]" in recipe.check((4, 3))[0]


@pytest.mark.parametrize(
    ("n_out", "tail", "expected"),
    [
        (2, None, "cross_entropy"),
        (1, None, "bce"),
        (2, nn.LogSoftmax(dim=1), "nll"),
        (1, nn.Sigmoid(), "bce_prob"),
    ],
)
def test_auto_loss_follows_the_output_and_last_layer(make_mlp, n_out, tail, expected):
    model = make_mlp(n_out=n_out, tail=tail)
    recipe = create_recipe(TrainConfig(), TWO)
    assert recipe.prepare(model, model(torch.randn(3, 2))) == []
    assert recipe.loss_name == expected


def test_a_model_ending_in_softmax_is_refused_for_cross_entropy(make_mlp):
    model = make_mlp(n_out=2, tail=nn.Softmax(dim=1))
    problems = create_recipe(TrainConfig(), TWO).prepare(model, model(torch.randn(3, 2)))
    assert "Softmax" in problems[0] and "logits" in problems[0]


@pytest.mark.parametrize(
    ("n_out", "tail", "loss"),
    [
        (2, None, "auto"),  # cross-entropy on logits
        (1, None, "auto"),  # one logit, BCEWithLogits
        (2, nn.LogSoftmax(dim=1), "auto"),  # nll
        (1, nn.Sigmoid(), "bce_prob"),
    ],
)
def test_each_classification_loss_trains_and_the_loss_falls(blobs, make_mlp, n_out, tail, loss):
    result = Trainer(make_mlp(n_out=n_out, tail=tail), blobs(),
                     TrainConfig(loss=loss, lr=0.05, epochs=4, batch_size=32, device="cpu")).fit()
    assert result.stopped_reason == "completed", result.message
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < 0.6 * losses[0]
    assert result.metrics["test"]["accuracy"] > 0.9


def test_three_class_training_reports_a_confusion_matrix(blobs, make_mlp):
    seen = []

    class Grab(Callback):
        def on_evaluate(self, ev):
            seen.append(ev)

    data = blobs(n_classes=3)
    result = Trainer(make_mlp(n_out=3), data, TrainConfig(lr=0.05, epochs=3, device="cpu"),
                     [Grab()]).fit()
    assert result.stopped_reason == "completed", result.message
    test = [ev for ev in seen if ev.split == "test"][-1]
    assert sum(map(sum, test.confusion)) == len(data.test)
    assert [row["class"] for row in test.per_class] == ["c0", "c1", "c2"]
    assert test.class_names == ("c0", "c1", "c2")


@pytest.mark.parametrize("loss", ["auto", "l1", "huber"])
def test_regression_trains_and_the_loss_falls(line, make_mlp, loss):
    result = Trainer(make_mlp(n_out=1), line(),
                     TrainConfig(recipe="regression", loss=loss, lr=0.02, epochs=5,
                                 device="cpu")).fit()
    assert result.stopped_reason == "completed", result.message
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < 0.3 * losses[0]
    assert set(result.metrics["test"]) == {"loss", "mse", "mae", "r2"}
    assert result.metrics["test"]["r2"] > 0.8


def test_a_model_with_the_wrong_output_ends_with_the_recipe_message(blobs, make_mlp):
    result = Trainer(make_mlp(n_out=5), blobs(n_classes=3), TrainConfig(device="cpu")).fit()
    assert result.stopped_reason == "error"
    assert "3 class scores" in result.message and "[B, 5]" in result.message


def test_labels_outside_the_classes_are_reported_before_training(blobs, make_mlp):
    data = blobs()
    data.train.y[0] = 7
    result = Trainer(make_mlp(), data, TrainConfig(device="cpu")).fit()
    assert result.stopped_reason == "error"
    assert "0..1" in result.message and "7" in result.message
