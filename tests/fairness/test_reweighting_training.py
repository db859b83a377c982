"""The `reweight` setting: validated, and the classification loss weighs each example."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnstudio.data.base import DatasetInfo, DatasetSplits, Split
from nnstudio.train import ClassificationRecipe, ConfigError, TrainConfig, Trainer
from nnstudio.train.mitigation import reweighing_weights


def _splits(sensitive: bool = True, n: int = 64) -> DatasetSplits:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    g = rng.integers(0, 2, n)
    y = ((x[:, 0] > 0) & ((g == 0) | (x[:, 1] > 0.5))).astype(np.int64)
    info = DatasetInfo("toy", "classification", (3,), ("no", "yes"),
                       sensitive=(("g", ("a", "b")),) if sensitive else ())

    def split(lo, hi):
        extra = {"g": torch.from_numpy(g[lo:hi])} if sensitive else {}
        return Split(torch.from_numpy(x[lo:hi]), torch.from_numpy(y[lo:hi]), extra)

    return DatasetSplits(info, split(0, 40), split(40, 52), split(52, n))


def test_the_setting_is_checked():
    assert TrainConfig().reweight == "none"
    assert TrainConfig.from_dict({"reweight": "group_label"}).reweight == "group_label"
    with pytest.raises(ConfigError, match="^reweight"):
        TrainConfig(reweight="per_person")
    with pytest.raises(ConfigError, match="reweight.*classification recipe"):
        TrainConfig(recipe="regression", loss="mse", reweight="group_label")


def test_weighted_loss_is_the_mean_of_weight_times_example_loss():
    splits = _splits()
    recipe = ClassificationRecipe(TrainConfig(loss="cross_entropy"), splits.info)
    model = torch.nn.Linear(3, 2)
    x, y = splits.train.x[:8], splits.train.y[:8]
    w = torch.linspace(0.5, 2.0, 8)
    loss, _, _ = recipe.loss(model, (x, y, w))
    expected = (F.cross_entropy(model(x), y, reduction="none") * w).mean()
    assert torch.allclose(loss, expected)
    plain, _, _ = recipe.loss(model, (x, y))
    assert torch.allclose(plain, F.cross_entropy(model(x), y))


def test_the_trainer_feeds_kamiran_calders_weights_to_every_step(monkeypatch):
    splits = _splits()
    seen = []
    original = ClassificationRecipe.loss

    def spy(self, model, batch):
        seen.append(batch[2].detach().clone() if len(batch) > 2 else None)
        return original(self, model, batch)

    monkeypatch.setattr(ClassificationRecipe, "loss", spy)
    config = TrainConfig(reweight="group_label", batch_size=40, epochs=1, device="cpu")
    result = Trainer(torch.nn.Linear(3, 2), splits, config).fit()
    assert result.stopped_reason == "completed", result.message
    (weights,) = seen
    expected = reweighing_weights(splits.train.extra["g"].numpy(), splits.train.y.numpy())
    # one batch holds the whole (shuffled) training split: the same weights, permuted
    assert sorted(weights.tolist()) == pytest.approx(sorted(expected.tolist()))


def test_reweighting_without_a_sensitive_column_ends_the_run_with_a_reason():
    config = TrainConfig(reweight="group_label", epochs=1, device="cpu")
    result = Trainer(torch.nn.Linear(3, 2), _splits(sensitive=False), config).fit()
    assert result.stopped_reason == "error"
    assert "sensitive column" in result.message
