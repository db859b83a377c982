"""What "Compare" lists between two runs: a pure function over (graph dict, settings)."""

from __future__ import annotations

import copy

from nnstudio.graph.templates import load_template
from nnstudio.ui.training.run_diff import diff_runs, flatten


def mlp_side():
    project = load_template("mlp")
    return project.graph().to_dict(), copy.deepcopy(project.training)


def node_named(graph: dict, name: str) -> dict:
    return next(n for n in graph["nodes"] if n["name"] == name)


def test_the_same_run_twice_has_no_differences():
    a = mlp_side()
    diff = diff_runs(a, copy.deepcopy(a))
    assert diff.same
    assert diff.lines() == ["no differences: same graph, same settings"]


def test_changed_hyperparameters_and_dataset_options_are_listed():
    a = mlp_side()
    graph, settings = copy.deepcopy(a)
    settings["config"]["lr"] = 0.001
    settings["config"]["optimizer"] = "sgd"
    settings["dataset"]["noise"] = 0.3
    settings["config"]["activations"] = {"bins": 50}
    diff = diff_runs(a, (graph, settings))
    assert [(c.key, c.old, c.new) for c in diff.settings_changed] == [
        ("config.activations.bins", None, 50),
        ("config.lr", 0.01, 0.001),
        ("config.optimizer", "adam", "sgd"),
        ("dataset.noise", 0.15, 0.3),
    ]
    assert diff.lines() == ["activations.bins: (not set) → 50", "lr: 0.01 → 0.001",
                            "optimizer: adam → sgd", "dataset.noise: 0.15 → 0.3"]
    assert not diff.nodes_added and not diff.params_changed


def test_layer_parameters_and_training_flags_are_compared_by_node():
    a = mlp_side()
    graph, settings = copy.deepcopy(a)
    node_named(graph, "fc1")["params"]["out_features"] = 32
    node_named(graph, "fc2")["frozen"] = True
    diff = diff_runs(a, (graph, settings))
    assert [(c.node, c.param, c.old, c.new) for c in diff.params_changed] == [
        ("fc1", "out_features", 16, 32), ("fc2", "frozen", False, True)]
    assert "fc1.out_features: 16 → 32" in diff.lines()


def test_added_removed_and_renamed_layers_and_their_wires():
    a = mlp_side()
    graph, settings = copy.deepcopy(a)
    relu2 = node_named(graph, "relu2")
    graph["nodes"].remove(relu2)
    graph["edges"] = [e for e in graph["edges"] if relu2["id"] not in (e["src"], e["dst"])]
    fc2, fc3 = node_named(graph, "fc2"), node_named(graph, "fc3")
    graph["nodes"].append({"id": "n99", "type": "GELU", "name": "gelu", "params": {},
                           "pos": [0, 0]})
    graph["edges"] += [{"src": fc2["id"], "src_port": "out", "dst": "n99", "dst_port": "in"},
                       {"src": "n99", "src_port": "out", "dst": fc3["id"], "dst_port": "in"}]
    node_named(graph, "fc1")["name"] = "hidden"
    diff = diff_runs(a, (graph, settings))
    assert diff.nodes_added == ("gelu (GELU)",)
    assert diff.nodes_removed == ("relu2 (ReLU)",)
    assert diff.nodes_renamed == (("fc1", "hidden"),)
    assert diff.wires_added == ("fc2.out → gelu.in", "gelu.out → fc3.in")
    assert diff.wires_removed == ("fc2.out → relu2.in", "relu2.out → fc3.in")
    lines = diff.lines()
    assert lines[:3] == ["+ layer gelu (GELU)", "− layer relu2 (ReLU)", "renamed fc1 → hidden"]


def test_a_node_whose_type_changed_counts_as_removed_and_added():
    a = mlp_side()
    graph, settings = copy.deepcopy(a)
    relu1 = node_named(graph, "relu1")
    relu1["type"], relu1["name"] = "Tanh", "act1"
    diff = diff_runs(a, (graph, settings))
    assert diff.nodes_added == ("act1 (Tanh)",) and diff.nodes_removed == ("relu1 (ReLU)",)
    assert not diff.nodes_renamed and not diff.params_changed


def test_lists_from_a_project_file_equal_tuples_from_the_document():
    graph = {"nodes": [{"id": "a", "type": "Input", "name": "x", "params": {"shape": [2]}}],
             "edges": []}
    other = {"nodes": [{"id": "a", "type": "Input", "name": "x", "params": {"shape": (2,)}}],
             "edges": []}
    assert diff_runs((graph, {}), (other, {})).same


def test_flatten_makes_dotted_keys():
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}) == {
        "a.b": 1, "a.c.d": [1, 2], "e": None}
