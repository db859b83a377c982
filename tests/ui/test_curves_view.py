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


def _x_ranges_while_training(view, epochs: int) -> list[float]:
    """The loss plot's right x end after each epoch's refresh (10 steps an epoch)."""
    record = _record(epochs=epochs)
    view.set_runs(record, [])
    view.set_epoch_span(epochs)
    ranges = []
    for epoch in range(1, epochs + 1):
        first = (epoch - 1) * 10
        record.add_steps([StepInfo(epoch, b, first + b, epochs * 10, 1.0 / (first + b), 0.01,
                                   (first + b) * 0.1, 1.0, 1000.0) for b in range(1, 11)])
        view.note_new_data()
        view.refresh()
        ranges.append(round(view.loss_plot.getPlotItem().getViewBox().viewRange()[0][1], 3))
    return ranges


def test_a_short_run_is_shown_whole_and_its_x_range_never_moves(view):
    ranges = _x_ranges_while_training(view, 16)
    changes = sum(1 for a, b in itertools.pairwise(ranges) if a != b)
    assert changes == 0  # each change lays the axis out again: a millisecond of the GIL
    assert 16 <= ranges[0] < 17


def test_a_long_run_starts_on_its_first_sixteenth_and_the_x_range_only_doubles(view):
    ranges = _x_ranges_while_training(view, 160)
    ends = [r for i, r in enumerate(ranges) if i == 0 or r != ranges[i - 1]]
    assert 10 <= ends[0] < 11  # the first epochs get the width (not a 160th of it each)
    assert len(ends) == 5  # laid out again four times in the whole run
    assert all(b == pytest.approx(2 * a) for a, b in itertools.pairwise(ends))
    assert 160 <= ends[-1] < 170
    for epoch, right in enumerate(ranges, 1):
        assert epoch <= right  # the data are always in view


@pytest.mark.parametrize(("planned", "end", "right"), [
    (16, 0, 16), (60, 0, 15), (60, 15, 15), (60, 15.1, 30), (60, 59, 60),
    (400, 0, 25), (400, 30, 50), (400, 399, 400), (400, 450, 800), (2, 5, 8), (1, 0, 1)])
def test_x_span(planned, end, right):
    from nnstudio.ui.training.curves_view import x_span

    assert x_span(planned, end) == right


def test_data_past_the_planned_end_widen_the_x_range(view):
    record = _record(epochs=2)
    view.set_runs(record, [])
    view.set_epoch_span(2)
    record.add_steps([StepInfo(3, 10, 30, 30, 0.5, 0.01, 3.0, 0.0, 1000.0)])  # epoch 3 of 2
    view.note_new_data()
    view.refresh()
    assert view.loss_plot.getPlotItem().getViewBox().viewRange()[0][1] >= 3


def test_the_learning_rate_plot_is_redrawn_at_most_once_a_second_while_a_run_goes(view, monkeypatch):
    from nnstudio.train import TrainResult
    from nnstudio.ui.training import curves_view

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


def test_only_the_plots_whose_curves_changed_are_fitted_again(view):
    record = _record(epochs=10)
    view.set_runs(record, [])
    view.set_epoch_span(10)
    record.add_epochs([EpochInfo(1, 0.7, {"loss": 0.69, "accuracy": 0.64}, 0.01, 1.0)])
    record.add_steps([StepInfo(1, 1, 1, 100, 0.9, 0.01, 0.1, 1.0, 1000.0)])
    view.note_new_data()
    view.refresh()
    metric_box = view.metric_plot.getPlotItem().getViewBox()
    metric_box.setYRange(5.0, 6.0, padding=0)  # a range the metric is outside of
    for n in range(2, 6):  # only the training loss grows
        record.add_steps([StepInfo(1, n, n, 100, 0.9 / n, 0.01, n * 0.1, 1.0, 1000.0)])
        view.note_new_data()
        view.refresh()
    assert metric_box.viewRange()[1] == pytest.approx([5.0, 6.0])  # not fitted: unchanged
    lo, hi = view.loss_plot.getPlotItem().getViewBox().viewRange()[1]
    assert lo <= 0.9 / 5 and 0.9 <= hi  # the loss plot follows its data
    record.add_epochs([EpochInfo(2, 0.5, {"loss": 0.5, "accuracy": 0.8}, 0.01, 2.0)])
    view.note_new_data()
    view.refresh()
    lo, hi = metric_box.viewRange()[1]
    assert lo <= 0.64 and 0.8 <= hi  # new metric data: fitted again


def test_a_runs_row_sets_only_what_changed(qtbot):
    from nnstudio.ui.training.runs import RunStore
    from nnstudio.ui.training.runs_view import RunsView

    store = RunStore()
    view = RunsView(store)
    qtbot.addWidget(view)
    record = store.new_run({"name": "moons"}, {"optimizer": "adam", "lr": 0.01, "epochs": 10},
                           {"nodes": [], "edges": []})
    record.start(RunInfo(100, 10, 10, 1, "cpu", 100, 100))
    changes = []
    view.table.model().dataChanged.connect(lambda a, b, roles: changes.append(a.column()))
    record.add_steps([StepInfo(1, 1, 1, 100, 0.9, 0.01, 0.1, 1.0, 1000.0)])
    view.update_run(record)
    assert changes  # the epoch count or status changed
    changes.clear()
    view.update_run(record)
    assert changes == []  # nothing new: no cell is set (each set repaints it)
    record.add_epochs([EpochInfo(1, 0.7, {"loss": 0.69, "accuracy": 0.64}, 0.01, 1.0)])
    view.update_run(record)
    assert changes and len(changes) < 5  # the cells that changed, not the whole row
    row_text = [view.table.item(0, c).text() for c in range(view.table.columnCount())]
    assert "0.69" in " ".join(row_text)


def _legend_corner(view):
    """Where the metric legend sits in its plot's view: (right?, bottom?)."""
    item = view.metric_plot.getPlotItem()
    legend = item.legend.sceneBoundingRect()
    box = item.getViewBox().sceneBoundingRect()
    return (abs(legend.right() - box.right()) < abs(legend.left() - box.left()),
            abs(legend.bottom() - box.bottom()) < abs(legend.top() - box.top()))


@pytest.mark.parametrize(("recipe", "metrics", "corner"), [
    ("classification", {"loss": 0.5, "accuracy": 0.8}, (True, True)),
    ("regression", {"loss": 0.5, "mae": 0.3}, (True, False))])
def test_the_metric_legend_sits_where_the_curve_does_not_go(view, qtbot, recipe, metrics, corner):
    record = RunRecord(1, {"name": "d"}, {"recipe": recipe, "optimizer": "adam", "lr": 0.01,
                                          "batch_size": 32}, {"nodes": [], "edges": []})
    record.start(RunInfo(100, 10, 10, 1, "cpu", 100, 100))
    view.set_runs(record, [])
    view.set_epoch_span(10)
    record.add_epochs([EpochInfo(1, 0.7, metrics, 0.01, 1.0)])
    view.note_new_data()
    view.refresh()
    qtbot.waitUntil(lambda: _legend_corner(view) == corner, timeout=2000)
    assert view.metric_rises() == (corner == (True, True))
