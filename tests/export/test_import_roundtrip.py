"""Importing hand-written PyTorch models: the graph's export, loaded with the imported
weights, gives the original's outputs — with submodules as blocks and inlined; what
cannot be mapped is named, and nothing is written then."""

from __future__ import annotations

import pytest
import torch
from export_models import HEADER, ROUND_TRIPS

from nnstudio.export.importer import (
    ModelImportError,
    import_module,
    import_pytorch,
    parse_target,
    save_imported,
)
from nnstudio.export.python_source import export_python
from nnstudio.graph import generate, infer_shapes
from nnstudio.graph.project_file import load_project
from nnstudio.graph.weights import load_weights


def _outputs(model, *inputs):
    model.eval()
    with torch.no_grad():
        out = model(*inputs)
    return out if isinstance(out, tuple) else (out,)


def _example(shape, dtype, batch=3, seed=7):
    gen = torch.Generator().manual_seed(seed)
    full = (batch, *shape[1:])
    if dtype == "long":
        return torch.randint(0, 30, full, generator=gen)
    return torch.randn(full, generator=gen)


@pytest.mark.parametrize("blocks", [True, False], ids=["blocks", "flat"])
@pytest.mark.parametrize("case", sorted(ROUND_TRIPS))
def test_imported_model_exports_to_the_same_outputs_with_the_same_weights(
        case, blocks, write_source, load_py, tmp_path):
    source, cls, shape = ROUND_TRIPS[case]
    path = write_source(source, f"{case}.py")
    imported = import_pytorch(path, cls, [shape], blocks=blocks)
    saved = save_imported(imported, tmp_path / f"{case}.nnstudio")

    # the project opens again, checks clean, and its export loads the weights file as is
    project = load_project(saved.project_path)
    graph = project.graph()
    assert graph.name == cls  # the network comes first, its block graphs after it
    assert infer_shapes(graph).ok
    assert all(infer_shapes(g).ok for g in project.graphs)
    if not blocks:
        assert len(project.graphs) == 1
    result = export_python(project, tmp_path / f"{case}_export.py",
                           weights=saved.weights_path)
    exported_cls = getattr(load_py(result.source_path), result.class_name)
    exported = exported_cls()
    exported.load_state_dict(torch.load(result.weights_path, weights_only=True))

    original = imported.original  # the instance the import built and read
    dtype = project.meta["imported_from"]["input_dtypes"][0]
    x = _example(shape, dtype)  # another batch size than the one traced
    want, got = _outputs(original, x), _outputs(exported, x)
    assert len(want) == len(got)
    for a, b in zip(want, got):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6)


def test_flat_import_inlines_submodules_and_weights_follow_the_module_paths(write_source):
    source, cls, shape = ROUND_TRIPS["residual"]
    original_module_path = write_source(source)
    imported = import_pytorch(original_module_path, cls, [shape], blocks=False)
    g = imported.graph
    names = {n.name for n in g.nodes}
    # nn.Sequential and the person's BasicBlock are inlined, named by their paths
    assert {"stem_0", "stem_1", "layer1_0_conv1", "layer1_1_bn2", "fc"} <= names
    assert any(n.type == "Add" and n.name.startswith("layer1_0") for n in g.nodes)
    by_name = {n.name: n.id for n in g.nodes}
    assert imported.module_paths[by_name["layer1_0_conv1"]] == "layer1.0.conv1"
    assert imported.scopes[by_name["layer1_0_conv1"]] == ("layer1", "layer1.0")
    assert imported.scope_types["layer1.0"] == "BasicBlock"
    assert "layer1_0_conv1.weight" in imported.state_dict
    assert "layer1_0_bn1.running_var" in imported.state_dict
    # laid out left to right: every node has its own place
    positions = [n.pos for n in g.nodes]
    assert len(set(positions)) == len(positions)


def test_an_already_built_module_imports_with_its_current_weights():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    imported = import_module(model, [(2, 4)], name="Small")
    assert imported.original is model and imported.max_difference == 0.0
    assert [n.type for n in imported.graph.nodes] == ["Input", "Linear", "ReLU", "Linear",
                                                       "Output"]
    first = next(nid for nid, path in imported.module_paths.items() if path == "0")
    attr = generate(imported.graph).attrs[first]
    assert torch.equal(imported.state_dict[f"{attr}.weight"], model[0].weight)


UNMAPPABLE = HEADER + '''

class Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.scale = nn.Parameter(torch.ones(4))
        self.norm = nn.GroupNorm(2, 4)

    def forward(self, x):
        y = self.fc(x)
        w = y * self.scale
        z = torch.matmul(y, y.t())
        v = self.norm(y * 2.0)
        return self.fc(v) + w + z.sum()
'''


def test_every_unmapped_operation_is_listed_with_its_line_and_nothing_is_written(
        write_source, tmp_path):
    path = write_source(UNMAPPABLE, "odd.py")
    with pytest.raises(ModelImportError) as info:
        import_pytorch(path, "Odd", [(2, 4)])
    problems = {p.name: p for p in info.value.problems}
    assert {"scale", "t", "matmul", "mul_1", "norm", "fc_1"} <= set(problems)
    assert problems["matmul"].where.line == 16
    assert problems["matmul"].where.code == "z = torch.matmul(y, y.t())"
    assert "self.scale" in problems["scale"].reason
    assert "constant" in problems["mul_1"].reason
    assert "GroupNorm" in problems["norm"].reason
    assert "more than once" in problems["fc_1"].reason
    text = str(info.value)
    assert "odd.py:16" in text and "nothing was written" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.py"]


@pytest.mark.parametrize(("body", "expected"), [
    ("self.lstm = nn.LSTM(4, 5)\n    def forward(self, x):\n        return self.lstm(x)[0]",
     "batch_first"),
    (("self.lstm = nn.LSTM(4, 5, batch_first=True)\n    def forward(self, x):\n"
      "        out, (h, c) = self.lstm(x)\n        return c[-1]"), "cell state"),
    (("self.conv = nn.Conv2d(3, 4, (3, 1))\n    def forward(self, x):\n"
      "        return self.conv(x.unsqueeze(-1))"), "differs between dimensions"),
    ("pass\n    def forward(self, x):\n        return x[:, :2]", "slices"),
    ("pass\n    def forward(self, x):\n        return x.sum(dim=0)", "Tensor.sum"),
])
def test_what_nnstudio_cannot_say_is_explained(write_source, body, expected):
    path = write_source(HEADER + f"\n\nclass M(nn.Module):\n    def __init__(self):\n"
                                 f"        super().__init__()\n        {body}\n")
    with pytest.raises(ModelImportError) as info:
        import_pytorch(path, "M", [(2, 3, 4)])
    assert expected in str(info.value)


def test_control_flow_on_tensors_names_the_line(write_source):
    path = write_source(HEADER + '''

class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x
''')
    where = r"model\.py:8 `if x.sum\(\) > 0:`.*branches or loops"
    with pytest.raises(ModelImportError, match=where):
        import_pytorch(path, "Branchy", [(1, 3)])


def test_loading_problems_are_import_errors(write_source):
    broken = write_source("import torch\nraise RuntimeError('no GPU here')\n", "broken.py")
    with pytest.raises(ModelImportError, match=r"running broken\.py failed at broken\.py:2"):
        import_pytorch(broken, "Net", [(1, 2)])
    needs_args = write_source(HEADER + "\n\nclass Net(nn.Module):\n"
                              "    def __init__(self, width):\n        super().__init__()\n")
    with pytest.raises(ModelImportError, match=r"building Net\(\) failed"):
        import_pytorch(needs_args, "Net", [(1, 2)])
    with pytest.raises(ModelImportError, match="has no class 'Other'"):
        import_pytorch(needs_args, "Other", [(1, 2)])
    fine = write_source(ROUND_TRIPS["cifar_cnn"][0], "cnn.py")
    with pytest.raises(ModelImportError, match="forward takes 1 input"):
        import_pytorch(fine, "CifarNet", [(1, 3, 32, 32), (1, 2)])
    with pytest.raises(ModelImportError, match="start with the batch size"):
        import_pytorch(fine, "CifarNet", [(3,)])


def test_parse_target_splits_file_and_class():
    assert parse_target("models/net.py:LeNet") == (parse_target("models/net.py")[0], "LeNet")
    assert parse_target("net.py")[1] is None


def test_save_writes_project_and_weights_beside_it(write_source, tmp_path):
    source, cls, shape = ROUND_TRIPS["gru"]
    imported = import_pytorch(write_source(source), cls, [shape])
    saved = save_imported(imported, tmp_path / "text.nnstudio")
    assert saved.weights_path.name == "text.GRUClassifier.pt"
    assert set(load_weights(saved.weights_path)) == set(imported.state_dict)
    project = load_project(saved.project_path)
    (x,) = [n for n in project.graph().nodes if n.type == "Input"]
    assert x.params["dtype"] == "long"  # it feeds an nn.Embedding
    assert project.meta["imported_from"]["class"] == "GRUClassifier"
    gru = next(n for n in project.graph().nodes if n.type == "GRU")
    assert gru.params["output"] == "hidden"


def test_forward_arguments_with_defaults_keep_them():
    class Masked(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 2)

        def forward(self, x, mask=None, scale: float = 1.0):
            if mask is not None:
                x = x * mask
            return self.fc(x) * scale if scale != 1.0 else self.fc(x)

    imported = import_module(Masked(), [(2, 3)])
    assert [n.type for n in imported.graph.nodes] == ["Input", "Linear", "Output"]
