"""The beat at which the main thread takes in a run's news slows while that thread is
busy, and comes back once it is not."""

import time

import pytest

from nnstudio.ui.training.worker import Cadence


class Clocks:
    def __init__(self) -> None:
        self.wall_s = 0.0
        self.cpu_s = 0.0

    def wall(self) -> float:
        return self.wall_s

    def cpu(self) -> float:
        return self.cpu_s

    def tick(self, seconds: float, busy: float) -> None:
        self.wall_s += seconds
        self.cpu_s += seconds * busy


def test_a_cheap_main_thread_keeps_the_fastest_beat():
    c = Clocks()
    cadence = Cadence(100, 500, 0.03, wall=c.wall, cpu=c.cpu)
    for _ in range(50):
        c.tick(cadence.interval_ms / 1000, busy=0.01)
        assert cadence.next_interval() == 100


def test_a_busy_main_thread_slows_the_beat_to_its_bound_then_recovers():
    c = Clocks()
    cadence = Cadence(100, 500, 0.03, wall=c.wall, cpu=c.cpu)
    seen = []
    for _ in range(40):
        c.tick(cadence.interval_ms / 1000, busy=0.10)
        seen.append(cadence.next_interval())
    assert seen == sorted(seen) and seen[-1] == 500  # slower and slower, never past 2 Hz
    for _ in range(40):
        c.tick(cadence.interval_ms / 1000, busy=0.005)
        cadence.next_interval()
    assert cadence.interval_ms == 100


def test_restart_begins_at_the_fastest_beat():
    c = Clocks()
    cadence = Cadence(100, 500, 0.03, wall=c.wall, cpu=c.cpu)
    for _ in range(20):
        c.tick(0.2, busy=0.5)
        cadence.next_interval()
    assert cadence.interval_ms > 100
    cadence.restart()
    assert cadence.interval_ms == 100 and cadence.busy == 0.0


def _mlp_run(samples: int, epochs: int):
    """A runner and a prepared `mlp` run on moons (CPU)."""
    from nnstudio.graph.templates import load_template
    from nnstudio.train.project_run import prepare_run
    from nnstudio.ui.training.worker import TrainingRunner

    project = load_template("mlp")
    prepared = prepare_run(project, dataset={"name": project.training["dataset"]["name"],
                                             "n_samples": samples},
                           config_overrides={"epochs": epochs, "device": "cpu"})
    return TrainingRunner(), prepared


def _train(qtbot, runner, prepared) -> None:
    with qtbot.waitSignal(runner.finished, timeout=120_000):
        runner.start(prepared)
    assert runner.shutdown(5000)


def test_the_runner_slows_its_beat_while_the_main_thread_is_busy(qtbot):
    runner, prepared = _mlp_run(4000, 40)
    runner.cadence.share = 1e-9  # any work at all counts as busy: the beat must slow
    beats = []
    runner.updated.connect(lambda _batch: beats.append(runner._timer.interval()))
    _train(qtbot, runner, prepared)
    assert beats and max(beats) > 100  # the timer's own beat went past the fastest


def test_the_beat_keeps_the_updates_own_cost_within_its_share():
    c = Clocks()
    cadence = Cadence(100, 500, 0.03, update_share=0.005, wall=c.wall, cpu=c.cpu)
    cadence.update_cost(0.0002)  # 0.2 ms an update: 10 a second cost 0.2 %
    c.tick(0.1, busy=0.0)
    assert cadence.next_interval() == 100
    for _ in range(30):  # 1.5 ms an update: at most one each 300 ms keeps 0.5 %
        cadence.update_cost(0.0015)
        c.tick(cadence.interval_ms / 1000, busy=0.0)
        cadence.next_interval()
    assert cadence.interval_ms == pytest.approx(300, abs=2)
    cadence.update_cost(1.0)  # a pathological update: the beat stops at its slowest
    c.tick(0.3, busy=0.0)
    assert cadence.next_interval() == 500
    cadence.restart()  # a new run: the panel is the same, so is what an update costs
    assert cadence.interval_ms == 500
    cadence.update_cost(1e-9)  # cheap again: the beat comes back within a few updates
    for _ in range(40):
        cadence.update_cost(0.0001)
        c.tick(cadence.interval_ms / 1000, busy=0.0)
        cadence.next_interval()
    assert cadence.interval_ms == 100


def test_the_runner_times_each_update_until_the_event_loop_is_idle_again(qtbot):
    runner, prepared = _mlp_run(2000, 60)
    costs = []

    def slow_update(_batch):  # a panel that takes 20 ms of CPU to follow the run
        end = time.thread_time() + 0.02
        while time.thread_time() < end:
            pass
        costs.append(runner.cadence.cost)

    runner.updated.connect(slow_update)
    _train(qtbot, runner, prepared)
    assert len(costs) >= 2  # each sees what the updates before it cost
    assert max(costs) >= 0.015  # the updates' time was measured (by the loop going idle)
    # at 20 ms an update, 0.5 % of the time allows one each 4 s: the slowest beat
    assert runner._timer.interval() == runner.cadence.slowest_ms
