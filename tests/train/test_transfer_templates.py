"""Transfer learning as shipped: digits-pretrain's Features weights travel with the
templates, transfer-digits reuses them frozen through a block, and beats the same
network trained from scratch on the same two examples per class by at least 10 points."""

from __future__ import annotations

import itertools
import shutil

import pytest
import torch

from nnstudio.graph import Graph, Project, compile_graph
from nnstudio.graph.blocks import clear_caches
from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import load_template, templates_dir
from nnstudio.graph.transfer import block_graph_weights
from nnstudio.graph.weights import load_weights, weights_path
from nnstudio.train.project_run import RunSetupError, prepare_run
from nnstudio.train.transfer_check import (
    compare_with_scratch,
    pretrain_block_weights,
    reinitialise,
    scratch_copy,
)

SHIPPED = "digits-pretrain.Features.pt"


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_caches()


def test_the_shipped_weights_are_a_small_state_dict_that_fits_the_features_graph():
    path = templates_dir() / SHIPPED
    assert path.is_file() and path.stat().st_size < 300 * 1024
    state = load_weights(path)  # weights_only=True inside
    features = load_template("digits-pretrain").graph("Features")
    assert state.keys() == compile_graph(features).state_dict().keys()
    assert weights_path(templates_dir() / "digits-pretrain.nnstudio", features) == path


def test_transfer_digits_loads_the_pretrained_block_and_freezes_it():
    project = load_template("transfer-digits")
    backbone = project.graph().find("backbone")
    assert backbone.frozen and backbone.params["source"] == "digits-pretrain.nnstudio"
    prepared = prepare_run(project, config_overrides={"device": "cpu"})
    model = prepared.model
    shipped = load_weights(templates_dir() / SHIPPED)
    for name, value in model.backbone.state_dict().items():
        assert torch.equal(value, shipped[name]), name
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert prepared.splits.info.classes == ("5", "6", "7", "8", "9")
    assert torch.bincount(prepared.splits.train.y).tolist() == [2] * 5


def test_the_scratch_copy_unfreezes_everything_and_reinitialises_the_reused_weights():
    project = load_template("transfer-digits")
    copy = scratch_copy(project)
    assert not any(n.frozen or n.lr_mult != 1.0 for g in copy.graphs for n in g.nodes)
    assert project.graph().find("backbone").frozen  # the original is untouched
    model = compile_graph(copy.graph())
    before = model.backbone.state_dict()["conv1.weight"].clone()
    assert reinitialise(model, seed=0) >= 4  # three convolutions and the head
    assert not torch.equal(model.backbone.state_dict()["conv1.weight"], before)


def test_transfer_digits_beats_training_from_scratch_by_ten_points():
    result = compare_with_scratch(load_template("transfer-digits"))
    assert 0.0 <= result.scratch <= 1.0 and 0.0 <= result.transfer <= 1.0
    assert result.gain >= 0.10, result


def test_a_project_that_reuses_no_network_has_nothing_to_compare():
    project = load_template("mlp")
    project.training["dataset"]["n_samples"] = 100
    with pytest.raises(RunSetupError, match="reuses no trained network"):
        compare_with_scratch(project, config_overrides={"epochs": 1})


def _wire(g: Graph, *nodes) -> None:
    for a, b in itertools.pairwise(nodes):
        g.connect(a.id, a.spec.output_ports(a.params)[0].name,
                  b.id, b.spec.input_ports(b.params)[0].name)


def test_block_graph_weights_takes_each_blocks_weights_under_its_own_names():
    p = Project()
    inner = p.add_graph(Graph("Inner"))
    _wire(inner, inner.add_node("Input", "x", {"shape": (3,)}),
          inner.add_node("Linear", "fc", {"out_features": 2}), inner.add_node("Output", "y"))
    net = p.add_graph(Graph("Net"))
    x = net.add_node("Input", "x", {"shape": (3,)})
    _wire(net, x, net.add_node("Block", "body", {"graph": "Inner"}), net.add_node("Output", "y"))
    model = compile_graph(net)
    states = block_graph_weights(net, model)
    assert list(states) == ["Inner"]
    assert torch.equal(states["Inner"]["fc.weight"], model.state_dict()["body.fc.weight"])
    _wire(net, x, net.add_node("Block", "again", {"graph": "Inner"}), net.add_node("Output", "z"))
    with pytest.raises(ValueError, match="run by two blocks \\('body' and 'again'\\)"):
        block_graph_weights(net, compile_graph(net))


def test_pretraining_writes_the_weights_that_a_transfer_block_then_loads(tmp_path):
    for name in ("digits-pretrain", "transfer-digits"):
        shutil.copy(templates_dir() / f"{name}.nnstudio", tmp_path)
    pretrain = load_project(tmp_path / "digits-pretrain.nnstudio")
    metrics, written = pretrain_block_weights(pretrain, tmp_path / "digits-pretrain.nnstudio",
                                              config_overrides={"epochs": 1})
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert written == {"Features": tmp_path / SHIPPED}
    clear_caches()
    transfer = load_project(tmp_path / "transfer-digits.nnstudio")
    model = compile_graph(transfer.graph())
    state = load_weights(tmp_path / SHIPPED)
    assert all(torch.equal(v, state[k]) for k, v in model.backbone.state_dict().items())
    # a project whose trained graph runs no block of its own has nothing to save
    lone = load_template("mlp")
    lone.training["dataset"]["n_samples"] = 100
    save_project(lone, tmp_path / "mlp.nnstudio")
    with pytest.raises(RunSetupError, match="no reusable weights"):
        pretrain_block_weights(lone, tmp_path / "mlp.nnstudio", config_overrides={"epochs": 1})
