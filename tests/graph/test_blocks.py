"""Blocks: a node that runs another graph, written as a nested nn.Module class.

The document keeps blocks in step with the graphs they run (ports, renames, deletes,
self-containment); inference runs the inner graph with the shapes that arrive; the
generated file has one class per block graph, before its users; weights sit under the
block's name; a block can reuse another project's trained network.
"""

from __future__ import annotations

import importlib.util
import itertools
import json

import pytest
import torch
from graph_testkit import as_tuple, check_shapes_and_counts, example_inputs, n_params

from nnstudio.graph import (
    CodegenError,
    Graph,
    GraphError,
    Project,
    ShapeInference,
    compile_graph,
    generate,
    infer_shapes,
)
from nnstudio.graph.blocks import clear_caches, relative_source, top_level_graphs
from nnstudio.graph.collapse import plan_collapse, plan_expand
from nnstudio.graph.project_file import (
    ProjectFileError,
    dumps_project,
    load_project,
    loads_project,
    save_project,
)
from nnstudio.graph.transfer import load_matching_weights
from nnstudio.graph.weights import save_weights, weights_path


def wire(g: Graph, *nodes):
    """Connect ``nodes`` in a chain through their first ports."""
    for a, b in itertools.pairwise(nodes):
        out = a.spec.output_ports(a.params)[0].name
        inp = b.spec.input_ports(b.params)[0].name
        g.connect(a.id, out, b.id, inp)
    return nodes[-1]


def stage(project: Project, name="Stage", channels=8, shape=(3, 16, 16)) -> Graph:
    """conv3x3 (padding 1) → ReLU → 2x2 max-pool, as graph ``name`` of ``project``."""
    g = project.add_graph(Graph(name))
    wire(g, g.add_node("Input", "x", {"shape": shape}),
         g.add_node("Conv2d", "conv1", {"out_channels": channels, "padding": 1}),
         g.add_node("ReLU", "relu"), g.add_node("MaxPool2d", "pool"),
         g.add_node("Output", "out"))
    return g


def vgg_like(stages=("stage1", "stage2", "stage3")) -> tuple[Project, Graph]:
    """Net: x [3, 32, 32] → a Stage block per name → flatten → fc(10); Stage: 8 filters."""
    p = Project("vgg-like")
    net = p.add_graph(Graph("Net"))
    stage(p)
    nodes = [net.add_node("Input", "x", {"shape": (3, 32, 32)})]
    nodes += [net.add_node("Block", s, {"graph": "Stage"}) for s in stages]
    nodes += [net.add_node("Flatten", "flat"), net.add_node("Linear", "fc", {"out_features": 10}),
              net.add_node("Output", "y")]
    wire(net, *nodes)
    return p, net


def residual(project: Project, name="Residual", features=6) -> Graph:
    """x → fc → relu → add(x) → out: a residual block on [B, features]."""
    g = project.add_graph(Graph(name))
    x = g.add_node("Input", "x", {"shape": (features,)})
    relu = wire(g, x, g.add_node("Linear", "fc", {"out_features": features}),
                g.add_node("ReLU", "relu"))
    add = g.add_node("Add", "add")
    g.connect(relu.id, "out", add.id, "in1")
    g.connect(x.id, "out", add.id, "in2")
    wire(g, add, g.add_node("Output", "out"))
    return g


# ----------------------------------------------------------------------------- ports
def test_a_block_takes_its_ports_from_the_inputs_and_outputs_of_its_graph():
    p = Project()
    net = p.add_graph(Graph("Net"))
    two = p.add_graph(Graph("Two"))
    for name in ("image", "mask"):
        two.add_node("Input", name, {"shape": (4,)})
    two.add_node("Output", "score")
    block = net.add_node("Block", "b", {"graph": "Two"})
    assert [q.name for q in block.spec.input_ports(block.params)] == ["image", "mask"]
    assert [q.name for q in block.spec.output_ports(block.params)] == ["score"]
    assert block.params["inputs"] == ("image", "mask")


def test_a_block_is_shape_polymorphic_its_inner_input_shape_is_only_a_default():
    p, net = vgg_like()
    res = infer_shapes(net)
    assert res.ok, res.all_errors()
    ids = {n.name: n.id for n in net.nodes}
    assert res.output_shape(ids["stage1"]) == ("B", 8, 16, 16)
    assert res.output_shape(ids["stage2"]) == ("B", 8, 8, 8)
    assert res.output_shape(ids["stage3"]) == ("B", 8, 4, 4)
    # each use counts the inner graph's parameters at its own input: 3 then 8 channels
    assert res.param_counts[ids["stage1"]] == 3 * 8 * 9 + 8
    assert res.param_counts[ids["stage2"]] == 8 * 8 * 9 + 8
    # the inner graph on its own still uses its Input's shape
    assert infer_shapes(p.graph("Stage")).output_shape(p.graph("Stage").find("pool").id) \
        == ("B", 8, 8, 8)
    model, _ = check_shapes_and_counts(net)
    assert n_params(model) == res.total_params


def test_generated_code_has_one_class_per_block_graph_with_natural_weight_names():
    _, net = vgg_like()
    code = generate(net)
    src = code.source
    assert code.block_classes == ["Stage"]
    assert src.count("class Stage(nn.Module):") == 1
    assert src.index("class Stage(") < src.index("class Net(")
    # the first use takes 3 channels, the others 8: one class, built with the number
    assert "def __init__(self, in_channels):" in src
    assert "nn.Conv2d(in_channels, 8, kernel_size=3, padding=1)" in src
    assert "self.stage1 = Stage(in_channels=3)" in src
    assert "self.stage2 = Stage(in_channels=8)" in src
    assert "x = self.conv1(x)  # [B, 8, ?, ?]" in src  # sizes differ between the uses
    model = compile_graph(net)
    assert "stage1.conv1.weight" in model.state_dict()
    assert model.nnstudio_code.attrs[net.find("stage2").id] == "stage2"


def test_uses_with_the_same_code_share_a_class_without_arguments():
    p = Project()
    net = p.add_graph(Graph("Net"))
    residual(p)
    nodes = [net.add_node("Input", "x", {"shape": (6,)}),
             net.add_node("Block", "block1", {"graph": "Residual"}),
             net.add_node("Block", "block2", {"graph": "Residual"}),
             net.add_node("Output", "y")]
    wire(net, *nodes)
    src = generate(net).source
    assert "class Residual(nn.Module):\n" in src and "def __init__(self):" in src
    assert "self.block1 = Residual()" in src and "self.block2 = Residual()" in src
    assert "used as block1, block2" in src
    check_shapes_and_counts(net)


def test_exported_file_with_blocks_loads_the_app_weights_and_gives_identical_outputs(tmp_path):
    _, net = vgg_like()
    torch.manual_seed(0)
    model = compile_graph(net).eval()
    with torch.no_grad():
        for t in model.state_dict().values():
            t.add_(torch.randn_like(t) * 0.1)
    assert generate(net).source == model.nnstudio_code.source  # export writes what trains
    file = tmp_path / "net.py"
    file.write_text(model.nnstudio_code.source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("exported_net", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exported = module.Net().eval()
    exported.load_state_dict(model.state_dict(), strict=True)
    x = example_inputs(net, batch=2)
    with torch.no_grad():
        assert torch.equal(model(*x), exported(*x))


def test_a_block_with_several_inputs_and_outputs_returns_a_tuple():
    p = Project()
    net = p.add_graph(Graph("Net"))
    heads = p.add_graph(Graph("Heads"))
    a = heads.add_node("Input", "a", {"shape": (4,)})
    b = heads.add_node("Input", "b", {"shape": (4,)})
    mul = heads.add_node("Multiply", "mul")
    heads.connect(a.id, "out", mul.id, "in1")
    heads.connect(b.id, "out", mul.id, "in2")
    wire(heads, mul, heads.add_node("Linear", "fc", {"out_features": 2}),
         heads.add_node("Output", "logits"))
    wire(heads, a, heads.add_node("Output", "echo"))
    x1 = net.add_node("Input", "x1", {"shape": (4,)})
    x2 = net.add_node("Input", "x2", {"shape": (4,)})
    block = net.add_node("Block", "heads", {"graph": "Heads"})
    net.connect(x1.id, "out", block.id, "a")
    net.connect(x2.id, "out", block.id, "b")
    for port in ("logits", "echo"):
        out = net.add_node("Output", f"y_{port}")
        net.connect(block.id, port, out.id, "in")
    src = generate(net).source
    assert "heads_logits, heads_echo = self.heads(x1, x2)  # [B, 2], [B, 4]" in src
    assert "return mul, a" in src  # one output straight from an Input
    check_shapes_and_counts(net)


def test_blocks_nest_and_their_weights_sit_under_both_names():
    p, _ = vgg_like(("stage1",))
    outer = p.add_graph(Graph("Twice"))
    wire(outer, outer.add_node("Input", "x", {"shape": (3, 32, 32)}),
         outer.add_node("Block", "first", {"graph": "Stage"}),
         outer.add_node("Block", "second", {"graph": "Stage"}),
         outer.add_node("Output", "out"))
    top = p.add_graph(Graph("Top"))
    wire(top, top.add_node("Input", "x", {"shape": (3, 32, 32)}),
         top.add_node("Block", "body", {"graph": "Twice"}),
         top.add_node("Flatten", "flat"), top.add_node("Output", "y"))
    code = generate(top)
    assert code.block_classes == ["Stage", "Twice"]  # dependency order
    model, res = check_shapes_and_counts(top)
    assert "body.second.conv1.weight" in model.state_dict()
    assert res.total_params == 3 * 8 * 9 + 8 + 8 * 8 * 9 + 8


def test_a_long_input_block_passes_on_what_its_graph_gives():
    p = Project()
    net = p.add_graph(Graph("Net"))
    enc = p.add_graph(Graph("Encoder"))
    wire(enc, enc.add_node("Input", "tokens", {"shape": (5,), "dtype": "long"}),
         enc.add_node("Embedding", "embed", {"num_embeddings": 12, "embedding_dim": 4}),
         enc.add_node("Output", "out"))
    wire(net, net.add_node("Input", "ids", {"shape": (5,), "dtype": "long"}),
         net.add_node("Block", "encoder", {"graph": "Encoder"}),
         net.add_node("Linear", "fc", {"out_features": 3}),  # takes real values: fine
         net.add_node("Output", "y"))
    res = infer_shapes(net)
    assert res.ok, res.all_errors()
    assert res.dtypes[(net.find("encoder").id, "out")] == "float"
    check_shapes_and_counts(net)
    # real values into a graph that reads token ids are refused, by the block
    bad = p.add_graph(Graph("Bad"))
    wire(bad, bad.add_node("Input", "x", {"shape": (5,)}),
         bad.add_node("Block", "encoder", {"graph": "Encoder"}), bad.add_node("Output", "y"))
    (err,) = infer_shapes(bad).all_errors()
    assert "input 'tokens' takes integer token ids" in err.message


def test_a_block_names_the_inner_problem_when_its_graph_cannot_take_the_input():
    p = Project()
    net = p.add_graph(Graph("Net"))
    residual(p, features=6)
    wire(net, net.add_node("Input", "x", {"shape": (5,)}),
         net.add_node("Block", "res", {"graph": "Residual"}), net.add_node("Output", "y"))
    (err,) = infer_shapes(net).all_errors()
    assert err.message.startswith("Block 'res' cannot run 'Residual' on [B, 5]: Add 'add'")
    with pytest.raises(CodegenError, match="Block 'res'"):
        generate(net)


# ----------------------------------------------------------------------------- document
def test_a_block_cannot_contain_itself_directly_or_through_others():
    p, _ = vgg_like()
    st = p.graph("Stage")
    with pytest.raises(GraphError, match="a block cannot contain itself"):
        st.add_node("Block", "me", {"graph": "Stage"})
    with pytest.raises(GraphError, match="'Stage' → 'Net' → 'Stage' would make a block "
                                         "contain itself"):
        st.add_node("Block", "loop", {"graph": "Net"})
    other = p.add_graph(Graph("Other"))
    b = other.add_node("Block", "b")  # no graph yet
    with pytest.raises(GraphError, match="contain itself"):
        other.set_params(b.id, {"graph": "Other"})
    assert b.params["graph"] == ""


def test_a_file_whose_block_contains_itself_is_refused_with_the_place():
    p, _ = vgg_like(("stage1",))
    data = json.loads(dumps_project(p))
    stage_graph = data["graphs"][1]
    stage_graph["nodes"].append({"id": "loop", "type": "Block", "name": "loop",
                                 "params": {"graph": "Net"}, "pos": [0, 0]})
    with pytest.raises(ProjectFileError, match=r"graphs\[0\]\.nodes\[1\]\.params\.graph: "
                                               r"block 'stage1' would contain itself "
                                               r"\('Net' → 'Stage' → 'Net'\)"):
        loads_project(json.dumps(data), "p.nnstudio")


def test_a_graph_that_a_block_uses_cannot_be_deleted_until_the_block_is_gone():
    p, net = vgg_like(("stage1",))
    with pytest.raises(GraphError, match="graph 'Stage' is used by block 'stage1' in 'Net'"):
        p.remove_graph("Stage")
    net.remove_node(net.find("stage1").id)
    p.remove_graph("Stage")
    assert [g.name for g in p.graphs] == ["Net"]


def test_renaming_a_graph_renames_the_blocks_that_run_it_and_back():
    p, net = vgg_like()
    p.graph("Stage").rename("VGG Stage")
    assert {n.params["graph"] for n in net.block_nodes()} == {"VGG Stage"}
    assert infer_shapes(net).ok
    assert "class VGGStage(nn.Module)" in generate(net).source
    p.graph("VGG Stage").rename("Stage")
    assert {n.params["graph"] for n in net.block_nodes()} == {"Stage"}


def test_editing_the_inner_graph_updates_the_blocks_and_their_inference():
    p, net = vgg_like()
    inference = ShapeInference(net)
    before = inference.run().total_params
    st = p.graph("Stage")
    st.set_params(st.find("conv1").id, {"out_channels": 16})
    after = inference.run()
    assert after.ok and after.total_params > before
    assert after.output_shape(net.find("stage3").id) == ("B", 16, 4, 4)
    assert after.total_params == infer_shapes(net).total_params  # incremental == fresh


def test_renaming_an_inner_input_renames_the_port_and_moves_its_wires():
    p, net = vgg_like(("stage1",))
    st = p.graph("Stage")
    block = net.find("stage1")
    st.rename_node(st.find("x").id, "image")
    assert block.params["inputs"] == ("image",)
    assert [e.dst_port for e in net.in_edges(block.id)] == ["image"]
    assert infer_shapes(net).ok
    st.rename_node(st.find("image").id, "x")  # and back, as undo would
    assert [e.dst_port for e in net.in_edges(block.id)] == ["x"]


def test_a_wire_on_a_port_the_graph_lost_is_an_error_until_the_port_returns():
    p, net = vgg_like(("stage1",))
    st = p.graph("Stage")
    x = st.find("x")
    record = (x.id, x.params, x.pos)
    edges = st.remove_node(x.id)
    (err, *_) = infer_shapes(net).all_errors()
    assert err.message == ("Block 'stage1' has a wire on input 'x' (wired from 'x'), a port "
                           "its graph no longer has: remove that wire")
    st.add_node("Input", "x", record[1], record[2], node_id=record[0], index=0)
    for e in edges:
        st.connect(e.src, e.src_port, e.dst, e.dst_port)
    assert infer_shapes(net).ok


def test_a_second_inner_input_adds_a_port_that_must_be_wired():
    p, net = vgg_like(("stage1",))
    st = p.graph("Stage")
    st.add_node("Input", "skip", {"shape": (8, 8, 8)})
    block = net.find("stage1")
    assert block.params["inputs"] == ("x", "skip")
    (err,) = infer_shapes(net).all_errors()
    assert err.message == "Block 'stage1' has nothing connected to input 'skip'"


def test_a_block_that_runs_no_graph_or_a_missing_one_says_so():
    p = Project()
    net = p.add_graph(Graph("Net"))
    b = net.add_node("Block", "b")
    assert infer_shapes(net).all_errors()[0].message == \
        "Block 'b' runs no graph yet: choose one of the project's graphs"
    lone = Graph("Lone")
    wire(lone, lone.add_node("Input", "x", {"shape": (2,)}),
         lone.add_node("Block", "b", {"graph": "Net", "inputs": ("x",), "outputs": ("out",)}))
    assert "belongs to no project" in infer_shapes(lone).all_errors()[0].message
    assert b.spec.input_ports(b.params) == ()


def test_project_file_keeps_blocks_and_their_ports(tmp_path):
    p, net = vgg_like()
    path = tmp_path / "vgg.nnstudio"
    save_project(p, path)
    data = json.loads(path.read_text())
    block = next(n for n in data["graphs"][0]["nodes"] if n["type"] == "Block")
    assert block["params"] == {"graph": "Stage", "source": "", "inputs": ["x"],
                               "outputs": ["out"]}
    again = load_project(path)
    assert dumps_project(again) == path.read_text()
    assert infer_shapes(again.graph()).total_params == infer_shapes(net).total_params
    assert again.folder == tmp_path.resolve()


def test_a_hand_edited_file_gets_ports_from_the_graph_again():
    p, _ = vgg_like(("stage1",))
    data = json.loads(dumps_project(p))
    data["graphs"][1]["nodes"][-1]["name"] = "result"  # the Stage's Output, renamed by hand
    data["graphs"][0]["edges"] = [e for e in data["graphs"][0]["edges"]
                                  if e["src"] != "n2"]  # unwire the block's old output
    again = loads_project(json.dumps(data))
    assert again.graph().find("stage1").params["outputs"] == ("result",)


def test_summary_totals_count_only_the_networks_not_their_block_graphs():
    p, _ = vgg_like()
    assert [g.name for g in top_level_graphs(p)] == ["Net"]


# ----------------------------------------------------------------------------- collapse
def test_collapse_plan_makes_inputs_and_outputs_from_the_wires_that_cross():
    g = Graph("Net")
    p = Project()
    p.add_graph(g)
    x = g.add_node("Input", "x", {"shape": (3, 8, 8)})
    conv = g.add_node("Conv2d", "conv", {"out_channels": 4, "padding": 1})
    relu = g.add_node("ReLU", "relu")
    pool = g.add_node("MaxPool2d", "pool")
    y = g.add_node("Output", "y")
    y2 = g.add_node("Output", "skip")
    wire(g, x, conv, relu, pool, y)
    g.connect(relu.id, "out", y2.id, "in")
    plan = plan_collapse(g, [relu.id, conv.id], infer_shapes(g), "Stage")
    inputs = [n for n in plan.graph["nodes"] if n["type"] == "Input"]
    outputs = [n for n in plan.graph["nodes"] if n["type"] == "Output"]
    assert [(n["name"], n["params"]["shape"]) for n in inputs] == [("x", [3, 8, 8])]
    assert [n["name"] for n in outputs] == ["out"]  # one tensor leaves, used twice
    assert plan.wires_in == [(x.id, "out", "x")]
    assert sorted(plan.wires_out) == sorted([("out", pool.id, "in"), ("out", y2.id, "in")])
    with pytest.raises(GraphError, match="Input and Output nodes stay"):
        plan_collapse(g, [x.id, conv.id], infer_shapes(g), "S")
    with pytest.raises(GraphError, match="'relu' lies between selected layers"):
        plan_collapse(g, [conv.id, pool.id], infer_shapes(g), "S")


def test_expand_plan_wires_the_inner_layers_as_the_block_was():
    _, net = vgg_like(("stage1",))
    plan = plan_expand(net, net.find("stage1").id)
    assert [n["name"] for n in plan.fragment["nodes"]] == ["conv1", "relu", "pool"]
    ends = {(w[0], w[3], w[4]) for w in plan.wires}
    assert (net.find("x").id, "in", "dst") in ends  # x → conv1
    assert any(w[2] == net.find("flat").id for w in plan.wires)  # pool → flat


# ----------------------------------------------------------------------------- other projects
@pytest.fixture
def pretrained(tmp_path):
    """A trained project on disk: library/digits.nnstudio with graph "Features" and
    its weights digits.Features.pt."""
    folder = tmp_path / "library"
    folder.mkdir()
    lib = Project("digits")
    g = lib.add_graph(Graph("Features"))
    wire(g, g.add_node("Input", "x", {"shape": (8,)}),
         g.add_node("Linear", "fc", {"out_features": 4}), g.add_node("Tanh", "tanh"),
         g.add_node("Output", "features"))
    path = folder / "digits.nnstudio"
    save_project(lib, path)
    torch.manual_seed(3)
    state = compile_graph(g).state_dict()
    save_weights(weights_path(path, g), state)
    clear_caches()
    return path, state


def transfer_project(tmp_path, source: str) -> tuple[Project, Graph]:
    p = Project("transfer")
    p.folder = tmp_path
    net = p.add_graph(Graph("Net"))
    wire(net, net.add_node("Input", "x", {"shape": (8,)}),
         # the ports are those of "Features" (the document derives them when it can)
         net.add_node("Block", "backbone", {"source": source, "graph": "Features",
                                            "inputs": ("x",), "outputs": ("features",)}),
         net.add_node("Linear", "head", {"out_features": 2}), net.add_node("Output", "y"))
    return p, net


def test_a_block_reuses_another_projects_network_and_its_trained_weights(tmp_path, pretrained):
    path, state = pretrained
    source = relative_source(tmp_path, path)
    assert source == "library/digits.nnstudio"
    _, net = transfer_project(tmp_path, source)
    block = net.find("backbone")
    assert block.params["inputs"] == ("x",) and block.params["outputs"] == ("features",)
    res = infer_shapes(net)
    assert res.ok, res.all_errors()
    assert res.param_counts[block.id] == 8 * 4 + 4
    model = compile_graph(net)
    for k, v in state.items():
        assert torch.equal(model.backbone.state_dict()[k], v)
    assert "A network reused from another project" in model.nnstudio_code.source
    # frozen like any node: the trainer's freeze reaches every tensor of the block
    from nnstudio.train.project_run import _apply_freeze

    net.set_training_flags(block.id, frozen=True)
    _apply_freeze(net, model)
    assert not any(q.requires_grad for q in model.backbone.parameters())
    assert all(q.requires_grad for q in model.head.parameters())


@pytest.mark.usefixtures("pretrained")
def test_saving_elsewhere_keeps_pointing_at_the_same_source_file(tmp_path):
    p, net = transfer_project(tmp_path, "library/digits.nnstudio")
    (tmp_path / "deeper" / "down").mkdir(parents=True)
    save_project(p, tmp_path / "deeper" / "down" / "t.nnstudio")
    assert net.find("backbone").params["source"] == "../../library/digits.nnstudio"
    again = load_project(tmp_path / "deeper" / "down" / "t.nnstudio")
    assert infer_shapes(again.graph()).ok


def test_reused_weights_that_are_missing_or_do_not_fit_stop_the_compile(tmp_path, pretrained):
    path, _ = pretrained
    _, net = transfer_project(tmp_path, "library/digits.nnstudio")
    wfile = weights_path(path, load_project(path).graph())
    wfile.unlink()
    with pytest.raises(CodegenError, match="weights file digits.Features.pt is not beside"):
        compile_graph(net)
    save_weights(wfile, {"fc.weight": torch.zeros(3, 8)})
    with pytest.raises(CodegenError, match=r"does not fit the graph it runs \(not in the file"):
        compile_graph(net)


def test_a_source_must_be_a_relative_project_path_that_exists(tmp_path, pretrained):
    for source, fragment in (("/etc/passwd.nnstudio", "must be a path relative"),
                             ("library/digits.txt", "must name a .nnstudio project file"),
                             ("nowhere/x.nnstudio", "which does not exist")):
        _, net = transfer_project(tmp_path, source)
        (err, *_) = infer_shapes(net).all_errors()
        assert fragment in err.message, err.message
    unsaved = Project()
    net = unsaved.add_graph(Graph("Net"))
    wire(net, net.add_node("Input", "x", {"shape": (2,)}),
         net.add_node("Block", "b", {"source": "a.nnstudio", "graph": "G", "inputs": ("x",),
                                     "outputs": ("y",)}))
    assert "save it first" in infer_shapes(net).all_errors()[0].message


def test_projects_that_reuse_each_other_are_reported_not_recursed(tmp_path):
    a, b = Project("a"), Project("b")
    for project, other in ((a, "b.nnstudio"), (b, "a.nnstudio")):
        g = project.add_graph(Graph("G"))
        wire(g, g.add_node("Input", "x", {"shape": (4,)}),
             g.add_node("Block", "other", {"source": other, "graph": "G", "inputs": ("x",),
                                           "outputs": ("y",)}),
             g.add_node("Output", "y"))
    save_project(a, tmp_path / "a.nnstudio")
    save_project(b, tmp_path / "b.nnstudio")
    clear_caches()
    errors = infer_shapes(load_project(tmp_path / "a.nnstudio").graph()).all_errors()
    assert errors and "a block cannot contain itself" in errors[0].message


# ----------------------------------------------------------------------------- weights
def test_load_matching_weights_loads_what_fits_and_lists_the_rest():
    _, net = vgg_like()
    model = compile_graph(net)
    donor = {k: torch.full_like(v, 0.5) for k, v in model.state_dict().items()}
    donor["fc.weight"] = torch.zeros(3, 128)  # a head for three classes
    del donor["fc.bias"]
    donor["extra.weight"] = torch.zeros(1)
    report = load_matching_weights(model, donor)
    assert report.missing == ["fc.bias"]
    assert report.unexpected == ["extra.weight"]
    assert report.mismatched == [("fc.weight", (10, 128), (3, 128))]
    assert "stage1.conv1.weight" in report.loaded and not report.complete
    assert torch.all(model.stage1.conv1.weight == 0.5)
    assert not torch.all(model.fc.weight == 0)
    assert "fc.weight: the model needs [10, 128], the file has [3, 128]" in str(report)


def test_load_matching_weights_reads_a_weights_file(tmp_path):
    _, net = vgg_like(("stage1",))
    torch.manual_seed(0)
    a, b = compile_graph(net), compile_graph(net)
    save_weights(tmp_path / "w.pt", a.state_dict())
    report = load_matching_weights(b, tmp_path / "w.pt")
    assert report.complete
    x = example_inputs(net, batch=2)
    with torch.no_grad():
        assert torch.equal(as_tuple(a(*x))[0], as_tuple(b(*x))[0])
