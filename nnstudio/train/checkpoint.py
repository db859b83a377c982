"""Save and load weights and training checkpoints, safely.

Writing is atomic (see ``_atomic.atomic_write``): a crash mid-save leaves the old
file intact.  Reading always uses ``torch.load(..., weights_only=True)``, which
only rebuilds tensors and plain values: a file whose pickle would call a function
is refused, so opening a file never runs code from it.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import torch
from torch import nn

from nnstudio.train._atomic import atomic_write
from nnstudio.train.config import TrainConfig
from nnstudio.train.errors import CheckpointError

CHECKPOINT_FORMAT = "nnstudio-checkpoint"
CHECKPOINT_VERSION = 1

PathLike = str | os.PathLike[str]


def save_checkpoint(
    path: PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    epoch: int,
    config: TrainConfig,
    metrics: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """Atomically write everything needed to continue training after ``epoch`` (1-based).

    ``metrics`` and ``extra`` (trainer state: history, early-stopping state) must hold
    only tensors, numbers, strings, bools, None, lists and dicts.
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "config": config.to_dict(),
        "metrics": metrics,
        "extra": extra or {},
    }
    with atomic_write(path, "wb") as f:
        torch.save(payload, f)


def load_checkpoint(path: PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a file written by :func:`save_checkpoint`; returns its dict.

    Keys: format, version, epoch, model, optimizer, scheduler, config (a dict),
    metrics, extra.  Raises CheckpointError for any other file.
    """
    data = _safe_load(path, map_location)
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{os.fspath(path)} is not an nnstudio training checkpoint")
    version = data.get("version")
    if not isinstance(version, int) or version > CHECKPOINT_VERSION:
        raise CheckpointError(f"{os.fspath(path)} is a checkpoint of version {version!r}; this "
                              f"nnstudio reads up to version {CHECKPOINT_VERSION}")
    return data


# settings a resumed run must share with its checkpoint, or it would not be a continuation
_RESUME_MUST_MATCH = ("recipe", "loss", "optimizer", "schedule", "batch_size")


def check_resumable(checkpoint: dict[str, Any], config: TrainConfig, path: PathLike) -> None:
    """Raise CheckpointError if ``config`` cannot continue the run saved in ``checkpoint``.

    Changing the epochs is allowed (to train longer), except under OneCycle, whose
    schedule is fixed by the total number of steps.
    """
    saved = checkpoint["config"]
    differ = [k for k in _RESUME_MUST_MATCH if saved.get(k) != getattr(config, k)]
    if config.schedule == "onecycle" and saved.get("epochs") != config.epochs:
        differ.append("epochs")
    if differ:
        shown = ", ".join(f"{k} ({saved.get(k)!r} there, {getattr(config, k)!r} here)"
                          for k in differ)
        raise CheckpointError(f"Cannot resume from {os.fspath(path)}: the run differs in {shown}.")


def save_state_dict(path: PathLike, model: nn.Module) -> None:
    """Atomically write ``model.state_dict()``: loads into the exported model class as is."""
    with atomic_write(path, "wb") as f:
        torch.save(model.state_dict(), f)


def load_state_dict_file(path: PathLike, map_location: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Read a state dict (name -> tensor) from a weights file or a training checkpoint.

    Raises CheckpointError if the file is missing, damaged, would run code, or
    holds anything other than a mapping of names to tensors.
    """
    data = _safe_load(path, map_location)
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
        data = data.get("model")
    name = os.fspath(path)
    if not isinstance(data, dict):
        raise CheckpointError(f"{name} is not a state dict: it holds a {type(data).__name__}, "
                              "not a mapping of parameter names to tensors")
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{name} is not a state dict: entry {key!r} is a "
                                  f"{type(value).__name__}, not a tensor")
    return dict(data)


def _safe_load(path: PathLike, map_location: str | torch.device) -> Any:
    name = os.fspath(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{name}: no such file") from None
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower():
            raise CheckpointError(
                f"{name} holds Python objects other than tensors and plain values, and loading "
                "it could run code; nnstudio refuses such files. Save weights with "
                "model.state_dict() instead.") from exc
        raise CheckpointError(f"{name} is damaged or not a PyTorch weights file ({exc})") from exc
    except Exception as exc:
        # (KeyError, EOFError, RuntimeError from the zip reader...): all mean "not readable"
        raise CheckpointError(f"{name} is damaged or not a PyTorch weights file ({exc})") from exc
