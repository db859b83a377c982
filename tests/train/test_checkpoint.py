from __future__ import annotations

import os
import pickle

import pytest
import torch
from torch import nn

from nnstudio.train import (
    Callback,
    CheckpointError,
    TrainConfig,
    Trainer,
    load_checkpoint,
    load_state_dict_file,
    save_checkpoint,
    save_state_dict,
)


def dropout_mlp(seed: int = 1) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


CONFIG = TrainConfig(epochs=4, lr=0.02, schedule="onecycle", device="cpu", seed=3)


class StopAfter(Callback):
    def __init__(self, epoch: int, trainer_box: list) -> None:
        self.epoch, self.box = epoch, trainer_box

    def on_epoch_end(self, e):
        if e.epoch == self.epoch:
            self.box[0].control.stop()


def test_resume_gives_the_same_final_weights_as_an_uninterrupted_run(blobs, tmp_path):
    data = blobs()
    straight_model = dropout_mlp()
    straight = Trainer(straight_model, data, CONFIG).fit()

    box: list = []
    first_model = dropout_mlp()
    box.append(Trainer(first_model, data, CONFIG, [StopAfter(2, box)], checkpoint_dir=tmp_path))
    first = box[0].fit()
    assert first.stopped_reason == "stopped" and first.epochs_completed == 2
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 2

    resumed_model = dropout_mlp(seed=99)  # different start: the checkpoint must overwrite it
    resumed = Trainer(resumed_model, data, CONFIG, resume_from=tmp_path / "last.pt").fit()
    assert resumed.stopped_reason == "completed", resumed.message
    assert resumed.history == straight.history
    for (name, a), b in zip(straight_model.state_dict().items(), resumed_model.state_dict().values()):
        assert torch.equal(a, b), name


def test_resume_refuses_a_run_with_other_settings(blobs, tmp_path):
    data = blobs()
    Trainer(dropout_mlp(), data, TrainConfig(epochs=1, device="cpu"), checkpoint_dir=tmp_path).fit()
    other = TrainConfig(epochs=2, batch_size=8, device="cpu")
    result = Trainer(dropout_mlp(), data, other, resume_from=tmp_path / "last.pt").fit()
    assert result.stopped_reason == "error"
    assert "batch_size (32 there, 8 here)" in result.message


def test_checkpoint_dir_gets_last_and_best(blobs, tmp_path):
    Trainer(dropout_mlp(), blobs(), TrainConfig(epochs=2, device="cpu"), checkpoint_dir=tmp_path).fit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]
    ckpt = load_checkpoint(tmp_path / "best.pt")
    assert ckpt["config"]["epochs"] == 2 and set(ckpt["model"]) == set(dropout_mlp().state_dict())


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "last.pt"
    save_checkpoint(path, model, opt, None, 1, TrainConfig(), {"loss": 1.0})

    def half_then_crash(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, opt, None, 2, TrainConfig(), {"loss": 0.5})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["last.pt"]


def test_state_dict_round_trip(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    save_state_dict(tmp_path / "w.pt", model)
    loaded = load_state_dict_file(tmp_path / "w.pt")
    assert set(loaded) == set(model.state_dict())
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    fresh.load_state_dict(loaded)
    assert torch.equal(fresh[0].weight, model[0].weight)


def test_a_checkpoint_also_loads_as_a_state_dict(tmp_path):
    model = nn.Linear(2, 2)
    save_checkpoint(tmp_path / "c.pt", model, torch.optim.Adam(model.parameters()), None, 1,
                    TrainConfig(), {})
    assert set(load_state_dict_file(tmp_path / "c.pt")) == {"weight", "bias"}


class Payload:
    """Unpickling this calls ``func(*args)``."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def test_a_pickle_that_would_call_os_getpid_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(2), "x": Payload(os.getpid)}, path)
    with pytest.raises(CheckpointError, match="could run code"):
        load_state_dict_file(path)
    with pytest.raises(CheckpointError, match="could run code"):
        load_checkpoint(path)


def test_a_refused_pickle_really_would_have_run_code(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    torch.save(Payload(os.mkdir, str(marker)), path)
    with pytest.raises(CheckpointError):
        load_state_dict_file(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # what an unsafe loader would do
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_plain_python_pickle_is_refused(tmp_path):
    path = tmp_path / "raw.pkl"
    path.write_bytes(pickle.dumps(Payload(os.getpid)))
    with pytest.raises(CheckpointError, match="could run code"):
        load_state_dict_file(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ([torch.zeros(1)], "holds a list"),
        ({"weight": torch.zeros(1), "note": "hello"}, "entry 'note' is a str"),
    ],
)
def test_files_that_are_not_state_dicts_are_refused(tmp_path, content, match):
    path = tmp_path / "w.pt"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match=match):
        load_state_dict_file(path)


def test_damaged_and_missing_files_are_reported(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a weights file at all")
    with pytest.raises(CheckpointError, match="damaged"):
        load_state_dict_file(tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="no such file"):
        load_state_dict_file(tmp_path / "missing.pt")
    torch.save({"weight": torch.zeros(1)}, tmp_path / "sd.pt")
    with pytest.raises(CheckpointError, match="not an nnstudio training checkpoint"):
        load_checkpoint(tmp_path / "sd.pt")


def test_resume_into_another_model_is_refused(blobs, tmp_path):
    data = blobs()
    Trainer(dropout_mlp(), data, TrainConfig(epochs=1, device="cpu"), checkpoint_dir=tmp_path).fit()
    torch.manual_seed(0)
    other = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    result = Trainer(other, data, TrainConfig(epochs=2, device="cpu"),
                     resume_from=tmp_path / "last.pt").fit()
    assert result.stopped_reason == "error" and "another model" in result.message


def test_resume_may_train_for_more_epochs(blobs, tmp_path):
    data = blobs()
    Trainer(dropout_mlp(), data, TrainConfig(epochs=2, device="cpu"), checkpoint_dir=tmp_path).fit()
    result = Trainer(dropout_mlp(), data, TrainConfig(epochs=3, device="cpu"),
                     resume_from=tmp_path / "last.pt").fit()
    assert result.stopped_reason == "completed"
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
