"""Training logs as TensorBoard event files (when the tensorboard package is installed)."""

from __future__ import annotations

import pytest

from nnstudio.cli import main
from nnstudio.graph.project_file import save_project
from nnstudio.graph.templates import load_template
from nnstudio.train import Trainer
from nnstudio.train.project_run import prepare_run
from nnstudio.train.tensorboard import TensorBoardLogger, maybe_tensorboard, tensorboard_available


def _scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _project(epochs=3):
    project = load_template("mlp")
    project.training["config"].update(epochs=epochs)
    project.training["dataset"].update(n_samples=200)
    return project


def test_the_logger_writes_losses_and_metrics_per_epoch(tmp_path):
    pytest.importorskip("tensorboard")
    prepared = prepare_run(_project(), config_overrides={"device": "cpu"})
    logger = TensorBoardLogger(tmp_path / "tb")
    result = Trainer(prepared.model, prepared.splits, prepared.config, [logger]).fit()
    scalars = _scalars(tmp_path / "tb")
    assert [step for step, _ in scalars["epoch/train_loss"]] == [1, 2, 3]
    assert scalars["epoch/train_loss"][-1][1] == pytest.approx(result.history[-1]["train_loss"])
    assert scalars["val/accuracy"][-1][1] == pytest.approx(result.metrics["val"]["accuracy"])
    assert scalars["test/accuracy"][0][1] == pytest.approx(result.metrics["test"]["accuracy"])
    assert len(scalars["train/loss"]) >= 3


def test_nnstudio_train_writes_event_files_unless_asked_not_to(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    path = tmp_path / "mlp.nnstudio"
    save_project(_project(epochs=1), path)
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--device", "cpu"]) == 0
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    assert main(["train", str(path), "--out", str(tmp_path / "quiet"), "--device", "cpu",
                 "--no-tensorboard"]) == 0
    assert not (tmp_path / "quiet" / "tensorboard").exists()


def test_without_tensorboard_there_is_simply_no_logger(monkeypatch, tmp_path):
    from nnstudio.train import tensorboard

    monkeypatch.setattr(tensorboard, "tensorboard_available", lambda: False)
    assert tensorboard.maybe_tensorboard(tmp_path) is None
    with pytest.raises(RuntimeError, match="pip install tensorboard"):
        tensorboard.TensorBoardLogger(tmp_path)
    assert maybe_tensorboard is tensorboard.maybe_tensorboard
    assert isinstance(tensorboard_available(), bool)
