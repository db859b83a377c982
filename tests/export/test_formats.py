"""TorchScript and ONNX exports load back and give the model's outputs: every template,
models imported from PyTorch code, and the command line that writes them."""

from __future__ import annotations

import pytest
import torch
from export_models import ROUND_TRIPS

from nnstudio.cli import main
from nnstudio.export.importer import import_pytorch, save_imported
from nnstudio.export.loaded_model import example_inputs, flat_outputs, load_model
from nnstudio.export.python_source import ExportError
from nnstudio.export.torchscript import export_torchscript
from nnstudio.graph import Graph
from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import list_templates, load_template
from nnstudio.graph.weights import save_weights


def _template_models():
    """Each template's models: its graphs that no other graph of it uses as a block."""
    for info in list_templates():
        project = load_template(info.name)
        blocks = {n.params.get("graph") for g in project.graphs for n in g.nodes
                  if n.type == "Block" and not n.params.get("source")}
        for graph in project.graphs:
            if graph.name not in blocks:
                yield pytest.param(info.name, graph.name, id=f"{info.name}-{graph.name}")


def _seeded_reference(project, graph_name, batch=2):
    """Inputs and the compiled model's outputs, with the initial weights of seed 0 (the
    export below is made from the same seed: its file must carry exactly those)."""
    torch.manual_seed(0)
    loaded = load_model(project, graph=graph_name)
    inputs = example_inputs(loaded, batch=batch, seed=11)
    with torch.no_grad():
        return inputs, flat_outputs(loaded.model(*inputs))


def _assert_same(want, got):
    assert len(want) == len(got)
    for a, b in zip(want, got):
        b = torch.as_tensor(b)
        scale = max(1.0, float(a.abs().max()))  # large outputs differ in their last digits
        torch.testing.assert_close(b, a, rtol=0, atol=1e-5 * scale)


@pytest.mark.filterwarnings("ignore:.*torch.jit.load.*:DeprecationWarning")
@pytest.mark.parametrize(("template", "graph_name"), list(_template_models()))
def test_every_template_exports_to_torchscript_that_loads_back_the_same(
        template, graph_name, tmp_path):
    project = load_template(template)
    torch.manual_seed(0)
    result = export_torchscript(project, tmp_path / "model.pt", graph=graph_name)
    assert result.method == "script"
    reloaded = torch.jit.load(str(result.path)).eval()
    inputs, want = _seeded_reference(project, graph_name)
    with torch.no_grad():
        _assert_same(want, flat_outputs(reloaded(*inputs)))


@pytest.mark.parametrize(("template", "graph_name"), list(_template_models()))
def test_every_template_exports_to_onnx_that_loads_back_the_same(template, graph_name,
                                                                  tmp_path):
    onnx = pytest.importorskip("onnx")
    from nnstudio.export.onnx_export import export_onnx

    project = load_template(template)
    torch.manual_seed(0)
    result = export_onnx(project, tmp_path / "model.onnx", graph=graph_name)
    model = onnx.load(str(result.path))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == [
        arg for _nid, arg in load_model(project, graph=graph_name).code.inputs]
    del model
    ort = pytest.importorskip("onnxruntime")
    assert result.runtime_checked
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    inputs, want = _seeded_reference(project, graph_name, batch=3)  # the batch stays free
    got = session.run(None, {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)})
    _assert_same(want, got)


def _trained_like_weights(project, graph_name, seed=3):
    """Weights other than the initial ones, so an export that dropped them would show."""
    torch.manual_seed(seed)
    model = load_model(project, graph=graph_name).model
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 + 0.1 * torch.randn_like(p))
    return model.state_dict()


@pytest.mark.parametrize("case", ["embed_lstm", "transformer", "residual", "resnet_ish"])
def test_imported_models_export_to_torchscript_and_onnx(case, write_source, tmp_path):
    source, cls, shape = ROUND_TRIPS[case]
    imported = import_pytorch(write_source(source), cls, [shape])
    saved = save_imported(imported, tmp_path / "m.nnstudio")
    project = load_project(saved.project_path)
    ts = export_torchscript(project, tmp_path / "m.pt", weights=saved.weights_path)
    assert ts.max_difference <= 1e-5
    if pytest.importorskip("onnx", reason="the onnx extra is not installed"):
        from nnstudio.export.onnx_export import export_onnx

        result = export_onnx(project, tmp_path / "m.onnx", weights=saved.weights_path)
        assert result.path.is_file()
        if result.runtime_checked:
            assert result.max_difference <= 1e-5


def test_a_graph_scripting_refuses_is_traced_instead(tmp_path):
    g = Graph("Bi")
    x = g.add_node("Input", "x", {"shape": (5, 4)})
    rnn = g.add_node("GRU", "gru", {"hidden_size": 3, "bidirectional": True, "output": "hidden"})
    out = g.add_node("Output", "y")
    g.connect(x.id, "out", rnn.id, "in")
    g.connect(rnn.id, "out", out.id, "in")
    result = export_torchscript(g, tmp_path / "bi.pt")
    assert result.method == "trace" and result.fallback_reason
    with pytest.raises(ExportError, match="cannot script"):
        export_torchscript(g, tmp_path / "no.pt", method="script")
    assert not (tmp_path / "no.pt").exists()


def test_weights_that_do_not_fit_are_refused_before_writing(tmp_path):
    project = load_template("mlp")
    with pytest.raises(ExportError, match="do not fit"):
        export_torchscript(project, tmp_path / "m.pt", weights={"fc1.weight": torch.zeros(1)})
    assert not (tmp_path / "m.pt").exists()


def test_onnx_without_the_package_says_how_to_get_it(monkeypatch, tmp_path):
    from nnstudio.export import onnx_export

    monkeypatch.setattr(onnx_export, "onnx_available", lambda: False)
    with pytest.raises(ExportError, match=r"pip install 'nnstudio\[onnx\]'"):
        onnx_export.export_onnx(load_template("mlp"), tmp_path / "m.onnx")


# ----------------------------------------------------------------------------- the CLI
@pytest.fixture
def lenet_project(tmp_path):
    path = tmp_path / "lenet.nnstudio"
    project = load_template("lenet5")
    save_project(project, path)
    weights = tmp_path / "lenet.LeNet5.pt"
    save_weights(weights, _trained_like_weights(project, None))
    return path, weights


def test_cli_export_formats_follow_the_suffix_or_the_flag(lenet_project, tmp_path, capsys):
    path, weights = lenet_project
    assert main(["export", str(path), "-o", str(tmp_path / "net.pt"),
                 "--weights", str(weights)]) == 0
    out = capsys.readouterr().out
    assert "TorchScript, scripted" in out
    assert main(["export", str(path), "-o", str(tmp_path / "net.ts"), "--format",
                 "torchscript", "--torchscript", "trace"]) == 0
    assert "traced" in capsys.readouterr().out
    assert main(["export", str(path), "-o", str(tmp_path / "net.py")]) == 0
    assert "class LeNet5" in capsys.readouterr().out


def test_cli_export_onnx(lenet_project, tmp_path, capsys):
    pytest.importorskip("onnx")
    path, weights = lenet_project
    assert main(["export", str(path), "-o", str(tmp_path / "net.onnx"),
                 "--weights", str(weights)]) == 0
    out = capsys.readouterr().out
    assert "onnx.checker passed" in out and (tmp_path / "net.onnx").is_file()


def test_cli_export_errors_are_one_line(lenet_project, tmp_path, capsys):
    path, _ = lenet_project
    assert main(["export", str(path), "-o", str(tmp_path / "net.bin")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nnstudio: error: net.bin: say what to write with --format")
    assert err.count("\n") == 1
    assert main(["export", str(path), "-o", str(tmp_path / "net.py"), "--format", "script",
                 "--weights", "w.pt"]) == 1
    assert "--weights does not apply to --format script" in capsys.readouterr().err


def test_cli_import_writes_the_project_and_says_it_runs_the_code(write_source, tmp_path,
                                                                 capsys):
    source = write_source(ROUND_TRIPS["cifar_cnn"][0], "cifar.py")
    out = tmp_path / "cifar.nnstudio"
    assert main(["import", f"{source}:CifarNet", "--input-shape", "1,3,32,32",
                 "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "importing runs the code in cifar.py" in captured.err
    assert f"wrote {out}" in captured.out and "62,006 weights" in captured.out
    assert (tmp_path / "cifar.CifarNet.pt").is_file()
    # the one class of the file is found without naming it; an existing file is kept
    assert main(["import", str(source), "--input-shape", "1,3,32,32", "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_cli_import_failure_lists_the_operations_on_one_line(write_source, tmp_path, capsys):
    source = write_source("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
                          "    def forward(self, x):\n        return torch.cumsum(x, 1)\n")
    out = tmp_path / "net.nnstudio"
    assert main(["import", f"{source}:Net", "--input-shape", "2,5", "-o", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("nnstudio: error: cannot import Net: 1 operation has no")
    assert "cumsum at model.py:7 `return torch.cumsum(x, 1)`" in err[-1]
    assert not out.exists() and not (tmp_path / "net.Net.pt").exists()
