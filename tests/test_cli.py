"""The `nnstudio` command, weights files and the Python exporter, as a person uses them."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from nnstudio.cli import main
from nnstudio.export.python_source import ExportError, export_python
from nnstudio.graph import Graph, Project, compile_graph, generate
from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import list_templates, load_template, templates_dir
from nnstudio.graph.weights import WeightsError, load_weights, save_weights, weights_path

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, out: str, err: str, *fragments: str) -> None:
    assert rc != 0
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nnstudio: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def template_file(tmp_path):
    def make(name: str) -> Path:
        path = tmp_path / f"{name}.nnstudio"
        save_project(load_template(name), path)
        return path
    return make


def _edited(tmp_path: Path, name: str, edit) -> Path:
    data = json.loads((templates_dir() / f"{name}.nnstudio").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / f"edited-{name}.nnstudio"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _break_shapes(data) -> None:
    # a Conv2d where the MLP's second ReLU was: it cannot take a [B, 16] input
    node = data["graphs"][0]["nodes"][4]
    node["type"], node["params"] = "Conv2d", {}


# ------------------------------------------------------------------- entry points
def test_python_dash_m_nnstudio_lists_the_templates():
    env = {k: v for k, v in os.environ.items() if k != "NNSTUDIO_ASSETS"}
    proc = subprocess.run([sys.executable, "-m", "nnstudio", "templates"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{t.name}\t{t.title}" for t in list_templates()]


def test_templates_prints_name_tab_title(capsys):
    rc, out, err = run(capsys, "templates")
    assert rc == 0 and err == ""
    rows = [line.split("\t") for line in out.splitlines()]
    names = [r[0] for r in rows]
    assert names == [t.name for t in list_templates()]  # roadmap order
    assert names[:2] == ["perceptron", "mlp"]  # the roadmap starts with one neuron
    assert names.index("cnn-digits") < names.index("lenet5") < names.index("fairness")
    assert {"alexnet", "vgg11", "vgg16", "resnet18", "fairness"} <= set(names)
    assert all(len(r) == 2 and r[1] for r in rows)


def test_version_and_help_exit_cleanly(capsys):
    assert run(capsys, "--version")[0] == 0
    rc, out, _ = run(capsys, "--help")
    assert rc == 0
    for name in ("templates", "new", "summary", "export"):
        assert name in out


# ---------------------------------------------------------------------------- gui
@pytest.fixture
def fake_editor(monkeypatch):
    calls = []
    module = types.ModuleType("nnstudio.ui.app")

    def fake_run(path=None):
        calls.append(path)
        return 0

    module.run = fake_run
    monkeypatch.setitem(sys.modules, "nnstudio.ui.app", module)
    return calls


def test_no_arguments_opens_the_editor(capsys, fake_editor):
    assert run(capsys)[0] == 0
    assert fake_editor == [None]


def test_a_file_argument_opens_it_in_the_editor(capsys, fake_editor, template_file):
    path = template_file("mlp")
    assert run(capsys, path)[0] == 0
    assert fake_editor == [str(path)]


def test_without_the_editor_the_gui_fails_in_one_line(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "nnstudio.ui.app", None)  # import raises ImportError
    assert_one_line_error(*run(capsys), "desktop editor cannot start")


# -------------------------------------------------------------------------- new
def test_new_writes_the_template_as_a_project(capsys, tmp_path):
    out_file = tmp_path / "mine.nnstudio"
    rc, _, err = run(capsys, "new", "lenet5", "-o", out_file)
    assert rc == 0 and err == ""
    project = load_project(out_file)
    assert project.title == load_template("lenet5").title
    assert project.training["dataset"]["name"] == "mnist"


def test_new_refuses_to_overwrite_unless_forced(capsys, tmp_path):
    out_file = tmp_path / "mine.nnstudio"
    out_file.write_text("keep me")
    assert_one_line_error(*run(capsys, "new", "mlp", "-o", out_file), "already exists")
    assert out_file.read_text() == "keep me"
    assert run(capsys, "new", "mlp", "-o", out_file, "--force")[0] == 0
    assert load_project(out_file).graph().name == "MLP"


# ---------------------------------------------------------------------- summary
def test_summary_lists_nodes_in_order_and_ends_with_the_total(capsys, template_file):
    path = template_file("lenet5")
    rc, out, err = run(capsys, "summary", path)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[-1] == "total parameters: 61706"
    graph = load_project(path).graph()
    names = [line.split()[0] for line in lines[2:-2]]
    assert names == [graph.node(n).name for n in graph.topological_order()]
    row = {line.split()[0]: line for line in lines[2:-2]}
    assert "Conv2d" in row["conv2"] and "[B, 16, 10, 10]" in row["conv2"]
    assert row["conv2"].split()[-1] == "2416"
    model = compile_graph(graph)
    assert int(lines[-1].split(":")[1]) == sum(p.numel() for p in model.parameters())


def test_summary_names_shape_errors_at_their_node_and_fails(capsys, tmp_path):
    path = _edited(tmp_path, "mlp", _break_shapes)
    rc, out, err = run(capsys, "summary", path)
    assert_one_line_error(rc, out, err, "1 shape error")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[0] == "relu2")
    assert lines[at + 1].strip().startswith("error: Conv2d 'relu2' expects 4-D input")
    assert not any(line.startswith("total parameters: ") and line[-1].isdigit()
                   for line in lines)


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("case, fragment", [
    ("missing", "no such file"),
    ("malformed", "not valid JSON"),
    ("unknown_layer", "unknown layer type 'Perceptron9000'"),
    ("not_a_project", "not an nnstudio project"),
])
def test_bad_project_files_fail_in_one_line(capsys, tmp_path, case, fragment):
    path = tmp_path / f"{case}.nnstudio"
    if case == "malformed":
        path.write_text('{"format": "nnstudio-project", "version": 1,')
    elif case == "unknown_layer":
        def edit(data):
            data["graphs"][0]["nodes"][1]["type"] = "Perceptron9000"
        path = _edited(tmp_path, "mlp", edit)
    elif case == "not_a_project":
        path.write_text('{"hello": "world"}')
    for argv in (["summary", path], ["export", path, "-o", tmp_path / "out.py"]):
        assert_one_line_error(*run(capsys, *argv), fragment)
    assert not (tmp_path / "out.py").exists()


def test_unknown_template_fails_in_one_line_listing_the_choices(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "new", "googlenet", "-o", tmp_path / "a.nnstudio"),
                          "unknown template 'googlenet'", "lenet5")


def test_missing_output_folder_is_named(capsys, tmp_path, template_file):
    assert_one_line_error(*run(capsys, "export", template_file("mlp"), "-o",
                               tmp_path / "nowhere" / "m.py"), "no such folder")


def test_usage_errors_are_one_line(capsys):
    assert_one_line_error(*run(capsys, "summary"), "required")
    assert_one_line_error(*run(capsys, "sumary", "x.nnstudio"), "invalid choice")
    assert_one_line_error(*run(capsys, "sumary"), "nor a command")


# ----------------------------------------------------------------------- export
def _import_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_writes_exactly_the_generated_source(capsys, tmp_path, template_file):
    path = template_file("mlp")
    out_py = tmp_path / "mlp_model.py"
    rc, _, err = run(capsys, "export", path, "-o", out_py)
    assert rc == 0 and err == ""
    assert out_py.read_text(encoding="utf-8") == generate(load_project(path).graph()).source
    assert not out_py.with_suffix(".pt").exists()


def test_export_with_weights_round_trips_to_identical_outputs(capsys, tmp_path, template_file):
    path = template_file("cnn-digits")
    graph = load_project(path).graph()
    torch.manual_seed(1)
    trained = compile_graph(graph).eval()
    w = weights_path(path, graph)
    assert w == tmp_path / "cnn-digits.DigitsCNN.pt"
    save_weights(w, trained.state_dict())

    out_py = tmp_path / "digits_model.py"
    rc, out, err = run(capsys, "export", path, "-o", out_py, "--weights", w)
    assert rc == 0 and err == "", err
    assert "digits_model.pt" in out

    module = _import_file(out_py, "exported_digits_model")
    model = module.DigitsCNN()
    model.load_state_dict(torch.load(out_py.with_suffix(".pt"), weights_only=True))
    model.eval()
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), trained(x))


def test_export_refuses_weights_that_do_not_fit(capsys, tmp_path, template_file):
    mlp = template_file("mlp")
    w = tmp_path / "mlp.pt"
    save_weights(w, compile_graph(load_project(mlp).graph()).state_dict())
    out_py = tmp_path / "model.py"
    # LeNet-5 also has fc1..fc3, but not the MLP's shapes, and it has convolutions
    rc, out, err = run(capsys, "export", template_file("lenet5"), "-o", out_py, "--weights", w)
    assert_one_line_error(rc, out, err, "do not fit LeNet5", "missing conv1.weight, conv1.bias",
                          "shape mismatch: fc1.weight is [16, 2], the model needs [120, 400]")
    rc, out, err = run(capsys, "export", template_file("perceptron"), "-o", out_py,
                       "--weights", w)
    assert_one_line_error(rc, out, err, "missing neuron.weight", "unexpected fc1.weight")
    assert not out_py.exists() and not out_py.with_suffix(".pt").exists()


def test_export_of_a_graph_with_shape_errors_fails_in_one_line(capsys, tmp_path):
    path = _edited(tmp_path, "mlp", _break_shapes)
    assert_one_line_error(*run(capsys, "export", path, "-o", tmp_path / "m.py"),
                          "cannot export 'MLP'", "relu2")


def test_export_picks_a_graph_by_name_when_there_are_several(capsys, tmp_path):
    project = Project("two")
    layers = load_template("perceptron").graph().to_dict()
    for name in ("Generator", "Critic"):
        project.add_graph(Graph.from_dict({**layers, "name": name}))
    path = tmp_path / "two.nnstudio"
    save_project(project, path)
    assert_one_line_error(*run(capsys, "export", path, "-o", tmp_path / "g.py"),
                          "2 graphs (Generator, Critic)")
    rc, out, _ = run(capsys, "export", path, "-o", tmp_path / "c.py", "--graph", "Critic")
    assert rc == 0 and "class Critic" in out
    with pytest.raises(ExportError, match="no graph named 'Nope'"):
        export_python(project, tmp_path / "n.py", graph="Nope")


def test_export_python_takes_a_graph_and_a_state_dict(tmp_path):
    graph = load_template("perceptron").graph()
    model = compile_graph(graph)
    result = export_python(graph, tmp_path / "p.py", weights=model.state_dict())
    assert result.class_name == "Perceptron" and result.weights_path == tmp_path / "p.pt"
    assert set(load_weights(result.weights_path)) == {"neuron.weight", "neuron.bias"}


# ---------------------------------------------------------------------- weights
class RunsCode:
    """Unpickling this calls os.getpid(): any callable could stand in its place."""

    def __reduce__(self):
        return (os.getpid, ())


def test_weights_round_trip_and_leave_no_temporary_files(tmp_path):
    graph = Graph("Tiny Net")
    assert weights_path(tmp_path / "proj.nnstudio", graph) == tmp_path / "proj.TinyNet.pt"
    state = {"a.weight": torch.randn(3, 2), "a.bias": torch.zeros(3)}
    save_weights(tmp_path / "w.pt", state)
    loaded = load_weights(tmp_path / "w.pt")
    assert list(loaded) == list(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt"]


@pytest.mark.parametrize("how", ["torch.save", "pickle.dump"])
def test_weights_that_would_run_code_are_refused(tmp_path, how):
    path = tmp_path / "evil.pt"
    payload = {"fc.weight": torch.zeros(1), "fc.bias": RunsCode()}
    if how == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(WeightsError, match="refused: the file contains code or objects other "
                                           "than tensors"):
        load_weights(path)


def test_random_bytes_are_called_not_a_weights_file_not_code(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(bytes((i * 97 + 13) % 256 for i in range(3000)))
    with pytest.raises(WeightsError, match="not a PyTorch weights file, or it is damaged"):
        load_weights(path)


def test_export_refuses_code_running_weights_in_one_line(capsys, tmp_path, template_file):
    evil = tmp_path / "evil.pt"
    torch.save({"neuron.weight": RunsCode()}, evil)
    out_py = tmp_path / "p.py"
    assert_one_line_error(*run(capsys, "export", template_file("perceptron"), "-o", out_py,
                               "--weights", evil), "evil.pt: refused")
    assert not out_py.exists()


@pytest.mark.parametrize("content, fragment", [
    (lambda p: torch.save([torch.zeros(2)], p), "found list"),
    (lambda p: torch.save({"model": {"w": torch.zeros(2)}, "epoch": 3}, p), "a checkpoint?"),
    (lambda p: torch.save({1: torch.zeros(2)}, p), "names must be text"),
    (lambda p: p.write_bytes(b""), "not a PyTorch weights file"),
    (lambda p: p.write_bytes(b"this is not a weights file at all"), "not a PyTorch weights"),
    (lambda p: p.write_bytes(b"PK\x03\x04" + bytes(64)), "not a PyTorch weights file"),
])
def test_weights_that_are_not_a_flat_state_dict_are_refused(tmp_path, content, fragment):
    path = tmp_path / "w.pt"
    content(path)
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_missing_weights_file_is_named(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        load_weights(tmp_path / "absent.pt")
