"""The beat at which the main thread takes in a run's news slows while that thread is
busy, and comes back once it is not."""

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


def test_the_runner_slows_its_beat_while_the_main_thread_is_busy(qtbot):
    from nnstudio.graph.templates import load_template
    from nnstudio.train.project_run import prepare_run
    from nnstudio.ui.training.worker import TrainingRunner

    project = load_template("mlp")
    prepared = prepare_run(project, dataset={"name": project.training["dataset"]["name"],
                                             "n_samples": 4000},
                           config_overrides={"epochs": 40, "device": "cpu"})

    runner = TrainingRunner()
    runner.cadence.share = 1e-9  # any work at all counts as busy: the beat must slow
    beats = []
    runner.updated.connect(lambda _batch: beats.append(runner._timer.interval()))
    with qtbot.waitSignal(runner.finished, timeout=120_000):
        runner.start(prepared)
    assert runner.shutdown(5000)
    assert beats and max(beats) > 100  # the timer's own beat went past the fastest
