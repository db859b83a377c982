"""Errors the training engine raises, and how failures become readable messages.

Every message here is meant to be shown to a learner as is: it says what went
wrong, where (step, module) and what to try next.
"""

from __future__ import annotations

from types import TracebackType

import torch
from torch import nn


class ConfigError(ValueError):
    """A training setting is invalid; the message starts with the field's name."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        # the default would call ConfigError(message) and fail: keep it picklable
        return (type(self), (self.field, self.problem))


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why and what to try."""


class CheckpointError(ValueError):
    """A checkpoint or weights file cannot be written or read."""


def is_out_of_memory(exc: BaseException) -> bool:
    """True if ``exc`` is an out-of-memory failure of any backend (CUDA, MPS, CPU)."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def failing_module(exc: BaseException, model: nn.Module) -> str | None:
    """Path of the innermost module of ``model`` whose code was running when ``exc`` rose.

    Walks the traceback rather than hooking every module: hooks would cost time on
    every training step, the traceback costs nothing until something fails.
    Returns None when no frame belongs to a module of ``model`` (e.g. the loss failed).
    """
    names = {id(m): name for name, m in model.named_modules()}
    found: str | None = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if owner is not None and id(owner) in names:
            found = names[id(owner)]
        tb = tb.tb_next
    return found


def forward_failure(exc: Exception, model: nn.Module, where: str) -> TrainingError:
    """Turn an exception raised while computing a batch into a :class:`TrainingError`.

    ``where`` says when it happened ("at step 12 (epoch 1)"). The message names the
    exception type and text and, when found, the module in which it rose.
    """
    module = failing_module(exc, model)
    if module is None:
        place = "while computing the loss"
    elif module == "":
        place = f"in the model ({type(model).__name__})"
    else:
        kind = type(model.get_submodule(module)).__name__
        place = f"in module '{module}' ({kind})"
    return TrainingError(f"Training failed {where} {place}: {type(exc).__name__}: {exc}")


def out_of_memory(where: str, batch_size: int, device: torch.device) -> TrainingError:
    """The error for a batch that did not fit in ``device``'s memory."""
    smaller = max(1, batch_size // 2)
    return TrainingError(
        f"Ran out of memory on {device.type} {where} with a batch of {batch_size} examples. "
        f"Try a smaller batch size (e.g. {smaller}) or a smaller model."
    )
