"""Every run of the session, kept side by side: its settings, its graph, its curves.

A :class:`RunRecord` is filled from the worker's batches while its run lasts and keeps
everything the runs list, the overlaid plots, "Compare" and the CSV export need.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from nnstudio.graph.project_file import atomic_write
from nnstudio.train import EpochInfo, EvalInfo, RunInfo, StepInfo, TrainResult

from .run_diff import RunDiff, diff_runs
from .series import GrowingSeries

FINAL_STATES = ("completed", "stopped", "early_stopping", "error")


@dataclass(eq=False)
class RunRecord:
    index: int  # 1-based, in the order runs were started
    dataset: dict[str, Any]  # {"name": ..., options...}
    config: dict[str, Any]  # TrainConfig.to_dict()
    graph: dict[str, Any]  # the graph as it was when the run started
    name: str = ""
    started: float = field(default_factory=time.time)
    status: str = "running"  # running | paused | completed | stopped | early_stopping | error
    message: str = ""
    info: RunInfo | None = None
    train_loss: GrowingSeries = field(default_factory=GrowingSeries)  # x: epochs (fractional)
    lr: GrowingSeries = field(default_factory=GrowingSeries)
    epoch_loss: GrowingSeries = field(default_factory=lambda: GrowingSeries(64))
    val: dict[str, GrowingSeries] = field(default_factory=dict)  # metric -> (epoch, value)
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per epoch, for CSV
    last_step: StepInfo | None = None
    last_eval: EvalInfo | None = None
    result: TrainResult | None = None
    overlay: bool = False

    def __post_init__(self) -> None:
        self.name = self.name or f"Run {self.index}"

    # ------------------------------------------------------------- filling
    @property
    def settings(self) -> dict[str, Any]:
        """What :func:`diff_runs` compares besides the graph."""
        return {"dataset": self.dataset, "config": self.config}

    def start(self, info: RunInfo) -> None:
        self.info = info

    def add_steps(self, steps: Iterable[StepInfo]) -> None:
        steps = list(steps)
        if not steps:
            return
        per_epoch = self.info.steps_per_epoch if self.info else 1
        xs = [s.global_step / per_epoch for s in steps]
        self.train_loss.extend(xs, [s.loss for s in steps])
        self.lr.extend(xs, [s.lr for s in steps])
        self.last_step = steps[-1]

    def add_epochs(self, epochs: Iterable[EpochInfo]) -> None:
        for e in epochs:
            self.epoch_loss.append(e.epoch, e.train_loss)
            for metric, value in e.val.items():
                self.val.setdefault(metric, GrowingSeries(64)).append(e.epoch, value)
            self.rows.append({"epoch": e.epoch, "train_loss": e.train_loss, "lr": e.lr,
                              **{f"val_{k}": v for k, v in e.val.items()},
                              "elapsed_s": round(e.elapsed_s, 3)})

    def add_evals(self, evals: Iterable[EvalInfo]) -> None:
        for ev in evals:
            self.last_eval = ev

    def finish(self, result: TrainResult) -> None:
        self.result = result
        self.status = result.stopped_reason
        self.message = result.message

    # ------------------------------------------------------------- reading
    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATES

    def final_metric(self, name: str, split: str = "val") -> float | None:
        """The run's last value of ``split``'s ``name`` (None if it never had one)."""
        if self.result is not None and name in self.result.metrics.get(split, {}):
            return self.result.metrics[split][name]
        series = self.val.get(name) if split == "val" else None
        return float(series.y[-1]) if series is not None and len(series) else None

    def hyperparameters(self) -> str:
        c = self.config
        text = f"{c.get('optimizer')} · lr {c.get('lr'):g} · batch {c.get('batch_size')}"
        if c.get("schedule", "none") != "none":
            text += f" · {c['schedule']}"
        if c.get("weight_decay"):
            text += f" · wd {c['weight_decay']:g}"
        return text

    def history_csv(self) -> str:
        """The per-epoch history as CSV: epoch, train_loss, lr, val_<metric>…, elapsed_s."""
        columns: list[str] = []
        for row in self.rows:
            columns.extend(k for k in row if k not in columns)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns or ["epoch"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()

    def save_csv(self, path: str) -> None:
        atomic_write(path, self.history_csv().encode("utf-8"))


def compare(a: RunRecord, b: RunRecord) -> RunDiff:
    """What changed from run ``a`` to run ``b`` (graph and settings)."""
    return diff_runs((a.graph, a.settings), (b.graph, b.settings))


class RunStore(QObject):
    """The session's runs, oldest first.  Signals: ``added(RunRecord)``,
    ``changed(RunRecord)`` (status, final metrics or overlay flag)."""

    added = Signal(object)
    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs: list[RunRecord] = []

    def new_run(self, dataset: dict[str, Any], config: dict[str, Any],
                graph: dict[str, Any]) -> RunRecord:
        record = RunRecord(len(self.runs) + 1, dict(dataset), dict(config), graph)
        self.runs.append(record)
        self.added.emit(record)
        return record

    def set_overlay(self, record: RunRecord, on: bool) -> None:
        if record.overlay != on:
            record.overlay = on
            self.changed.emit(record)

    def touch(self, record: RunRecord) -> None:
        self.changed.emit(record)

    def __len__(self) -> int:
        return len(self.runs)
