"""Training on a background QThread, reported to the main thread at a bounded rate.

The pieces, in the order data flows through them:

* the :class:`~nnstudio.train.Trainer` runs on a worker thread and calls its callbacks
  there; :class:`_ToOutbox` (and the live probes) put what they are told into an
  :class:`Outbox` — a lock, a few lists and "latest only" slots, nothing else;
* on the main thread, :class:`TrainingRunner`'s timer drains the outbox and emits one
  ``updated(UpdateBatch)`` if anything came, so the UI sees at most 10 updates a second
  however many steps a second the trainer takes, and the trainer never waits for the UI
  (the worker emits no per-step signals at all).  The beat is set by what the updates
  cost (:class:`Cadence`): each one's main-thread time, from the drain until the event
  loop is idle again (the panel's Python and its repaint), may add up to
  ``UPDATE_SHARE`` of the time — the trainer loses about as much time as the main thread
  spends in Python, since both need the GIL.  A cheap panel gets 10 updates a second, the
  full Training panel about three, and a slow machine fewer (2 at least): the plots slow
  down, not the training;
* :class:`TrainingWorker` is the QObject moved to the thread (started → run,
  finished → quit, the superqt wiring).  Its ``finished`` quits the thread with a direct
  connection, so the thread ends even while the main thread is blocked in
  :meth:`TrainingRunner.wait` (closing the window).  Done, it moves itself back to the
  main thread, which frees it: never destroyed on the worker thread, where a Python
  QObject's destructor would wait for the GIL while holding a Qt lock.

Pause and stop go through :class:`~nnstudio.train.RunControl`, which the trainer checks
before every step; "paused" is reported once the trainer has actually parked.

While a run goes, two interpreter settings change (:class:`RunInterpreterPolicy`):

* Python's cyclic garbage collector runs on the main thread only: left automatic, it
  runs in whichever thread happens to allocate, and on the trainer's thread it would
  destroy the main thread's Qt objects — a crash;
* the GIL switch interval drops from 5 ms to 0.1 ms.  Every Qt call from Python releases
  the GIL and must take it back; while the trainer holds it between two short torch
  ops, the main thread would wait up to the full interval, many times per repaint, and
  the window would stall.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractEventDispatcher,
    QCoreApplication,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)

from nnstudio.train import (
    Callback,
    EpochInfo,
    EvalInfo,
    RunControl,
    RunInfo,
    StepInfo,
    Trainer,
    TrainResult,
)
from nnstudio.train.preview import Preview
from nnstudio.train.project_run import PreparedRun
from nnstudio.train.trainer import forget_traceback

from ..interpreter_policy import RunInterpreterPolicy
from .activation_history import ActivationFrame, ActivationHistory
from .boundary_probe import BoundaryImage, BoundaryProbe

DRAIN_INTERVAL_MS = 100  # at most 10 updates a second reach the main thread
SLOWEST_DRAIN_MS = 500  # and at least 2, however slow the machine
# the updates of a run's views may take this share of the time on the main thread (their
# Python and their repaint); the trainer loses about as much.  The overhead benchmark's
# window costs 1.1-1.6 ms an update, hence about 3 updates a second.  Held at fixed rates
# (10 pairs each), its training ran at 0.970 of a plain loop's speed at 10 updates a
# second, 0.973 at 4 and 0.984 at 2 (0.982 with the panel not following at all)
UPDATE_SHARE = 0.005
UI_SHARE = 0.03  # of the main thread's time, all work counted, above which updates slow
# how often the trainer reads its losses back (one device sync) and reports a step:
# two points per repaint keep the curves smooth; more only cost syncs and callbacks
REPORT_EVERY_S = 0.05

# Threads still running are kept here so that nothing can destroy a running QThread
# (Qt aborts with "QThread: Destroyed while thread is still running"), whatever happens
# to the runner or the window that started it.
_LIVE_THREADS: set[QThread] = set()


@dataclass
class UpdateBatch:
    """Everything that happened since the last batch, in order within each kind."""

    run: RunInfo | None = None
    steps: list[StepInfo] = field(default_factory=list)
    epochs: list[EpochInfo] = field(default_factory=list)
    evals: list[EvalInfo] = field(default_factory=list)
    activations: ActivationFrame | None = None  # the latest only
    boundary: BoundaryImage | None = None  # the latest only
    previews: list[Preview] | None = None  # the latest set only
    result: TrainResult | None = None

    def __bool__(self) -> bool:
        return bool(self.run or self.steps or self.epochs or self.evals or self.activations
                    or self.boundary or self.previews or self.result)


class Outbox:
    """What the trainer thread has to say, waiting for the main thread to collect it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch = UpdateBatch()

    def put_run(self, info: RunInfo) -> None:
        with self._lock:
            self._batch.run = info

    def put_step(self, step: StepInfo) -> None:
        with self._lock:
            self._batch.steps.append(step)

    def put_epoch(self, epoch: EpochInfo) -> None:
        with self._lock:
            self._batch.epochs.append(epoch)

    def put_eval(self, ev: EvalInfo) -> None:
        with self._lock:
            self._batch.evals.append(ev)

    def put_activations(self, frame: ActivationFrame) -> None:
        with self._lock:
            self._batch.activations = frame

    def put_boundary(self, image: BoundaryImage) -> None:
        with self._lock:
            self._batch.boundary = image

    def put_previews(self, previews: list[Preview]) -> None:
        with self._lock:
            self._batch.previews = list(previews)

    def put_result(self, result: TrainResult) -> None:
        with self._lock:
            if self._batch.result is None:
                self._batch.result = result

    def drain(self) -> UpdateBatch:
        """Take everything collected so far (an empty batch if nothing)."""
        with self._lock:
            batch, self._batch = self._batch, UpdateBatch()
        return batch


class _ToOutbox(Callback):
    """The trainer's events, put into the outbox (runs on the trainer's thread)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def on_train_start(self, info: RunInfo) -> None:
        self.outbox.put_run(info)

    def on_step(self, s: StepInfo) -> None:
        self.outbox.put_step(s)

    def on_epoch_end(self, e: EpochInfo) -> None:
        self.outbox.put_epoch(e)

    def on_evaluate(self, ev: EvalInfo) -> None:
        self.outbox.put_eval(ev)

    def on_preview(self, previews: list[Preview]) -> None:
        self.outbox.put_previews(previews)

    def on_train_end(self, result: TrainResult) -> None:
        self.outbox.put_result(result)


class TrainingWorker(QObject):
    """Runs one :class:`Trainer` when its thread starts; lives on that thread."""

    finished = Signal()

    def __init__(self, trainer: Trainer, outbox: Outbox) -> None:
        super().__init__()
        self.trainer = trainer
        self.outbox = outbox

    @Slot()
    def run(self) -> None:
        try:
            result = self.trainer.fit()  # reports run problems in the result, never raises
        except BaseException as exc:  # noqa: BLE001 (a bug of ours or the engine's: say so)
            last = traceback.extract_tb(exc.__traceback__)[-1:] or [None]
            where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last[0] else ""
            result = TrainResult("error", f"Training ended by an unexpected error{where}: "
                                          f"{type(exc).__name__}: {exc}")
            forget_traceback(exc)
        self.outbox.put_result(result)
        # back to the main thread, where the runner lets it go: a Python QObject destroyed
        # on this thread takes Qt's signal-slot lock and then waits for the GIL, while the
        # main thread, holding the GIL, may wait for that lock to connect a new plot — a
        # deadlock seen once in the suite (the Live page being built as a run ended)
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())
        self.finished.emit()


def module_labels(prepared: PreparedRun) -> dict[str, str]:
    """Module path -> "node name · Layer type", from the graph(s) the run was compiled from.

    ``nnstudio_code.attrs`` maps node id -> attribute; a nested module ("block.0") keeps
    its suffix, and in a set of graphs (GAN) each path starts with the graph's role.
    Modules with no node (a hand-made model) keep their path.
    """
    model = prepared.model
    if getattr(model, "nnstudio_code", None) is not None:
        parts = {"": (model, prepared.graph_snapshot)}
    else:  # a GraphSet: role -> compiled graph
        snapshots = getattr(prepared, "graph_snapshots", None) or {}
        parts = {f"{role}.": (module, snapshots.get(role, {}))
                 for role, module in getattr(model, "items", dict)()
                 if getattr(module, "nnstudio_code", None) is not None}
    labels = {}
    for prefix, (module, snapshot) in parts.items():
        nodes = {n["id"]: n for n in snapshot.get("nodes", [])}
        by_attr = {attr: nodes[nid] for nid, attr in module.nnstudio_code.attrs.items()
                   if nid in nodes}
        for path, sub in module.named_modules():
            head, _, rest = path.partition(".")
            node = by_attr.get(head)
            if node is not None:
                name = node["name"] + (f".{rest}" if rest else "")
                role = f"{prefix[:-1]}/" if prefix else ""
                labels[prefix + path] = f"{role}{name} · {type(sub).__name__}"
    return labels


def live_probes(prepared: PreparedRun, outbox: Outbox, class_rgb: Any, lut: Any) -> list[Callback]:
    """The worker-side producers of the live views that suit this run: activation
    pictures when capture is on, the decision boundary for 2-D point classification."""
    probes: list[Callback] = []
    if prepared.config.activations.enabled:
        probes.append(ActivationHistory(outbox.put_activations, lut, module_labels(prepared)))
    info, splits = prepared.splits.info, prepared.splits
    if (info.kind == "points2d" and info.task == "classification"
            and tuple(info.input_shape) == (2,) and len(splits.train)):
        x = splits.train.x[:5000].float()
        mean = splits.norm_mean.numpy() if splits.norm_mean is not None else None
        std = splits.norm_std.numpy() if splits.norm_std is not None else None
        points = x.numpy() * std + mean if mean is not None and std is not None else x.numpy()
        probes.append(BoundaryProbe(prepared.model, points, outbox.put_boundary, class_rgb,
                                    prepared.config.loss, mean, std))
    return probes


class Cadence:
    """How often the main thread takes in a run's news.

    Two bounds, the slower wins (never faster than ``fastest_ms`` nor slower than
    ``slowest_ms``):

    * the updates' own cost: with ``cost`` the main-thread time one update takes
      (:meth:`update_cost`, smoothed), the beat is at least ``cost / update_share`` — a
      panel that costs twice as much is brought up to date half as often, and the
      trainer, which waits for the GIL while the main thread runs Python, loses no more;
    * the main thread's whole load: while it is busy more than ``share`` of the time
      (drawing, or anything else the person does) the beat slows by a quarter at each
      update, and it comes back as the load falls below half of that.

    :meth:`next_interval` is called once per update, on the main thread; ``wall`` and
    ``cpu`` (that thread's CPU time) are injectable for tests.
    """

    def __init__(self, fastest_ms: int = DRAIN_INTERVAL_MS, slowest_ms: int = SLOWEST_DRAIN_MS,
                 share: float = UI_SHARE, update_share: float = UPDATE_SHARE,
                 wall=time.perf_counter, cpu=time.thread_time) -> None:
        self.fastest_ms, self.slowest_ms, self.share = fastest_ms, slowest_ms, share
        self.update_share = update_share
        self.wall, self.cpu = wall, cpu
        self.cost = 0.0  # smoothed seconds of main-thread time one update takes
        self.restart()

    def restart(self) -> None:
        """A new run: the load is measured afresh, but what an update costs is kept (the
        same panel follows the next run), so that a short run is not followed at the
        fastest beat while its first updates are being timed."""
        self._load_ms = self.fastest_ms  # the beat the whole load allows
        self.busy = 0.0  # smoothed share of the main thread's time spent working
        self.interval_ms = self._bounded(self._load_ms)
        self._mark = (self.wall(), self.cpu())

    def update_cost(self, seconds: float) -> None:
        """One update took ``seconds`` of the main thread's time."""
        self.cost = seconds if self.cost == 0.0 else 0.7 * self.cost + 0.3 * seconds

    def next_interval(self) -> int:
        wall, cpu = self.wall(), self.cpu()
        span = wall - self._mark[0]
        if span > 0:
            share = (cpu - self._mark[1]) / span
            self.busy = 0.7 * self.busy + 0.3 * share
        self._mark = (wall, cpu)
        if self.busy > self.share:
            self._load_ms = min(self.slowest_ms, round(self._load_ms * 1.25))
        elif self.busy < self.share / 2:
            self._load_ms = max(self.fastest_ms, round(self._load_ms / 1.25))
        self.interval_ms = self._bounded(self._load_ms)
        return self.interval_ms

    def _bounded(self, load_ms: int) -> int:
        by_cost = round(1000 * self.cost / self.update_share) if self.update_share > 0 else 0
        return min(self.slowest_ms, max(self.fastest_ms, load_ms, by_cost))


class TrainingRunner(QObject):
    """Owns one run at a time: its thread, worker, control and outbox.

    Signals (all on the main thread):
    ``updated(UpdateBatch)`` — at most every ``interval_ms``, only when something came;
    ``state_changed(str)`` — "running", "paused" (once parked), "stopping", "idle";
    ``finished(TrainResult)`` — once per run, after its thread has ended.
    """

    updated = Signal(object)
    state_changed = Signal(str)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = DRAIN_INTERVAL_MS):
        super().__init__(parent)
        self.run_thread: QThread | None = None
        self.worker: TrainingWorker | None = None
        self.control: RunControl | None = None
        self.outbox: Outbox | None = None
        self.result: TrainResult | None = None
        self._final: TrainResult | None = None  # a result the timer drained before the end
        self.state = "idle"
        self._done = True
        self.cadence = Cadence(interval_ms, max(interval_ms, SLOWEST_DRAIN_MS))
        self._update_from: float | None = None  # main-thread CPU clock when an update began
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.drain)

    # ------------------------------------------------------------------ driving
    @property
    def is_running(self) -> bool:
        """True from :meth:`start` until ``finished`` has been emitted."""
        return not self._done

    def start(self, prepared: PreparedRun, *, callbacks: Iterable[Callback] = (),
              live: Mapping[str, Any] | None = None, report_every_s: float = REPORT_EVERY_S,
              checkpoint_dir: str | None = None) -> None:
        """Train ``prepared`` on a new thread.  ``callbacks`` run on the trainer's thread
        (after the outbox's); ``live`` = {"class_rgb": (C, 3) array, "lut": (256, 4) array}
        adds the activation and decision-boundary producers."""
        if self.is_running:
            raise RuntimeError("a run is already going; stop it first")
        self.outbox = outbox = Outbox()
        self.control = RunControl()
        self.result = None
        self._final = None
        probes = live_probes(prepared, outbox, live["class_rgb"], live["lut"]) if live else []
        trainer = Trainer(prepared.model, prepared.splits, prepared.config,
                          [_ToOutbox(outbox), *probes, *callbacks], self.control,
                          checkpoint_dir=checkpoint_dir, report_every_s=report_every_s)
        thread = QThread()
        thread.setObjectName("nnstudio-training")
        worker = TrainingWorker(trainer, outbox)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # direct: quit from the worker thread itself, even if the main thread is blocked
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self.run_thread, self.worker = thread, worker
        _LIVE_THREADS.add(thread)
        RunInterpreterPolicy.hold()
        self._done = False
        self._set_state("running")
        thread.start()
        self.cadence.restart()
        self._timer.start(self.cadence.interval_ms)

    def pause(self) -> None:
        if self.is_running and self.control is not None and not self.control.stopped:
            self.control.pause()  # "paused" is announced once the trainer has parked

    def resume(self) -> None:
        if self.is_running and self.control is not None and not self.control.stopped:
            self.control.resume()
            self._set_state("running")

    def stop(self) -> None:
        if self.is_running and self.control is not None:
            self.control.stop()
            self._set_state("stopping")

    def wait(self, ms: int = 5000) -> bool:
        """Block until the run's thread has ended (True) or ``ms`` passed (False)."""
        thread = self.run_thread
        return thread is None or thread.isFinished() or thread.wait(ms)

    def shutdown(self, ms: int = 5000) -> bool:
        """Stop, join the thread (bounded), and deliver ``finished`` now if it ended:
        what a closing window does.  False if the thread is still running after ``ms``
        (it is kept referenced, so it is never destroyed while running)."""
        if not self.is_running:
            return True
        self.stop()
        if not self.wait(ms):
            return False
        self._on_thread_finished()
        return True

    # ------------------------------------------------------------------ reporting
    @Slot()
    def drain(self) -> None:
        """Emit what the outbox holds (called by the timer; safe to call any time)."""
        if self.outbox is None:
            return
        beat = self.sender() is self._timer
        if beat:
            self._begin_update()
        RunInterpreterPolicy.collect_if_due()
        control = self.control
        if (self.state == "running" and control is not None and control.paused
                and control.wait_until_held(0)):
            self._set_state("paused")
        batch = self.outbox.drain()
        if batch.result is not None:  # the thread is about to end: keep it for `finished`
            self._final = batch.result
        if batch:
            self.updated.emit(batch)
        if beat:  # the timer's own beat adapts to what the updates cost
            self._timer.setInterval(self.cadence.next_interval())

    def _begin_update(self) -> None:
        """Start timing an update: from now until the event loop next waits for events,
        which is after the repaint the update asked for (posted events come first)."""
        now = self.cadence.cpu()
        waiting = self._update_from is not None  # the loop has not waited since last beat
        if waiting:
            self.cadence.update_cost(now - self._update_from)
        self._update_from = now
        dispatcher = QAbstractEventDispatcher.instance()
        if dispatcher is not None and not waiting:
            dispatcher.aboutToBlock.connect(self._end_update,
                                            Qt.ConnectionType.SingleShotConnection)

    @Slot()
    def _end_update(self) -> None:
        if self._update_from is None:
            return
        self.cadence.update_cost(self.cadence.cpu() - self._update_from)
        self._update_from = None

    def _on_thread_finished(self) -> None:
        if self._done:
            return
        self._done = True
        self._timer.stop()
        self._update_from = None
        # `finished` is emitted just before the thread deletes the worker and ends: wait
        # for that (a moment) so nothing of the run is left running or undeleted; a stuck
        # thread stays referenced, and the interpreter policy stays held, until it ends
        if self.run_thread is not None and self.run_thread.wait(2000):
            _LIVE_THREADS.discard(self.run_thread)
            RunInterpreterPolicy.release()
        batch = self.outbox.drain() if self.outbox is not None else UpdateBatch()
        # the timer may have drained the result already, just before the thread ended
        result = (batch.result or self._final
                  or TrainResult("error", "The training thread ended without a result."))
        self.result = result
        if batch:
            self.updated.emit(batch)
        self.worker = None  # back on this thread (see TrainingWorker.run): freed here
        self._set_state("idle")
        self.finished.emit(result)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
