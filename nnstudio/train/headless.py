"""Training without a window: a terminal progress line, a run folder, Ctrl-C that stops cleanly.

:func:`train_project` is what ``nnstudio train`` does once its arguments are read:
prepare the project's run (:func:`~nnstudio.train.project_run.prepare_run`), train it
with a :class:`~nnstudio.train.trainer.Trainer` that checkpoints into a run folder, and
leave in that folder

* ``metrics.csv`` — one row per epoch (a resumed run keeps the earlier rows);
* ``last.pt`` (and ``best.pt``) — the trainer's checkpoints, from which ``--resume`` goes on;
  a fresh run in the same folder replaces them;
* ``weights.pt`` — the final state dict, under the names the exported class uses (a
  recipe that trains several graphs writes ``weights.<ClassName>.pt`` for each);
* ``run.json`` — what was trained on what, and how it ended;
* ``fairness.json`` — per-group metrics and fairness gaps on the test split, when the
  data set has sensitive columns (:mod:`nnstudio.train.fairness_run`).

:class:`TerminalProgress` draws the progress: one line rewritten in place (``\\r``) on a
terminal, plain per-epoch lines otherwise (a log file, a CI job).  :func:`stop_on_interrupt`
turns the first Ctrl-C into :meth:`RunControl.stop`, so the trainer halts between two
steps and the checkpoint of the last finished epoch stays valid; a second Ctrl-C
interrupts at once.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nnstudio.data import DatasetError, get_dataset
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.names import class_name
from nnstudio.graph.weights import save_weights
from nnstudio.train._atomic import atomic_write
from nnstudio.train.callbacks import Callback, CSVLogger, EpochInfo, RunInfo, StepInfo, TrainResult
from nnstudio.train.checkpoint import check_resumable, load_checkpoint
from nnstudio.train.control import RunControl
from nnstudio.train.errors import CheckpointError
from nnstudio.train.project_run import (
    PreparedRun,
    dataset_spec,
    prepare_run,
    train_config,
)
from nnstudio.train.trainer import Trainer

METRICS_FILE = "metrics.csv"
CHECKPOINT_FILE = "last.pt"
BEST_FILE = "best.pt"
WEIGHTS_FILE = "weights.pt"
RUN_FILE = "run.json"
FAIRNESS_FILE = "fairness.json"

# -------------------------------------------------------------- dataset options
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_dataset_options(dataset: str, assignments: Sequence[str]) -> dict[str, Any]:
    """Turn ``["noise=0.2", "path=data.csv"]`` into options typed as dataset ``dataset`` wants.

    Each KEY must be one of the dataset's options or a common one (seed, val_fraction,
    test_fraction, normalise); VALUE is read as that option's type (bool accepts
    true/false, yes/no, on/off, 1/0).  File and folder options get ``~`` expanded.
    Raises :class:`~nnstudio.data.DatasetError` naming the bad assignment.
    """
    entry = get_dataset(dataset)  # DatasetError listing the known ones
    options = {opt.name: opt for opt in entry.all_options()}
    parsed: dict[str, Any] = {}
    for text in assignments:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DatasetError(f"--set {text!r}: expected KEY=VALUE, e.g. noise=0.2")
        opt = options.get(key)
        if opt is None:
            raise DatasetError(f"dataset '{dataset}' has no option '{key}'; it accepts: "
                               f"{', '.join(options)}")
        value: Any
        if opt.type is bool:
            if raw.strip().lower() not in _TRUE + _FALSE:
                raise DatasetError(f"--set {text!r}: '{key}' takes true or false")
            value = raw.strip().lower() in _TRUE
        elif opt.type is int:
            try:
                value = int(raw)
            except ValueError:
                raise DatasetError(f"--set {text!r}: '{key}' takes an integer") from None
        elif opt.type is float:
            try:
                value = float(raw)
            except ValueError:
                raise DatasetError(f"--set {text!r}: '{key}' takes a number") from None
            if not math.isfinite(value):
                raise DatasetError(f"--set {text!r}: '{key}' takes a finite number")
        else:
            value = os.path.expanduser(raw) if opt.widget in ("file", "folder") else raw
        parsed[key] = opt.coerce(dataset, value)  # bounds and choices
    return parsed


# ------------------------------------------------------------------ progress
def _clock(seconds: float) -> str:
    """``75.4`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _num(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) and abs(value) < 1e4 else f"{value:.4g}"


# the validation figures a progress line shows (metrics.csv has them all)
_SHOWN = ("loss", "accuracy", "mae", "r2")


class TerminalProgress(Callback):
    """Progress on a terminal or into a log.

    On a TTY (``tty=None`` asks ``stream.isatty()``) one line is redrawn in place with
    ``\\r``: epoch, step/total, loss, samples/s, ETA and the last validation figures,
    at most every ``min_interval_s``.  Elsewhere one plain line per epoch::

        epoch 3/20  train_loss 0.2345  val_loss 0.2101  val_accuracy 0.9650  lr 0.01  1.2s
    """

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None,
                 width: int | None = None, min_interval_s: float = 0.1) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.width = width
        self.min_interval_s = min_interval_s
        self._epochs = 0
        self._val: dict[str, float] = {}
        self._shown = 0  # characters of the line now on screen (TTY)
        self._rate: float | None = None
        self._last_draw = -math.inf

    def on_train_start(self, info: RunInfo) -> None:
        self._epochs = info.epochs
        self._val = {}
        first = "" if info.start_epoch == 1 else f", from epoch {info.start_epoch}"
        self._print(f"training on {info.device}: {_count(info.epochs, 'epoch')} of "
                    f"{_count(info.steps_per_epoch, 'step')}{first}, "
                    f"{_count(info.n_trainable, 'trainable parameter')}")

    def on_step(self, s: StepInfo) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last_draw < self.min_interval_s and s.global_step < s.total_steps:
            return
        self._last_draw = now
        # the rate between two reports jumps about; show a smoothed one
        self._rate = s.samples_per_s if self._rate is None else (
            0.7 * self._rate + 0.3 * s.samples_per_s)
        parts = [f"epoch {s.epoch}/{self._epochs}", f"step {s.global_step}/{s.total_steps}",
                 f"loss {_num(s.loss)}", f"{self._rate:,.0f} samples/s",
                 f"ETA {_clock(s.eta_s)}"]
        parts += [f"val_{k} {_num(v)}" for k, v in self._val.items() if k in _SHOWN]
        self._draw(parts)

    def on_epoch_end(self, e: EpochInfo) -> None:
        if e.val:
            self._val = dict(e.val)
        if self.tty:
            return
        parts = [f"epoch {e.epoch}/{self._epochs}", f"train_loss {_num(e.train_loss)}"]
        parts += [f"val_{k} {_num(v)}" for k, v in e.val.items() if k in _SHOWN]
        parts += [f"lr {e.lr:.3g}", f"{e.elapsed_s:.1f}s"]
        self._print("  ".join(parts))

    def on_train_end(self, result: TrainResult) -> None:
        self.close()

    def close(self) -> None:
        """End the line being redrawn, so what follows starts on a fresh line."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = 0

    def _draw(self, parts: list[str]) -> None:
        # a line that wraps cannot be redrawn with \r: drop the parts that do not fit
        width = (self.width or self._columns()) - 1
        line = parts[0][:width]
        for part in parts[1:]:
            if len(line) + 2 + len(part) > width:
                break
            line += "  " + part
        pad = " " * max(0, self._shown - len(line))
        self.stream.write(f"\r{line}{pad}")
        self.stream.flush()
        self._shown = len(line)

    def _columns(self) -> int:
        """The width of the terminal this stream writes to (COLUMNS wins, 100 if unknown)."""
        if os.environ.get("COLUMNS", "").isdigit():
            return max(20, int(os.environ["COLUMNS"]))
        try:
            return max(20, os.get_terminal_size(self.stream.fileno()).columns)
        except (AttributeError, ValueError, OSError):  # not a real terminal (a test's buffer)
            return 100

    def _print(self, line: str) -> None:
        self.close()
        self.stream.write(line + "\n")
        self.stream.flush()


class ContinuedCSVLogger(CSVLogger):
    """A :class:`CSVLogger` that starts from earlier rows (a resumed run's history)."""

    def __init__(self, path: str | os.PathLike[str], earlier: Sequence[Mapping[str, Any]] = ()):
        super().__init__(path)
        self._earlier = [dict(row) for row in earlier]

    def on_train_start(self, info: RunInfo) -> None:
        self.rows = [dict(row) for row in self._earlier]


# -------------------------------------------------------------------- Ctrl-C
@contextlib.contextmanager
def stop_on_interrupt(control: RunControl) -> Iterator[list[bool]]:
    """While inside, the first SIGINT calls ``control.stop()``; a second one raises
    KeyboardInterrupt as usual.  Yields a one-item list that turns ``[True]`` once
    interrupted.  Off the main thread (where signals cannot be caught) it does nothing.
    """
    hit = [False]
    if threading.current_thread() is not threading.main_thread():
        yield hit
        return

    def handler(signum: int, frame: object) -> None:
        if hit[0]:
            raise KeyboardInterrupt
        hit[0] = True
        control.stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield hit
    finally:
        signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------------- the run
@dataclass
class HeadlessRun:
    """What :func:`train_project` did."""

    result: TrainResult
    prepared: PreparedRun
    out_dir: Path
    fit_s: float  # wall time of Trainer.fit (setup, epochs, final evaluation)
    resumed_from_epoch: int = 0  # 0 for a fresh run
    weights_path: Path | None = None  # written only when the run completed or stopped early
    fairness: list[Any] = field(default_factory=list)  # FairnessEvaluation per sensitive column

    @property
    def final_metrics(self) -> dict[str, float]:
        """``{"val_loss": ..., "val_accuracy": ..., "test_loss": ...}``: the final evaluation
        of the validation and test splits (the training loss when there are neither)."""
        found = {f"{split}_{name}": value
                 for split in ("val", "test")
                 for name, value in self.result.metrics.get(split, {}).items()}
        if not found and "loss" in self.result.metrics.get("train", {}):
            found["train_loss"] = self.result.metrics["train"]["loss"]
        return found


def train_project(project: Project, out_dir: str | os.PathLike[str], *,
                  graph: Graph | None = None,
                  dataset: Mapping[str, Any] | None = None,
                  config_overrides: Mapping[str, Any] | None = None,
                  resume: bool = False,
                  callbacks: Sequence[Callback] = (),
                  control: RunControl | None = None,
                  ctrl_c_stops: bool = False,
                  project_path: str | os.PathLike[str] | None = None) -> HeadlessRun:
    """Train ``graph`` (default: the project's first) and leave the run in ``out_dir``.

    ``dataset`` and ``config_overrides`` go to :func:`prepare_run`.  With ``resume``,
    training goes on from ``out_dir/last.pt`` up to the configured number of epochs.
    With ``ctrl_c_stops``, a Ctrl-C while the trainer runs stops it cleanly
    (:func:`stop_on_interrupt`); before that (loading data) it interrupts as usual.
    Raises RunSetupError (project, dataset, shapes, settings) and CheckpointError
    (resume impossible) before anything trains; problems during training end the
    returned result with ``stopped_reason == "error"``.
    """
    out = Path(out_dir)
    config = train_config(project, config_overrides)
    checkpoint, start_epoch, history = None, 0, []
    spec = dataset_spec(project, dataset)
    if resume:
        checkpoint = out / CHECKPOINT_FILE
        if not checkpoint.is_file():
            raise CheckpointError(f"cannot resume: {checkpoint} does not exist "
                                  "(train once without --resume first)")
        saved = load_checkpoint(checkpoint)
        check_resumable(saved, config, checkpoint)
        start_epoch = int(saved["epoch"])
        if start_epoch >= config.epochs:
            raise CheckpointError(
                f"cannot resume: {checkpoint} has already trained {start_epoch} of "
                f"{config.epochs} epochs; ask for more (e.g. --epochs {start_epoch + 10})")
        _check_same_dataset(out / RUN_FILE, spec, checkpoint)
        history = list(saved["extra"].get("history", []))
        del saved
    prepared = prepare_run(project, graph=graph, dataset=dataset,
                           config_overrides=config_overrides)
    out.mkdir(parents=True, exist_ok=True)
    # the folder describes one run: a fresh run replaces an earlier one's files, and a
    # resumed one drops the weights of its earlier end (written again if this one ends well)
    stale = [WEIGHTS_FILE] if resume else [WEIGHTS_FILE, CHECKPOINT_FILE, BEST_FILE, METRICS_FILE]
    for name in stale:
        (out / name).unlink(missing_ok=True)
    for path in out.glob("weights.*.pt"):  # a several-graph run's files (see below)
        path.unlink()
    record = {
        "project": os.fspath(project_path) if project_path is not None else project.title,
        "graph": prepared.graph.name,
        "dataset": prepared.dataset,
        "config": prepared.config.to_dict(),
        "resumed_from_epoch": start_epoch,
    }
    _write_json(out / RUN_FILE, record)
    control = control if control is not None else RunControl()
    trainer = Trainer(prepared.model, prepared.splits, prepared.config,
                      [ContinuedCSVLogger(out / METRICS_FILE, history), *callbacks], control,
                      resume_from=checkpoint, checkpoint_dir=out)
    guard = stop_on_interrupt(control) if ctrl_c_stops else contextlib.nullcontext()
    t0 = time.perf_counter()
    with guard, _frozen_heap():
        result = trainer.fit()
    fit_s = time.perf_counter() - t0
    run = HeadlessRun(result, prepared, out, fit_s, start_epoch)
    if result.stopped_reason in ("completed", "early_stopping"):
        run.weights_path = _save_final_weights(prepared, out)
        _evaluate_fairness(run)
    splits = prepared.splits
    record.update(stopped_reason=result.stopped_reason, message=result.message,
                  epochs_completed=result.epochs_completed, fit_seconds=round(fit_s, 3),
                  final=run.final_metrics,
                  examples={s: len(getattr(splits, s)) for s in ("train", "val", "test")},
                  dataset_description=splits.info.description)
    _write_json(out / RUN_FILE, record)
    return run


@contextlib.contextmanager
def _frozen_heap():
    """While the run lasts, the cyclic collector leaves alone what existed before it
    (PyTorch's own objects, the data): else its full passes over them, triggered by the
    training loop's allocations, cost about 5 % of a small model's training time."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _evaluate_fairness(run: HeadlessRun) -> None:
    """Per-group metrics of a finished run whose data set has sensitive columns, into
    ``run.fairness`` and ``fairness.json`` (the model card reads it)."""
    from nnstudio.train.fairness_run import evaluate_fairness

    p = run.prepared
    run.fairness = evaluate_fairness(p.model, p.splits, p.config)
    if run.fairness:
        _write_json(run.out_dir / FAIRNESS_FILE, {"columns": [e.to_dict() for e in run.fairness]})


def _save_final_weights(prepared: PreparedRun, out: Path) -> Path:
    """Write each trained graph's state dict, under the names its exported class uses.

    One graph: ``weights.pt``.  A recipe that trains several graphs (a GAN's generator
    and discriminator) gets one ``weights.<ClassName>.pt`` per graph; the first is returned.
    """
    by_graph = getattr(prepared, "weights_by_graph", None)
    states = by_graph() if by_graph is not None else {
        prepared.graph.name: prepared.model.state_dict()}
    if len(states) == 1:
        path = out / WEIGHTS_FILE
        save_weights(path, next(iter(states.values())))
        return path
    paths = []
    for name, state in states.items():
        paths.append(out / f"weights.{class_name(name)}.pt")
        save_weights(paths[-1], state)
    return paths[0]


def _check_same_dataset(run_file: Path, spec: Mapping[str, Any], checkpoint: Path) -> None:
    """Refuse to resume on another dataset than the one the checkpoint was trained on."""
    if not run_file.is_file():
        return  # a checkpoint without its record (copied alone): the trainer still checks the model
    try:
        before = json.loads(run_file.read_text(encoding="utf-8")).get("dataset")
    except (OSError, ValueError):
        return
    if isinstance(before, dict) and before.get("name") != spec.get("name"):
        raise CheckpointError(f"cannot resume from {checkpoint}: it was trained on dataset "
                              f"'{before.get('name')}', not '{spec.get('name')}'")


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, default=str)
        f.write("\n")
