"""Training on a CUDA device: the trainer, the live probes, the Qt worker, checkpoints
and the exported script.  Skipped where there is no GPU (CI); run on a GPU machine with
``pytest tests/train/test_cuda.py``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from nnstudio.graph.templates import load_template
from nnstudio.train import Callback, Trainer
from nnstudio.train.checkpoint import load_checkpoint
from nnstudio.train.project_run import prepare_run

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _run(template: str, epochs: int = 3, **dataset):
    project = load_template(template)
    name = project.training["dataset"]["name"]
    return prepare_run(project, dataset={"name": name, **dataset},
                       config_overrides={"epochs": epochs, "device": "cuda"})


class Seen(Callback):
    def __init__(self) -> None:
        self.device = None
        self.snapshots = []

    def on_train_start(self, info) -> None:
        self.device = info.device

    def on_activations(self, snap) -> None:
        self.snapshots.append(snap)


def test_the_mlp_trains_on_the_gpu_and_learns_moons():
    prepared = _run("mlp", epochs=30, n_samples=1000)
    seen = Seen()
    result = Trainer(prepared.model, prepared.splits, prepared.config, [seen]).fit()
    assert result.stopped_reason == "completed", result.message
    assert seen.device.startswith("cuda")
    assert all(p.is_cuda for p in prepared.model.parameters())
    assert result.metrics["val"]["accuracy"] >= 0.95
    assert seen.snapshots and all(s.layers for s in seen.snapshots)  # capture runs on the GPU


def test_a_cnn_on_digits_trains_on_the_gpu(tmp_path):
    prepared = _run("cnn-digits", epochs=8)
    result = Trainer(prepared.model, prepared.splits, prepared.config,
                     checkpoint_dir=tmp_path).fit()
    assert result.stopped_reason == "completed", result.message
    assert result.metrics["test"]["accuracy"] >= 0.95
    # a checkpoint written from the GPU opens on the CPU (weights only)
    state = load_checkpoint(tmp_path / "last.pt", map_location="cpu")
    tensors = [v for v in state["model"].values() if isinstance(v, torch.Tensor)]
    assert tensors and all(t.device.type == "cpu" for t in tensors)


def test_the_qt_worker_trains_on_the_gpu_with_its_live_probes(qtbot):
    from nnstudio.ui.training.plot_style import class_rgb, lut
    from nnstudio.ui.training.worker import TrainingRunner

    runner = TrainingRunner()
    frames, boundaries = [], []
    runner.updated.connect(lambda b: (frames.append(b.activations) if b.activations else None,
                                      boundaries.append(b.boundary) if b.boundary else None))
    with qtbot.waitSignal(runner.finished, timeout=120_000) as done:
        runner.start(_run("mlp", epochs=20, n_samples=600),
                     live={"class_rgb": class_rgb(2), "lut": lut("viridis")})
    assert done.args[0].stopped_reason == "completed", done.args[0].message
    assert frames and boundaries  # activation pictures and the decision boundary
    assert runner.shutdown(5000)


def test_the_exported_script_trains_on_the_gpu(tmp_path):
    from nnstudio.export.script import export_script

    project = load_template("mlp")
    project.training["config"].update(epochs=5)
    project.training["dataset"].update(n_samples=400)
    script = export_script(project, tmp_path / "train.py").path
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(script), "--out", str(out), "--device", "cuda"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = json.loads((out / "final.json").read_text())
    assert final["final"]["val_accuracy"] > 0.8
