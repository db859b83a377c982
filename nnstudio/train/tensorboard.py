"""Training logs as TensorBoard event files, when the ``tensorboard`` package is installed.

    callbacks = [TensorBoardLogger(run_dir / "tensorboard")]   # or maybe_tensorboard(...)
    Trainer(model, splits, config, callbacks).fit()
    # then: tensorboard --logdir run_dir/tensorboard

Scalars written: ``train/loss`` per report (x = global step), and per epoch
``epoch/train_loss``, ``epoch/lr`` and ``val/<metric>``; each evaluation of the test
split as ``test/<metric>``.  The writer is PyTorch's own
(``torch.utils.tensorboard.SummaryWriter``), which needs the ``tensorboard`` package;
:func:`tensorboard_available` says whether it is there, and :func:`maybe_tensorboard`
gives a logger or None, so callers need no ``try``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from nnstudio.train.callbacks import Callback, EpochInfo, EvalInfo, RunInfo, StepInfo, TrainResult


def tensorboard_available() -> bool:
    """True when event files can be written (the ``tensorboard`` package is importable)."""
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoardLogger(Callback):
    """Write the run's scalars to event files in ``log_dir`` (created on the first write).

    Raises RuntimeError when tensorboard is not installed.
    """

    def __init__(self, log_dir: str | os.PathLike[str], flush_secs: int = 10) -> None:
        if not tensorboard_available():
            raise RuntimeError("TensorBoard logs need the tensorboard package "
                               "(pip install tensorboard)")
        self.log_dir = Path(log_dir)
        self.flush_secs = flush_secs
        self._writer = None
        self._epoch = 0

    @property
    def writer(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.log_dir), flush_secs=self.flush_secs)
        return self._writer

    def on_train_start(self, info: RunInfo) -> None:
        self._epoch = info.start_epoch - 1
        text = "  \n".join(f"{k}: {v}" for k, v in info.config.items() if k != "activations")
        self.writer.add_text("config", text, info.start_epoch - 1)

    def on_step(self, s: StepInfo) -> None:
        self.writer.add_scalar("train/loss", s.loss, s.global_step)

    def on_epoch_end(self, e: EpochInfo) -> None:
        self._epoch = e.epoch
        w = self.writer
        w.add_scalar("epoch/train_loss", e.train_loss, e.epoch)
        w.add_scalar("epoch/lr", e.lr, e.epoch)
        for name, value in e.val.items():
            w.add_scalar(f"val/{name}", value, e.epoch)

    def on_evaluate(self, ev: EvalInfo) -> None:
        if ev.split != "val":  # validation is logged with its epoch above
            for name, value in ev.metrics.items():
                self.writer.add_scalar(f"{ev.split}/{name}", value, ev.epoch)

    def on_train_end(self, result: TrainResult) -> None:
        self.close()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._writer = None


def maybe_tensorboard(log_dir: str | os.PathLike[str]) -> TensorBoardLogger | None:
    """A :class:`TensorBoardLogger` writing to ``log_dir``, or None without tensorboard."""
    return TensorBoardLogger(log_dir) if tensorboard_available() else None
