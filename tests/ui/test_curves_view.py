"""The live curves follow a run without re-laying out their axes at every update."""

import itertools

import pytest

pytest.importorskip("pyqtgraph")

from nnstudio.train import EpochInfo, RunInfo, StepInfo
from nnstudio.ui.training.curves_view import CurvesView
from nnstudio.ui.training.runs import RunRecord


@pytest.fixture
def view(shown):
    return shown(CurvesView(), 900, 300)


def _record(epochs: int = 10) -> RunRecord:
    record = RunRecord(1, {"name": "moons"}, {"optimizer": "adam", "lr": 0.01, "batch_size": 32},
                       {"nodes": [], "edges": []})
    record.start(RunInfo(epochs * 10, 10, epochs, 1, "cpu", 100, 100))
    return record


def test_a_single_validation_point_gets_a_readable_range(view):
    record = _record()
    view.set_runs(record, [])
    view.set_epoch_span(10)
    record.add_epochs([EpochInfo(1, 0.7, {"loss": 0.69, "accuracy": 0.6426}, 0.01, 1.0)])
    view.note_new_data()
    view.refresh()
    lo, hi = view.metric_plot.getPlotItem().getViewBox().viewRange()[1]
    assert lo < 0.6426 < hi
    assert hi - lo >= 0.05  # a tenth of the value, not a sliver needing five decimals


def test_the_x_range_spans_the_planned_run_and_never_moves_while_it_trains(view):
    record = _record(epochs=16)
    view.set_runs(record, [])
    view.set_epoch_span(16)
    ranges = []
    for step in range(1, 161):
        record.add_steps([StepInfo(step // 10 + 1, step % 10 + 1, step, 160, 1.0 / step, 0.01,
                                   step * 0.1, 1.0, 1000.0)])
        view.note_new_data()
        view.refresh()
        ranges.append(round(view.loss_plot.getPlotItem().getViewBox().viewRange()[0][1], 3))
    changes = sum(1 for a, b in itertools.pairwise(ranges) if a != b)
    assert changes == 0  # each change lays the axis out again: a millisecond of the GIL
    assert 16 <= ranges[0] < 17


def test_data_past_the_planned_end_widen_the_x_range(view):
    record = _record(epochs=2)
    view.set_runs(record, [])
    view.set_epoch_span(2)
    record.add_steps([StepInfo(3, 10, 30, 30, 0.5, 0.01, 3.0, 0.0, 1000.0)])  # epoch 3 of 2
    view.note_new_data()
    view.refresh()
    assert view.loss_plot.getPlotItem().getViewBox().viewRange()[0][1] >= 3


def test_the_learning_rate_plot_is_redrawn_at_most_once_a_second_while_a_run_goes(view, monkeypatch):
    import nnstudio.ui.training.curves_view as curves_view
    from nnstudio.train import TrainResult

    monkeypatch.setattr(curves_view, "LR_EVERY_S", 1e9)  # "not yet", however slow the test
    record = _record(epochs=2)
    view.set_runs(record, [])
    view.set_epoch_span(2)

    def step(n):
        record.add_steps([StepInfo(1, n, n, 20, 1.0 / n, 0.01, n * 0.1, 1.0, 1000.0)])
        view.note_new_data()
        view.refresh()

    step(1)
    assert view.point_count("lr") == 1 and view.point_count("train") == 1  # the first: drawn
    step(2)
    step(3)
    assert view.point_count("train") == 3  # the loss follows every update
    assert view.point_count("lr") == 1  # the learning rate waits
    record.finish(TrainResult("completed", "done"))
    view.refresh()
    assert view.point_count("lr") == 3  # a finished run shows all of it
