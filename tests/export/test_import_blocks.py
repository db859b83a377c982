"""Importing with blocks: each nn.Sequential and each class of the person's own becomes a
Block node running a graph of its own; calls that compute the same thing share that
graph; the weights land under the block names; ``--flat`` inlines everything."""

from __future__ import annotations

import pytest
import torch
from export_models import HEADER, ROUND_TRIPS

from nnstudio.cli import main
from nnstudio.export.importer import import_pytorch
from nnstudio.graph import generate
from nnstudio.graph.project_file import load_project


def _import(write_source, case, **kw):
    source, cls, shape = ROUND_TRIPS[case]
    return import_pytorch(write_source(source, f"{case}.py"), cls, [shape], **kw)


def _blocks(graph):
    """{Block node name: the graph it runs}, in the order the graph runs them."""
    return {graph.node(nid).name: graph.node(nid).params["graph"]
            for nid in graph.topological_order() if graph.node(nid).type == "Block"}


def test_a_class_used_twice_with_the_same_layers_shares_one_block_graph(write_source):
    imported = _import(write_source, "residual")
    project, top = imported.project, imported.graph
    assert [g.name for g in project.graphs] == ["TinyResNet", "Stem", "Layer1", "BasicBlock"]
    assert [n.type for n in top.nodes if n.type != "Block"] == [
        "Input", "AdaptiveAvgPool2d", "Flatten", "Linear", "Output"]
    assert _blocks(top) == {"stem": "Stem", "layer1": "Layer1"}
    assert _blocks(project.graph("Layer1")) == {"basic_block_0": "BasicBlock",
                                                "basic_block_1": "BasicBlock"}
    inner = {n.name for n in project.graph("BasicBlock").nodes}
    assert {"conv1", "bn1", "conv2", "bn2", "add", "x", "out"} <= inner
    source = generate(top).source
    assert source.count("class BasicBlock(nn.Module):") == 1
    assert "self.basic_block_1 = BasicBlock()" in source
    # each use keeps its own weights, under the names the generated classes give them
    original = imported.original
    assert torch.equal(imported.state_dict["layer1.basic_block_1.conv2.weight"],
                       original.layer1[1].conv2.weight)
    assert torch.equal(imported.state_dict["stem.batch_norm2d_1.running_var"],
                       original.stem[1].running_var)
    assert imported.n_blocks == 4 and imported.n_layers == 20 and imported.notes == []


def test_calls_that_differ_in_a_layer_get_a_graph_each(write_source):
    imported = _import(write_source, "resnet_ish")
    project = imported.project
    names = [g.name for g in project.graphs]
    assert names[0] == "ResNetish"
    # 8→8 twice shares one graph; 8→16 with a projection shortcut and 16→16 differ from it
    assert _blocks(project.graph("Layer1")) == {"basic_block_0": "BasicBlock",
                                                "basic_block_1": "BasicBlock"}
    assert _blocks(project.graph("Layer2")) == {"basic_block_0": "BasicBlock2",
                                                "basic_block_1": "BasicBlock3"}
    assert _blocks(project.graph("BasicBlock2")) == {"shortcut": "Shortcut"}
    assert _blocks(project.graph("BasicBlock3")) == {}  # its empty nn.Sequential passes x on
    conv1 = next(n for n in project.graph("BasicBlock2").nodes if n.name == "conv1")
    assert conv1.params["out_channels"] == 16 and conv1.params["stride"] == 2
    # Swish runs on [B, 8, 16, 16] and on [B, 16]: a block keeps its input's rank
    assert _blocks(imported.graph) == {"act": "Swish", "layer1": "Layer1",
                                       "layer2": "Layer2", "act1": "Swish2"}


def test_stages_that_differ_only_in_what_enters_share_a_class_taking_in_channels(
        write_source):
    imported = _import(write_source, "cifar_sequential")
    project = imported.project
    assert [g.name for g in project.graphs] == ["CifarSeq", "Features", "FeaturesBlock",
                                                "Classifier"]
    assert _blocks(project.graph("Features")) == {"sequential_0": "FeaturesBlock",
                                                  "sequential_1": "FeaturesBlock"}
    source = generate(imported.graph).source
    assert "self.sequential_0 = FeaturesBlock(in_channels=3)" in source
    assert "self.sequential_1 = FeaturesBlock(in_channels=8)" in source
    assert "nn.Conv2d(in_channels, 8, kernel_size=3, padding=1)" in source


def test_a_layer_of_ones_own_without_weights_called_twice_is_two_uses_of_one_graph(
        write_source):
    path = write_source(HEADER + '''

class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = Swish()

    def forward(self, x):
        return self.act(self.fc(self.act(x)))
''', "swish.py")
    imported = import_pytorch(path, "Net", [(2, 4)])
    assert [g.name for g in imported.project.graphs] == ["Net", "Swish"]
    assert _blocks(imported.graph) == {"act": "Swish", "act1": "Swish"}
    assert "fc.weight" in imported.state_dict


@pytest.mark.parametrize("case", ["residual", "resnet_ish", "cifar_sequential", "branches"])
def test_every_graph_reads_left_to_right_with_a_place_for_each_node(write_source, case):
    imported = _import(write_source, case)
    for graph in imported.project.graphs:
        positions = [n.pos for n in graph.nodes]
        assert len(set(positions)) == len(positions), graph.name
        for e in graph.edges:
            assert graph.node(e.src).pos[0] < graph.node(e.dst).pos[0], graph.name


def test_blocks_and_flat_hold_the_same_weights(write_source):
    with_blocks = _import(write_source, "resnet_ish")
    flat = _import(write_source, "resnet_ish", blocks=False)
    assert len(flat.project.graphs) == 1 and flat.n_blocks == 0
    assert len(with_blocks.state_dict) == len(flat.state_dict) == len(
        with_blocks.original.state_dict())
    assert sum(t.numel() for t in with_blocks.state_dict.values()) == sum(
        t.numel() for t in flat.state_dict.values())
    assert with_blocks.project.meta["imported_from"]["blocks"] is True
    assert flat.project.meta["imported_from"]["blocks"] is False


@pytest.mark.parametrize(("flag", "n_graphs"), [([], 9), (["--blocks"], 9), (["--flat"], 1)])
def test_cli_import_makes_blocks_unless_told_flat(write_source, tmp_path, capsys, flag,
                                                  n_graphs):
    source = write_source(ROUND_TRIPS["resnet_ish"][0], "resnet.py")
    out = tmp_path / "resnet.nnstudio"
    assert main(["import", f"{source}:ResNetish", "--input-shape", "1,3,16,16",
                 "-o", str(out), *flag]) == 0
    printed = capsys.readouterr().out
    project = load_project(out)
    assert len(project.graphs) == n_graphs
    assert project.graphs[0].name == "ResNetish"
    assert ("submodules became blocks" in printed) == (n_graphs > 1)


def test_cli_blocks_and_flat_exclude_each_other(write_source, tmp_path, capsys):
    source = write_source(ROUND_TRIPS["residual"][0], "res.py")
    assert main(["import", f"{source}:TinyResNet", "--input-shape", "1,3,8,8",
                 "-o", str(tmp_path / "r.nnstudio"), "--blocks", "--flat"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
