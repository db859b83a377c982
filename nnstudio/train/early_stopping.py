"""Track the best value of a monitored metric, for early stopping and "best epoch"."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class BestTracker:
    """Remember the best epoch of ``metric`` and count evaluations without improvement.

    ``mode`` is "min" or "max".  With ``keep_weights`` a copy of the model's weights
    at the best epoch is kept (on the model's device) so they can be restored.
    ``patience`` 0 never asks to stop.
    """

    def __init__(self, metric: str, mode: str, patience: int, keep_weights: bool) -> None:
        self.metric = metric
        self.mode = mode
        self.patience = patience
        self.keep_weights = keep_weights
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.bad_evals = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def _better(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best_value is None:
            return True
        return value < self.best_value if self.mode == "min" else value > self.best_value

    def update(self, value: float, epoch: int, model: nn.Module) -> bool:
        """Record an evaluation; True if it is a new best (ties are not improvements)."""
        if self._better(value):
            self.best_value, self.best_epoch, self.bad_evals = value, epoch, 0
            if self.keep_weights:
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return True
        self.bad_evals += 1
        return False

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` evaluations in a row brought no improvement."""
        return self.patience > 0 and self.bad_evals >= self.patience

    def state_dict(self) -> dict[str, Any]:
        """Plain values and tensors only, so it fits in a weights_only checkpoint."""
        return {"best_value": self.best_value, "best_epoch": self.best_epoch,
                "bad_evals": self.bad_evals, "best_state": self.best_state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave."""
        self.best_value = state["best_value"]
        self.best_epoch = state["best_epoch"]
        self.bad_evals = state["bad_evals"]
        self.best_state = state["best_state"]
