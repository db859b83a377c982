"""The standalone training script: it makes the app's data, repeats the app's run on one
process, and trains unchanged under ``torchrun --nproc_per_node=2`` (gloo, CPU)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnstudio.data import load_dataset
from nnstudio.export.python_source import ExportError
from nnstudio.export.script import MADE_BY_SCRIPT, export_script
from nnstudio.graph.templates import load_template
from nnstudio.train import Trainer
from nnstudio.train.project_run import prepare_run

VENV_BIN = Path(sys.executable).parent
# the app's side of each comparison runs with the suite's one thread; so does the script
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def _small_mlp(epochs: int = 3, n_samples: int = 240):
    project = load_template("mlp")
    project.training["config"].update(epochs=epochs)
    project.training["dataset"].update(n_samples=n_samples)
    return project


def _app_run(project):
    prepared = prepare_run(project, config_overrides={"device": "cpu"})
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    assert result.stopped_reason == "completed", result.message
    return result, prepared


def _final(result) -> dict[str, float]:
    return {f"{split}_{k}": v for split in ("val", "test")
            for k, v in result.metrics.get(split, {}).items()}


def _run_script(script: Path, out: Path, *args: str, timeout: int = 240) -> dict:
    proc = subprocess.run([sys.executable, str(script), "--out", str(out), "--device", "cpu",
                           *args], capture_output=True, text=True, env=ENV, timeout=timeout,
                          cwd=script.parent, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "final.json").read_text())


def _load_script(path: Path):
    """The script as a module, without running main()."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_is_readable_python_that_needs_only_torch_and_sklearn(tmp_path):
    result = export_script(_small_mlp(), tmp_path / "train.py")
    text = result.path.read_text()
    tree = ast.parse(text)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import) else
                              [type("A", (), {"name": node.module})])}
    assert imported <= {"argparse", "csv", "gc", "hashlib", "json", "math", "os", "time",
                        "pathlib", "numpy", "torch", "sklearn"}
    assert "nnstudio" not in imported
    assert "class MLP(nn.Module):" in text and "torchrun --nproc_per_node=N train.py" in text
    assert "'lr': 0.01," in text and "'n_samples': 240," in text
    assert result.loss == "cross_entropy" and result.data_path is None


@pytest.mark.parametrize("name", sorted(MADE_BY_SCRIPT))
def test_the_script_makes_exactly_the_data_nnstudio_loads(name, tmp_path):
    options = {"digits": {"classes": "1-4", "per_class": 20}, "blobs": {"n_classes": 4},
               "moons": {"n_samples": 200}, "spiral": {"n_samples": 150, "n_classes": 4},
               "xor": {"n_samples": 160}, "circles": {"n_samples": 120, "factor": 0.3}}
    project = load_template("mlp")
    info_shape = load_dataset(name, **options.get(name, {})).info
    project.training["dataset"] = {"name": name, **options.get(name, {})}
    recipe = "regression" if info_shape.task == "regression" else "classification"
    project.training["config"].update(recipe=recipe, loss="auto", seed=5)
    graph = project.graph()
    inp = next(n for n in graph.nodes if n.type == "Input")
    graph.set_params(inp.id, {"shape": info_shape.input_shape})
    if len(info_shape.input_shape) > 1:  # digits: flatten the image first
        first = next(e for e in graph.out_edges(inp.id))
        graph.disconnect(first)
        flat = graph.add_node("Flatten")
        graph.connect(inp.id, "out", flat.id, "in")
        graph.connect(flat.id, "out", first.dst, first.dst_port)
    last = [n for n in graph.nodes if n.type == "Linear"][-1]
    width = 1 if recipe == "regression" else len(info_shape.classes)
    graph.set_params(last.id, {"out_features": width})
    script = export_script(project, tmp_path / "train.py").path
    module = _load_script(script)
    made = module.load_data()
    want = load_dataset(name, seed=5, **options.get(name, {}))
    for split in ("train", "val", "test"):
        x, y = made[split]
        assert torch.equal(x, getattr(want, split).x), split
        assert torch.equal(y, getattr(want, split).y), split
    assert module.FINGERPRINT == want.fingerprint


def _diabetes_regression():
    project = _small_mlp()
    project.training["dataset"] = {"name": "diabetes"}
    project.training["config"].update(recipe="regression", loss="huber", optimizer="sgd",
                                      lr=0.01, schedule="step", step_size=1, gamma=0.5,
                                      grad_clip=1.0)
    graph = project.graph()
    inp = next(n for n in graph.nodes if n.type == "Input")
    graph.set_params(inp.id, {"shape": (10,)})
    graph.set_params([n for n in graph.nodes if n.type == "Linear"][-1].id, {"out_features": 1})
    return project


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_one_process_repeats_the_app_run_exactly(task, tmp_path):
    project = _small_mlp() if task == "classification" else _diabetes_regression()
    script = export_script(project, tmp_path / "train.py").path
    result, _ = _app_run(project)
    final = _run_script(script, tmp_path / "run")
    # same seed and data: same split, initial weights, batches, hence the same numbers
    assert final["final"] == _final(result)
    metric = "accuracy" if task == "classification" else "r2"
    assert final["final"][f"val_{metric}"] == result.metrics["val"][metric]
    history = [row["train_loss"] for row in final["history"]]
    want = [row["train_loss"] for row in result.history]
    np.testing.assert_allclose(history, want, rtol=1e-12)  # summed in another order


def test_data_the_script_cannot_make_travels_in_a_data_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 2))
    label = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,label\n" + "".join(f"{p:.5f},{q:.5f},{c}\n" for (p, q), c in
                                            zip(x, label)))
    project = _small_mlp(epochs=2)
    project.training["dataset"] = {"name": "csv", "path": str(csv), "target": "label"}
    exported = export_script(project, tmp_path / "fit.py")
    assert exported.data_path == tmp_path / "fit.data.pt"
    text = exported.path.read_text()
    assert "import numpy" not in text and "sklearn" not in text
    result, _ = _app_run(project)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for path in (exported.path, exported.data_path):  # the pair works wherever it goes
        shutil.copy(path, moved / path.name)
    final = _run_script(moved / "fit.py", moved / "run")
    assert final["final"] == _final(result)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_with_two_processes_trains_and_its_loss_falls(tmp_path):
    torchrun = VENV_BIN / "torchrun"
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    project = _small_mlp(epochs=2)
    script = export_script(project, tmp_path / "train.py").path
    out = tmp_path / "ddp"
    proc = subprocess.run(
        [str(torchrun), "--nnodes=1", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={_free_port()}", str(script), "--out", str(out), "--device", "cpu"],
        capture_output=True, text=True, env={**ENV, "GLOO_SOCKET_IFNAME": "lo"}, timeout=300,
        cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    final = json.loads((out / "final.json").read_text())
    assert final["world_size"] == 2 and final["epochs_completed"] == 2
    losses = [row["train_loss"] for row in final["history"]]
    assert losses[1] < losses[0]
    assert final["final"]["val_accuracy"] > 0.6
    # process 0 alone wrote the run: one header line and a row per epoch
    assert (out / "metrics.csv").read_text().count("\n") == 3
    weights = torch.load(out / "weights.pt", weights_only=True)
    assert set(weights) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight",
                            "fc3.bias"}


def test_recipes_the_script_does_not_cover_are_refused(tmp_path):
    project = _small_mlp()
    project.training["config"]["recipe"] = "reconstruction"
    project.training["config"]["loss"] = "auto"
    with pytest.raises(ExportError):
        export_script(project, tmp_path / "train.py")
    assert not (tmp_path / "train.py").exists()
    with pytest.raises(ExportError, match=r"\.py"):
        export_script(_small_mlp(), tmp_path / "train.txt")
