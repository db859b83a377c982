"""The training worker: a Trainer on a QThread, reported to the main thread in batches at
a bounded rate, paused and stopped within 200 ms, and always ending with a result."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from nnstudio.graph.templates import load_template
from nnstudio.train import Callback
from nnstudio.train.project_run import PreparedRun, prepare_run
from nnstudio.ui.training.plot_style import class_rgb, lut
from nnstudio.ui.training.worker import TrainingRunner, UpdateBatch

LIVE = {"class_rgb": class_rgb(2), "lut": lut("viridis")}


def tiny_run(template: str = "mlp", n_samples: int = 200, **config) -> PreparedRun:
    """A template's run on a small generated data set, on the CPU."""
    config = {"epochs": 2, "device": "cpu", **config}
    project = load_template(template)
    name = project.training["dataset"]["name"]
    return prepare_run(project, dataset={"name": name, "n_samples": n_samples},
                       config_overrides=config)


@pytest.fixture
def runner(qapp):
    r = TrainingRunner()
    yield r
    assert r.shutdown(5000), "the training thread did not end"
    r.deleteLater()


class WorkerClock(Callback):
    """Notes, on the trainer's thread, when steps run and when the run ends."""

    def __init__(self) -> None:
        self.steps: list[float] = []
        self.ended: float | None = None

    def on_step(self, s) -> None:
        self.steps.append(time.perf_counter())

    def on_train_end(self, result) -> None:
        self.ended = time.perf_counter()


def events_of(batch: UpdateBatch) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if batch.run is not None:
        out.append(("start", batch.run))
    out += [("step", s) for s in batch.steps]
    out += [("epoch", e) for e in batch.epochs]
    if batch.result is not None:
        out.append(("result", batch.result))
    return out


def test_signals_arrive_in_order_started_steps_epochs_finished(qtbot, runner):
    events: list[tuple[str, object]] = []
    runner.updated.connect(lambda batch: events.extend(events_of(batch)))
    runner.finished.connect(lambda result: events.append(("finished", result)))
    with qtbot.waitSignal(runner.finished, timeout=60_000) as finished:
        runner.start(tiny_run(epochs=3))
    kinds = [k for k, _ in events]
    assert kinds[0] == "start"
    assert kinds[-2:] == ["result", "finished"]
    assert kinds.index("step") < kinds.index("epoch")
    steps = [v.global_step for k, v in events if k == "step"]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert [v.epoch for k, v in events if k == "epoch"] == [1, 2, 3]
    info = events[0][1]
    assert steps[-1] == info.total_steps == 3 * info.steps_per_epoch
    assert finished.args[0].stopped_reason == "completed"
    assert runner.run_thread.isFinished() and not runner.is_running
    assert runner.state == "idle"


def test_thousands_of_steps_a_second_reach_the_ui_in_at_most_30_batches_a_second(qtbot, runner):
    # a one-neuron model, one example per batch and a report after every step: the
    # trainer produces a StepInfo per optimizer step, as fast as it can
    prepared = tiny_run("perceptron", n_samples=15_000, epochs=1, batch_size=1)
    times: list[float] = []
    steps: list[int] = []

    def on_batch(batch: UpdateBatch) -> None:
        times.append(time.perf_counter())
        steps.extend(s.global_step for s in batch.steps)

    runner.updated.connect(on_batch)
    with qtbot.waitSignal(runner.finished, timeout=120_000):
        runner.start(prepared, report_every_s=0.0)
    span = times[-1] - times[0]
    assert len(steps) == 9000  # every step reported, none lost
    assert span > 0.5, "the run was too short to measure a rate"
    rate = (len(times) - 1) / span
    # a 33 ms timer: 30.3 a second, a little more when one late tick shortens the span
    assert rate <= 32, f"{rate:.1f} batches a second reached the main thread"
    assert len(steps) / span > 10 * rate  # many steps per batch: batching did its job
    # in any one second, no more than ~30 batches
    assert max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 32


def test_pause_and_stop_take_effect_within_200_ms(qtbot, runner):
    clock = WorkerClock()
    runner.start(tiny_run(epochs=10_000), callbacks=[clock], live=LIVE)
    qtbot.waitUntil(lambda: len(clock.steps) > 5, timeout=60_000)

    asked = time.perf_counter()
    runner.pause()
    assert runner.control.wait_until_held(1.0)  # set by the trainer once it has parked
    pause_latency = time.perf_counter() - asked
    qtbot.waitUntil(lambda: runner.state == "paused", timeout=2000)
    parked_steps = len(clock.steps)
    qtbot.wait(150)
    assert len(clock.steps) == parked_steps  # nothing runs while paused

    runner.resume()
    qtbot.waitUntil(lambda: len(clock.steps) > parked_steps + 2, timeout=5000)
    assert runner.state == "running"

    with qtbot.waitSignal(runner.finished, timeout=5000) as finished:
        asked = time.perf_counter()
        runner.stop()
    stop_latency = clock.ended - asked
    assert pause_latency < 0.2, f"pause took {pause_latency * 1000:.0f} ms"
    assert stop_latency < 0.2, f"stop took {stop_latency * 1000:.0f} ms"
    assert finished.args[0].stopped_reason == "stopped"
    assert runner.run_thread.isFinished()


def test_stop_while_paused_ends_the_run(qtbot, runner):
    runner.start(tiny_run(epochs=10_000))
    qtbot.waitUntil(lambda: runner.state == "running", timeout=5000)
    runner.pause()
    qtbot.waitUntil(lambda: runner.state == "paused", timeout=60_000)
    with qtbot.waitSignal(runner.finished, timeout=2000) as finished:
        runner.stop()
    assert finished.args[0].stopped_reason == "stopped"


class Explodes(nn.Module):
    """A classifier whose output turns infinite on its third training call."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.calls = 0

    def forward(self, x):
        out = self.fc(x)
        if self.training:
            self.calls += 1
            if self.calls >= 3:
                out = out * torch.tensor(float("inf"))
        return out


class Raises(nn.Module):
    """A classifier whose layer fails on its third training call."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.calls = 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("boom: this layer cannot go on")
        return self.fc(x)


@pytest.mark.parametrize("model, words", [
    (Explodes, ["loss became", "learning rate"]),
    (Raises, ["boom: this layer cannot go on", "RuntimeError"]),
], ids=["nan-loss", "layer-raises"])
def test_a_failing_run_ends_with_an_error_result_and_a_joined_thread(qtbot, runner, model, words):
    prepared = tiny_run(epochs=5)
    prepared.model = model()
    with qtbot.waitSignal(runner.finished, timeout=60_000) as finished:
        runner.start(prepared, live=LIVE)
    result = finished.args[0]
    assert result.stopped_reason == "error"
    assert all(w in result.message for w in words), result.message
    assert runner.run_thread.isFinished()


def test_a_bug_in_a_callback_ends_the_run_with_a_message_not_a_hang(qtbot, runner):
    class Broken(Callback):
        def on_epoch_end(self, e):
            raise KeyError("missing-key")

    with qtbot.waitSignal(runner.finished, timeout=60_000) as finished:
        runner.start(tiny_run(), callbacks=[Broken()])
    result = finished.args[0]
    assert result.stopped_reason == "error"
    assert "unexpected error" in result.message and "missing-key" in result.message


def test_live_views_come_from_the_worker_with_pictures_ready(qtbot, runner):
    frames, boundaries = [], []

    def on_batch(batch: UpdateBatch) -> None:
        if batch.activations is not None:
            frames.append(batch.activations)
        if batch.boundary is not None:
            boundaries.append(batch.boundary)

    runner.updated.connect(on_batch)
    with qtbot.waitSignal(runner.finished, timeout=60_000):
        runner.start(tiny_run(epochs=8), live=LIVE)
    assert frames and boundaries
    frame = frames[-1]
    labels = [layer.label for layer in frame.layers]
    assert labels[:2] == ["fc1 · Linear", "relu1 · ReLU"]  # named by the graph's nodes
    relu = frame.layers[1]
    assert relu.dead is not None and relu.hist_rgba.dtype.name == "uint8"
    assert relu.hist_rgba.shape[0] == 48 and relu.hist_rgba.shape[1] == len(relu.steps)
    assert set(frame.grad_norms) == {"fc1", "fc2", "fc3"}
    image = boundaries[-1]
    assert image.rgba.shape == (120, 120, 4) and image.rgba.dtype.name == "uint8"
    x0, x1, y0, y1 = image.extent
    assert x0 < x1 and y0 < y1


def test_a_result_drained_just_before_the_thread_ends_is_still_the_result(qtbot, runner,
                                                                           monkeypatch):
    """The timer may collect the result between the worker putting it and the thread
    ending; `finished` must still carry the run's own result."""
    from PySide6.QtCore import Slot

    from nnstudio.ui.training import worker as worker_module

    @Slot()
    def slow_to_end(self):
        # what `run` does, with a pause after the result is out: the timer drains it then
        self.outbox.put_result(self.trainer.fit())
        time.sleep(0.3)
        self.finished.emit()

    monkeypatch.setattr(worker_module.TrainingWorker, "run", slow_to_end)
    with qtbot.waitSignal(runner.finished, timeout=60_000) as finished:
        runner.start(tiny_run())
    result = finished.args[0]
    assert result.stopped_reason == "completed", result.message
    assert runner.result is result
