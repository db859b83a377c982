"""The shipped templates: each one loads, infers clean, compiles and runs."""

from __future__ import annotations

import itertools
import re

import pytest
import torch

from nnstudio.graph import compile_graph, infer_shapes
from nnstudio.graph.project_file import dumps_project, load_project
from nnstudio.graph.templates import (
    TemplateError,
    list_templates,
    load_template,
    templates_dir,
)
from nnstudio.train import TrainConfig

# the roadmap in order: template -> parameters of its first graph (the network; in a
# project of several networks — VAE, GAN — the first of them)
EXPECTED = {"perceptron": 3, "mlp": 354, "activations": 1_218, "cnn-digits": 38_282,
            "lenet5": 61_706, "alexnet": 61_100_840, "vgg11": 132_863_336,
            "vgg16": 138_357_544, "vgg-digits": 145_610, "resnet18": 11_689_512,
            "resnet-digits": 42_938, "digits-pretrain": 40_069, "transfer-digits": 24_581,
            "lstm-forecast": 4_513, "char-rnn": 98_722, "gru-sequence": 3_459,
            "transformer": 13_354, "autoencoder": 20_816, "vae": 20_752, "gan-2d": 17_154,
            "dcgan-digits": 37_729, "fairness": 226}
# Templates above this size are instantiated on PyTorch's meta device here (their
# parameters are counted, never allocated or run); tests/test_cnn_classics.py builds and
# runs the ImageNet-size ones once each.
RUN_LIMIT = 2_000_000
CONFIG_KEYS = {"recipe", "loss", "optimizer", "lr", "batch_size", "epochs", "seed"}


def test_the_roadmap_templates_are_listed_in_roadmap_order():
    infos = list_templates()
    assert [t.name for t in infos] == list(EXPECTED)
    assert [t.order for t in infos] == sorted(t.order for t in infos)
    for t in infos:
        assert t.path == templates_dir() / f"{t.name}.nnstudio"
        assert t.title.strip()


@pytest.mark.parametrize("name", list(EXPECTED))
def test_template_compiles_and_runs_a_forward_pass(name):
    project = load_template(name)
    graph = project.graph()  # the network; any further graphs are the blocks it uses
    for g in project.graphs:
        assert infer_shapes(g).ok, (g.name, infer_shapes(g).all_errors())
    result = infer_shapes(graph)
    assert result.ok, result.all_errors()
    assert result.total_params == EXPECTED[name]

    if EXPECTED[name] > RUN_LIMIT:
        with torch.device("meta"):
            model = compile_graph(graph)
        assert sum(p.numel() for p in model.parameters()) == EXPECTED[name]
        return
    torch.manual_seed(0)
    model = compile_graph(graph).eval()
    assert sum(p.numel() for p in model.parameters()) == EXPECTED[name]
    (_, shape), = model.nnstudio_code.input_shapes.items()
    source = next(n for n in graph.nodes if n.type == "Input")
    # token ids for an Embedding (Input dtype "long"), values otherwise
    x = (torch.randint(0, 10, (2, *shape)) if source.params.get("dtype") == "long"
         else torch.randn(2, *shape))
    with torch.no_grad():
        outs = model(x)
    outs = outs if isinstance(outs, tuple) else (outs,)  # a VAE encoder gives (mu, logvar)
    assert len(outs) == len(model.nnstudio_code.outputs)
    for out_node, out in zip(model.nnstudio_code.outputs, outs, strict=True):
        expected_shape = result.input_shapes(graph, out_node)[0]
        assert tuple(out.shape) == (2,) + tuple(expected_shape[1:])
        assert torch.isfinite(out).all()


def test_lenet5_has_the_classic_61706_parameters():
    graph = load_template("lenet5").graph()
    assert infer_shapes(graph).total_params == 61706
    model = compile_graph(graph)
    assert sum(p.numel() for p in model.parameters()) == 61706
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes[:2] == [(6, 1, 5, 5), (6,)]  # conv1: 6 filters of 5x5, padded to keep 28x28


@pytest.mark.parametrize("name", list(EXPECTED))
def test_template_is_documented_laid_out_and_named_for_a_reader(name):
    project = load_template(name)
    graph = project.graph()
    # one paragraph, long enough to say what it is and what to watch
    assert "\n" not in project.description and len(project.description) > 300
    assert isinstance(project.meta["order"], int) and project.meta["stage"]
    # left to right in the order data flows, about 220 px apart, on one row (a network
    # that branches — the VAE's encoder — still flows left to right, edge by edge)
    if all(len(graph.out_edges(n.id)) <= 1 for n in graph.nodes):
        xs = [graph.node(nid).pos[0] for nid in graph.topological_order()]
        steps = [b - a for a, b in itertools.pairwise(xs)]
        assert all(180 <= s <= 260 for s in steps), steps
    for e in graph.edges:
        assert graph.node(e.dst).pos[0] > graph.node(e.src).pos[0], (graph.name, e)
    for g in project.graphs:
        for node in g.nodes:  # conv1, fc2, relu3: names that read well in the code
            assert re.fullmatch(r"[a-z][a-z0-9_]*", node.name), (g.name, node.name)
    for g in project.graphs[1:]:  # block graphs may branch, but still flow left to right
        for e in g.edges:
            assert g.node(e.dst).pos[0] > g.node(e.src).pos[0], (g.name, e)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_template_says_what_to_train_it_on(name):
    training = load_template(name).training
    assert {"dataset", "config"} <= set(training) <= {"dataset", "config", "graphs"}
    assert isinstance(training["dataset"]["name"], str)
    config = training["config"]
    # the usual keys, and any other a recipe needs (the VAE's KL weight and warm-up)
    assert CONFIG_KEYS <= set(config) <= set(TrainConfig.__dataclass_fields__)
    assert config["lr"] > 0 and config["batch_size"] >= 1 and config["epochs"] >= 1


@pytest.mark.parametrize("name", list(EXPECTED))
def test_template_options_are_ones_the_data_and_trainer_accept(name):
    registry = pytest.importorskip("nnstudio.data.registry")
    config_mod = pytest.importorskip("nnstudio.train.config")
    import nnstudio.data  # noqa: F401  (registers the loaders)

    training = load_template(name).training
    options = dict(training["dataset"])
    entry = registry.get_dataset(options.pop("name"))
    for opt in entry.options:  # a folder the person must pick is left empty in a template
        if opt.required and options.get(opt.name) == "":
            options[opt.name] = "/path/chosen/by/the/person"
    entry.resolve(options)  # raises on an unknown or ill-typed option
    config_mod.TrainConfig.from_dict(training["config"])


@pytest.mark.parametrize("name", list(EXPECTED))
def test_template_file_is_exactly_what_saving_it_writes(name):
    # so opening a template and saving it unchanged changes nothing
    path = templates_dir() / f"{name}.nnstudio"
    assert dumps_project(load_project(path)) == path.read_text(encoding="utf-8")


def test_unknown_template_names_the_available_ones():
    with pytest.raises(TemplateError, match="unknown template 'resnet'.*perceptron, mlp"):
        load_template("resnet")


def test_a_path_is_not_a_template_name():
    with pytest.raises(TemplateError):
        load_template("../templates/mlp")


def _write_template(folder, name, order=None):
    project = load_template("perceptron")
    project.title = f"title of {name}"
    project.meta = {} if order is None else {"order": order}
    (folder / f"{name}.nnstudio").write_text(dumps_project(project), encoding="utf-8")


def test_assets_folder_can_be_moved_and_order_comes_before_name(tmp_path, monkeypatch):
    folder = tmp_path / "templates"
    folder.mkdir()
    _write_template(folder, "b", order=2)
    _write_template(folder, "a")
    _write_template(folder, "c", order=1)
    _write_template(folder, "d")
    monkeypatch.setenv("NNSTUDIO_ASSETS", str(tmp_path))
    assert templates_dir() == folder
    assert [t.name for t in list_templates()] == ["c", "b", "a", "d"]
    assert load_template("a").title == "title of a"


def test_no_templates_folder_means_no_templates(tmp_path, monkeypatch):
    monkeypatch.setenv("NNSTUDIO_ASSETS", str(tmp_path))
    assert list_templates() == []
    with pytest.raises(TemplateError, match="available: none"):
        load_template("mlp")
