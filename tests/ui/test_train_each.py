""""Train each graph": the activations template's four MLPs train one after another as
four runs named after their graphs, overlaid on the Curves page."""

from __future__ import annotations

from nnstudio.graph.templates import load_template
from nnstudio.ui.training.train_each import graphs_to_train_each

from .conftest import dock_of, small_project

NAMES = ["MLP-sigmoid", "MLP-tanh", "MLP-relu", "MLP-gelu"]


def test_only_networks_that_train_alone_are_listed():
    assert [g.name for g in graphs_to_train_each(load_template("activations"))] == NAMES
    assert [g.name for g in graphs_to_train_each(load_template("mlp"))] == ["MLP"]
    # a block graph is part of the network that runs it, not a network of its own
    assert [g.name for g in graphs_to_train_each(load_template("digits-pretrain"))] == \
        ["DigitsNet"]


def test_train_each_graph_runs_the_four_activations_and_overlays_them(train_window, qtbot):
    window = train_window(small_project("activations", n_samples=200, epochs=2))
    dock = dock_of(window)
    button = dock.train_each.button
    assert not button.isHidden() and button.isEnabled()
    assert "MLP-sigmoid" in button.toolTip()
    assert dock.start_each()
    assert not button.isEnabled()  # one sequence at a time
    qtbot.waitUntil(lambda: not dock.train_each.active and not dock.is_running, timeout=120_000)
    runs = dock.store.runs
    assert [r.graph["name"] for r in runs] == NAMES
    assert [r.name for r in runs] == [f"{n} (run {i})" for i, n in enumerate(NAMES, 1)]
    assert all(r.status == "completed" and r.overlay for r in runs)
    assert all(r.final_metric("accuracy") is not None for r in runs)
    curves = dock.curves
    curves.refresh()
    assert len(curves._drawn) == 4  # every run on the same axes
    legend = [item.text for _, item in curves.metric_plot.getPlotItem().legend.items]
    assert legend == [r.name for r in runs]
    assert button.isEnabled()


def test_stopping_a_run_ends_the_sequence(train_window, qtbot):
    window = train_window(small_project("activations", n_samples=400, epochs=200))
    dock = dock_of(window)
    assert dock.start_each()
    qtbot.waitUntil(lambda: dock.current is not None and dock.current.last_step is not None,
                    timeout=60_000)
    dock.stop()
    qtbot.waitUntil(lambda: not dock.is_running, timeout=60_000)
    qtbot.wait(50)  # the next run would be started from the event loop
    assert not dock.train_each.active and not dock.is_running
    assert len(dock.store.runs) == 1 and dock.store.runs[0].status == "stopped"


def test_the_button_is_hidden_for_a_one_network_project(train_window):
    window = train_window()  # the MLP
    dock = dock_of(window)
    assert dock.train_each.button.isHidden()
    assert not dock.start_each()
    assert "two or more networks" in dock.error_banner.label.text()
