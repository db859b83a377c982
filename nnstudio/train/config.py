"""Training settings: one validated, serialisable dataclass, and device selection.

:class:`TrainConfig` is frozen: change it with ``dataclasses.replace``, which
validates again.  ``to_dict``/``from_dict`` give plain JSON-ready values, so a
run's settings travel in project files and checkpoints.  Every invalid value
raises :class:`ConfigError` whose message begins with the field's name.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from nnstudio.train.errors import ConfigError
from nnstudio.train.recipes import recipe_class

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
MONITOR_MODES = ("auto", "min", "max")
REWEIGHTS = ("none", "group_label")  # per-example loss weights (ethics stage)


@dataclass(frozen=True)
class ActivationCapture:
    """How the live activation view samples the network while it trains."""

    enabled: bool = True
    max_rate_hz: float = 10.0  # at most this many probe passes per second
    probe_size: int = 64  # examples in the fixed probe batch (taken from the validation split)
    bins: int = 30  # histogram bins per layer
    max_channels: int = 16  # feature maps kept per conv layer

    def __post_init__(self) -> None:
        _check_type(self, "activations.")
        _require(self.max_rate_hz > 0 and math.isfinite(self.max_rate_hz),
                 "activations.max_rate_hz", "must be a positive number of captures per second")
        _require(self.probe_size >= 1, "activations.probe_size", "must be at least 1")
        _require(2 <= self.bins <= 1000, "activations.bins", "must be between 2 and 1000")
        _require(self.max_channels >= 1, "activations.max_channels", "must be at least 1")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how a model is trained.

    ``monitor`` names a validation metric of the recipe ("" = the recipe's default,
    usually "loss"); ``monitor_mode`` "auto" takes the direction from the recipe.
    ``step_size`` is in epochs.  ``grad_clip`` and ``early_stopping_patience`` are off
    at 0; patience counts evaluations without improvement.

    Settings of single recipes, ignored by the others: ``kl_weight`` (β, the weight of
    the KL term of the VAE recipe) and ``kl_warmup_epochs`` (the KL weight grows
    linearly from 0 to β over this many epochs; 0 = off); ``lr_d`` (the GAN recipe's
    discriminator learning rate; 0 = the same as ``lr``); ``reweight`` (classification:
    "group_label" weights each training example by P(group)·P(label) / P(group, label) over
    the data set's sensitive columns, Kamiran & Calders' re-weighting; "none" = off).
    """

    recipe: str = "classification"
    loss: str = "auto"
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # SGD and RMSprop only
    nesterov: bool = False  # SGD only
    weight_decay: float = 0.0
    batch_size: int = 32
    epochs: int = 10
    schedule: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    grad_clip: float = 0.0
    seed: int = 0
    device: str = "auto"
    early_stopping_patience: int = 0
    monitor: str = ""
    monitor_mode: str = "auto"
    eval_every: int = 1
    kl_weight: float = 1.0
    kl_warmup_epochs: int = 0
    lr_d: float = 0.0
    reweight: str = "none"
    activations: ActivationCapture = field(default_factory=ActivationCapture)

    def __post_init__(self) -> None:
        _check_type(self, "")
        recipe = recipe_class(self.recipe)  # ConfigError("recipe", ...) if unknown
        _require(self.loss in recipe.losses, "loss",
                 f"{self.loss!r} is not a loss of the {self.recipe} recipe; "
                 f"choose one of {', '.join(recipe.losses)}")
        _one_of(self.optimizer, OPTIMIZERS, "optimizer")
        _one_of(self.schedule, SCHEDULES, "schedule")
        _one_of(self.device, DEVICES, "device")
        _one_of(self.monitor_mode, MONITOR_MODES, "monitor_mode")
        _require(self.lr > 0 and math.isfinite(self.lr), "lr", "must be a positive number")
        _require(0 <= self.momentum < 1, "momentum", "must be in [0, 1)")
        _require(not self.nesterov or (self.optimizer == "sgd" and self.momentum > 0), "nesterov",
                 "needs the sgd optimizer with a momentum above 0")
        _require(self.weight_decay >= 0 and math.isfinite(self.weight_decay), "weight_decay",
                 "must be 0 or more")
        _require(self.batch_size >= 1, "batch_size", "must be at least 1")
        _require(self.epochs >= 1, "epochs", "must be at least 1")
        _require(self.step_size >= 1, "step_size", "must be at least 1 epoch")
        _require(0 < self.gamma <= 1, "gamma", "must be in (0, 1]")
        _require(self.grad_clip >= 0 and math.isfinite(self.grad_clip), "grad_clip",
                 "must be 0 (off) or a positive norm")
        _require(self.seed >= 0, "seed", "must be 0 or more")
        _require(self.early_stopping_patience >= 0, "early_stopping_patience", "must be 0 or more")
        _require(self.eval_every >= 1, "eval_every", "must be at least 1 epoch")
        _require(self.kl_weight >= 0 and math.isfinite(self.kl_weight), "kl_weight",
                 "must be 0 or more")
        _require(self.kl_warmup_epochs >= 0, "kl_warmup_epochs", "must be 0 (off) or more epochs")
        _require(self.lr_d >= 0 and math.isfinite(self.lr_d), "lr_d",
                 "must be 0 (same as lr) or a positive number")
        _one_of(self.reweight, REWEIGHTS, "reweight")
        _require(self.reweight == "none" or self.recipe == "classification", "reweight",
                 "re-weighting by group and label is for the classification recipe")
        _require(self.monitor == "" or self.monitor in recipe.metric_modes, "monitor",
                 f"{self.monitor!r} is not a metric of the {self.recipe} recipe; "
                 f"choose one of {', '.join(recipe.metric_modes)}")

    @property
    def monitor_metric(self) -> str:
        """The validation metric early stopping and "best epoch" follow."""
        return self.monitor or recipe_class(self.recipe).default_monitor

    @property
    def monitor_direction(self) -> str:
        """"min" or "max": which way the monitored metric improves."""
        if self.monitor_mode != "auto":
            return self.monitor_mode
        return recipe_class(self.recipe).metric_modes.get(self.monitor_metric, "min")

    def to_dict(self) -> dict[str, Any]:
        """Plain values (str, int, float, bool, nested dict) ready for JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build and validate from :meth:`to_dict`'s form; missing keys take defaults.

        Unknown keys raise ConfigError naming them, so a typo never goes unnoticed.
        """
        if not isinstance(data, dict):
            raise ConfigError("config", f"expected a mapping, got {type(data).__name__}")
        data = dict(data)
        _no_unknown_keys(data, cls, "")
        acts = data.pop("activations", {})
        if isinstance(acts, ActivationCapture):
            capture = acts
        elif isinstance(acts, dict):
            _no_unknown_keys(acts, ActivationCapture, "activations.")
            capture = ActivationCapture(**acts)
        else:
            raise ConfigError("activations", f"expected a mapping, got {type(acts).__name__}")
        return cls(**data, activations=capture)


def select_device(name: str) -> torch.device:
    """The torch device for a config's ``device`` setting.

    "auto" picks CUDA, then Apple's MPS, else the CPU.  Asking for a device this
    machine or this PyTorch build lacks raises ConfigError saying so.
    """
    _one_of(name, DEVICES, "device")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA was asked for, but no CUDA GPU is usable with this "
                          f"PyTorch build ({torch.__version__}); choose 'auto' or 'cpu'")
    if name == "mps" and not has_mps:
        raise ConfigError("device", "Apple MPS was asked for, but it is not available on this "
                          "machine; choose 'auto' or 'cpu'")
    return torch.device(name)


# ------------------------------------------------------------------- checks
def _require(ok: bool, name: str, problem: str) -> None:
    if not ok:
        raise ConfigError(name, problem)


def _one_of(value: str, choices: tuple[str, ...], name: str) -> None:
    _require(value in choices, name, f"{value!r} is not one of {', '.join(choices)}")


def _no_unknown_keys(data: dict[str, Any], cls: type, prefix: str) -> None:
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            raise ConfigError(f"{prefix}{key}", "unknown setting")


def _check_type(obj: object, prefix: str) -> None:
    """Type-check each field against its default's type before any range check runs.

    Ints are accepted where floats are expected (JSON writes 1.0 as 1), bools are
    never accepted as numbers, and floats are never accepted as counts.
    """
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        name = prefix + f.name
        expected = type(default)
        if expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and not isinstance(value, float):
                object.__setattr__(obj, f.name, float(value))
        elif expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise ConfigError(name, f"expected {expected.__name__}, got {type(value).__name__} "
                              f"{value!r}")
