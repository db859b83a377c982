"""The trainer's live pictures: rate-bounded, stamped, asked for only when listened to,
and never changing the course of training."""

from __future__ import annotations

from typing import ClassVar

import pytest
import torch

from nnstudio.train import Callback, ClassificationRecipe, Preview, TrainConfig, Trainer
from nnstudio.train import recipes as recipes_module
from nnstudio.train.preview import PROBE_SIZE

from .conftest import make_blobs, mlp


class _ShowingRecipe(ClassificationRecipe):
    name = "preview_test"
    calls: ClassVar[list[tuple[int, int, int, bool]]] = []

    def preview(self, model, source, step, epoch):
        _ShowingRecipe.calls.append((len(source.x), step, epoch, model.training))
        scores = model(source.x)
        return [Preview("text", "Scores", {"text": f"{float(scores.mean()):.3f}"})]


class _Collect(Callback):
    def __init__(self) -> None:
        self.previews: list[list[Preview]] = []

    def on_preview(self, previews) -> None:
        self.previews.append(previews)


@pytest.fixture()
def showing(monkeypatch):
    monkeypatch.setitem(recipes_module._RECIPES, "preview_test", _ShowingRecipe)
    _ShowingRecipe.calls = []
    return _ShowingRecipe


def _config(epochs: int = 3) -> TrainConfig:
    return TrainConfig(recipe="preview_test", epochs=epochs, batch_size=16, lr=0.01)


def test_previews_reach_listeners_stamped_and_bounded(showing):
    splits = make_blobs(n_train=400, n_val=100)
    got = _Collect()
    result = Trainer(mlp(), splits, _config(), [got], preview_every_s=3600).fit()
    assert result.stopped_reason == "completed"
    # an hour between previews: the first report draws one, then only the forced final one
    assert len(got.previews) == 2
    first, last = got.previews[0][0], got.previews[-1][0]
    assert first.title == "Scores" and first.kind == "text"
    assert last.global_step == result.global_step and last.epoch == 3
    assert first.global_step < last.global_step
    n_probe, _, _, training = showing.calls[0]
    assert n_probe == min(PROBE_SIZE, 100)  # from the validation split
    assert training is False  # drawn in eval mode


def test_no_listener_no_preview(showing):
    Trainer(mlp(), make_blobs(), _config(epochs=1)).fit()
    assert showing.calls == []


def test_previews_do_not_change_training(showing, monkeypatch):
    # as many previews as the run allows: no rate limit and no cap on their share of time
    monkeypatch.setattr("nnstudio.train.preview.PREVIEW_SHARE", 1.0)
    splits = make_blobs(n_train=300, n_val=60)
    plain = mlp(seed=3)
    Trainer(plain, splits, _config(epochs=2)).fit()
    watched = mlp(seed=3)
    got = _Collect()
    Trainer(watched, splits, _config(epochs=2), [got], preview_every_s=1e-6).fit()
    assert len(got.previews) > 2
    for a, b in zip(plain.state_dict().values(), watched.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_failing_preview_ends_the_run_with_a_message(showing, monkeypatch):
    def broken(self, model, source, step, epoch):
        raise RuntimeError("no picture today")

    monkeypatch.setattr(_ShowingRecipe, "preview", broken)
    result = Trainer(mlp(), make_blobs(), _config(epochs=1), [_Collect()]).fit()
    assert result.stopped_reason == "error"
    assert "live view" in result.message and "no picture today" in result.message


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown preview kind"):
        Preview("sculpture", "x")
