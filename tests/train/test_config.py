from __future__ import annotations

import dataclasses
import pickle

import pytest
import torch

from nnstudio.train import ActivationCapture, ConfigError, TrainConfig, select_device


def test_defaults_are_valid_and_round_trip_through_a_dict():
    config = TrainConfig(lr=0.01, schedule="cosine", activations=ActivationCapture(bins=12))
    data = config.to_dict()
    assert data["activations"]["bins"] == 12
    assert TrainConfig.from_dict(data) == config


def test_from_dict_fills_missing_keys_with_defaults_and_accepts_ints_for_floats():
    config = TrainConfig.from_dict({"lr": 1, "recipe": "regression"})
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.batch_size == TrainConfig().batch_size


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"learning_rate": 0.1}, "learning_rate"),
        ({"activations": {"rate": 3}}, "activations.rate"),
    ],
)
def test_unknown_keys_are_refused_by_name(data, field):
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(data)
    assert info.value.field == field
    assert str(info.value).startswith(field)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": "fast"}, "lr"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"momentum": 1.0}, "momentum"),
        ({"nesterov": True, "optimizer": "adam"}, "nesterov"),
        ({"schedule": "linear"}, "schedule"),
        ({"gamma": 0.0}, "gamma"),
        ({"grad_clip": -1.0}, "grad_clip"),
        ({"device": "tpu"}, "device"),
        ({"early_stopping_patience": -1}, "early_stopping_patience"),
        ({"eval_every": 0}, "eval_every"),
        ({"recipe": "diffusion"}, "recipe"),
        ({"loss": "mse"}, "loss"),  # not a classification loss
        ({"monitor": "r2"}, "monitor"),  # not a classification metric
        ({"monitor_mode": "up"}, "monitor_mode"),
        ({"activations": {"bins": 1}}, "activations.bins"),
        ({"activations": {"max_rate_hz": 0}}, "activations.max_rate_hz"),
    ],
)
def test_bad_values_raise_config_error_naming_the_field(changes, field):
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(changes)
    assert info.value.field == field, str(info.value)


def test_replace_validates_again():
    with pytest.raises(ConfigError, match="^epochs"):
        dataclasses.replace(TrainConfig(), epochs=-3)


def test_monitor_defaults_to_the_recipe_and_its_direction():
    assert TrainConfig().monitor_metric == "loss"
    assert TrainConfig().monitor_direction == "min"
    assert TrainConfig(monitor="accuracy").monitor_direction == "max"
    assert TrainConfig(recipe="regression", loss="huber", monitor="r2").monitor_direction == "max"


def test_select_device_cpu_and_auto():
    assert select_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert select_device("auto").type == "cuda"
    elif not torch.backends.mps.is_available():
        assert select_device("auto") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_absent_cuda_says_so():
    with pytest.raises(ConfigError, match="CUDA") as info:
        select_device("cuda")
    assert info.value.field == "device"
    assert "cpu" in str(info.value)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_asking_for_absent_mps_says_so():
    with pytest.raises(ConfigError, match="MPS"):
        select_device("mps")


def test_config_error_survives_pickling():
    err = pickle.loads(pickle.dumps(ConfigError("lr", "must be a positive number")))
    assert err.field == "lr" and str(err) == "lr: must be a positive number"
