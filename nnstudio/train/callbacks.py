"""What the trainer tells the world while it runs, and two ready listeners.

Subclass :class:`Callback` and override only the methods you need.  The trainer
builds the costly events (steps, evaluations, activations) only when some
callback overrides their method, and calls ``on_step`` at a bounded rate (by
default 20 times a second and after the last step of every epoch; pass
``Trainer(report_every_s=0)`` for every step), not after every optimizer step:
reading the loss forces a device sync, and a sync per step slows a GPU down.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nnstudio.train._atomic import atomic_write
from nnstudio.train.errors import TrainingError

if TYPE_CHECKING:
    from nnstudio.train.activations import ActivationSnapshot
    from nnstudio.train.preview import Preview


@dataclass(frozen=True)
class RunInfo:
    """Sent once before the first step."""

    total_steps: int  # optimizer steps over all epochs
    steps_per_epoch: int
    epochs: int
    start_epoch: int  # 1, or later when resuming
    device: str
    n_params: int
    n_trainable: int
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepInfo:
    """Progress within an epoch. ``loss`` is the mean batch loss since the last report."""

    epoch: int  # 1-based
    step: int  # 1-based within the epoch
    global_step: int  # 1-based over the whole run
    total_steps: int
    loss: float
    lr: float
    elapsed_s: float  # training time so far, pauses excluded
    eta_s: float  # estimated time left
    samples_per_s: float


@dataclass(frozen=True)
class EpochInfo:
    """Sent after every epoch. ``val`` is empty in epochs without evaluation."""

    epoch: int
    train_loss: float  # mean of the epoch's batch losses
    val: dict[str, float]
    lr: float  # learning rate used in the epoch's last step
    elapsed_s: float


@dataclass(frozen=True)
class EvalInfo:
    """The result of evaluating one split."""

    split: str  # "val" or "test"
    epoch: int
    metrics: dict[str, float]
    confusion: list[list[int]] | None = None  # row = true class, column = predicted
    per_class: list[dict[str, Any]] | None = None
    class_names: tuple[str, ...] = ()


@dataclass
class TrainResult:
    """How a run ended.  ``metrics`` maps split ("train", "val", "test") -> metric -> value."""

    stopped_reason: str  # "completed" | "stopped" | "early_stopping" | "error"
    message: str  # one sentence for the person
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)  # one row per epoch
    best_epoch: int | None = None
    best_metric: float | None = None
    monitor: str = ""
    restored_best: bool = False  # True when early stopping put the best epoch's weights back
    epochs_completed: int = 0
    global_step: int = 0
    elapsed_s: float = 0.0

    def raise_if_error(self) -> None:
        """Raise TrainingError with the message if the run ended in an error."""
        if self.stopped_reason == "error":
            raise TrainingError(self.message)


class Callback:
    """Base listener: every method does nothing. Methods run on the trainer's thread."""

    def on_train_start(self, info: RunInfo) -> None:
        """Before the first step."""

    def on_step(self, s: StepInfo) -> None:
        """At most ~20 times a second and at the end of each epoch."""

    def on_epoch_end(self, e: EpochInfo) -> None:
        """After each epoch (and its validation, if one ran)."""

    def on_evaluate(self, ev: EvalInfo) -> None:
        """After each evaluation of the validation or test split."""

    def on_activations(self, snap: ActivationSnapshot) -> None:
        """A new look inside the network, at most ``activations.max_rate_hz`` a second."""

    def on_preview(self, previews: list[Preview]) -> None:
        """The recipe's live pictures (:mod:`nnstudio.train.preview`), about once a second
        and once at the end; asked for only when a callback overrides this."""

    def on_train_end(self, result: TrainResult) -> None:
        """Once at the end, whatever the outcome (completed, stopped, early stop, error)."""


_EVENTS = ("on_train_start", "on_step", "on_epoch_end", "on_evaluate", "on_activations",
           "on_preview", "on_train_end")


class CallbackList(Callback):
    """Several callbacks seen as one; calls them in order."""

    def __init__(self, callbacks: tuple[Callback, ...] | list[Callback] = ()) -> None:
        self.callbacks = list(callbacks)

    def wants(self, event: str) -> bool:
        """True if some callback overrides ``event`` (so building its argument is worth it)."""
        if event not in _EVENTS:
            raise ValueError(f"unknown callback event {event!r}")
        base = getattr(Callback, event)
        for cb in self.callbacks:
            if isinstance(cb, CallbackList):
                if cb.wants(event):
                    return True
            elif getattr(type(cb), event, base) is not base:
                return True
        return False

    def on_train_start(self, info: RunInfo) -> None:
        for cb in self.callbacks:
            cb.on_train_start(info)

    def on_step(self, s: StepInfo) -> None:
        for cb in self.callbacks:
            cb.on_step(s)

    def on_epoch_end(self, e: EpochInfo) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(e)

    def on_evaluate(self, ev: EvalInfo) -> None:
        for cb in self.callbacks:
            cb.on_evaluate(ev)

    def on_activations(self, snap: ActivationSnapshot) -> None:
        for cb in self.callbacks:
            cb.on_activations(snap)

    def on_preview(self, previews: list[Preview]) -> None:
        for cb in self.callbacks:
            cb.on_preview(previews)

    def on_train_end(self, result: TrainResult) -> None:
        for cb in self.callbacks:
            cb.on_train_end(result)


class CSVLogger(Callback):
    """Write one row per epoch to a CSV file: epoch, train_loss, lr, val_<metric>…

    The whole file is rewritten atomically after every epoch.  That costs a few
    kilobytes per epoch but means the file on disk is always complete and current
    (a crash loses at most the running epoch), and columns that appear late (when
    ``eval_every`` > 1) still get a header.  Empty cells mean "not evaluated".
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []

    def on_train_start(self, info: RunInfo) -> None:
        self.rows = []

    def on_epoch_end(self, e: EpochInfo) -> None:
        row: dict[str, Any] = {"epoch": e.epoch, "train_loss": e.train_loss, "lr": e.lr}
        row.update({f"val_{k}": v for k, v in e.val.items()})
        self.rows.append(row)
        self._write()

    def _write(self) -> None:
        columns: list[str] = []
        for row in self.rows:
            columns.extend(k for k in row if k not in columns)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        with atomic_write(self.path, "w", encoding="utf-8", newline="") as f:
            f.write(text.getvalue())
