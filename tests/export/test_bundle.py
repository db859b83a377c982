"""Reproducibility bundles: everything a run needs in one folder, and the run reproduced
from the folder alone gives the same metrics."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
import torch

from nnstudio.cli import main
from nnstudio.export.bundle import export_bundle, package_versions
from nnstudio.export.python_source import ExportError
from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import load_template

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FILES = ["README.md", "manifest.json", "metrics.csv", "metrics.json", "model.py",
         "project.nnstudio", "requirements.txt", "train.py", "weights.pt"]


def _project():
    project = load_template("mlp")
    project.training["config"].update(epochs=2, seed=4)
    project.training["dataset"].update(n_samples=200)
    return project


def test_a_run_reproduced_from_its_bundle_gives_the_same_metrics(tmp_path):
    bundle = export_bundle(_project(), tmp_path / "bundle")
    assert bundle.trained_now and bundle.files == FILES
    folder = bundle.path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["config"]["epochs"] == 2
    assert len(manifest["data_fingerprint"]) == 64 and manifest["data_made_by_script"]
    assert manifest["versions"]["torch"] == package_versions()["torch"]
    assert manifest["versions"]["scikit-learn"] == package_versions()["scikit-learn"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    readme = (folder / "README.md").read_text()
    assert "python train.py --out run" in readme and manifest["data_fingerprint"] in readme
    assert f"torch=={manifest['versions']['torch']}" in (folder / "requirements.txt").read_text()
    assert load_project(folder / "project.nnstudio").graph().name == "MLP"

    # reproduce: only the bundle's own files, in a fresh process
    proc = subprocess.run([sys.executable, "train.py", "--out", "again", "--device", "cpu"],
                          cwd=folder, env=ENV, capture_output=True, text=True, timeout=240,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = json.loads((folder / "again" / "final.json").read_text())
    recorded = json.loads((folder / "metrics.json").read_text())
    assert again["final"] == recorded["final"] == manifest["final"] == bundle.final
    assert recorded["final"]["test_accuracy"] > 0.5
    w1 = torch.load(folder / "weights.pt", weights_only=True)
    w2 = torch.load(folder / "again" / "weights.pt", weights_only=True)
    assert all(torch.equal(w1[k], w2[k]) for k in w1)


def test_a_finished_train_folder_is_bundled_as_it_is(tmp_path, capsys):
    path = tmp_path / "mlp.nnstudio"
    save_project(_project(), path)
    assert main(["train", str(path), "--out", str(tmp_path / "run"), "--device", "cpu"]) == 0
    trained = json.loads((tmp_path / "run" / "run.json").read_text())
    capsys.readouterr()
    assert main(["export", str(path), "--format", "bundle", "-o", str(tmp_path / "b"),
                 "--run", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["final"] == trained["final"] and not manifest["trained_now"]
    assert manifest["run_config"]["device"] == "cpu"  # as run; the project says "auto"
    project = load_project(path)
    project.training["config"]["lr"] = 0.5
    save_project(project, path)
    assert main(["export", str(path), "--format", "bundle", "-o", str(tmp_path / "c"),
                 "--run", str(tmp_path / "run")]) == 1
    assert "other settings than the project's (lr)" in capsys.readouterr().err
    assert f"final val_accuracy: {trained['final']['val_accuracy']:.6g}" in out


def test_a_bundle_never_lands_on_other_files(tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_bundle(_project(), target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    project = _project()
    project.training["config"]["recipe"] = "reconstruction"
    project.training["config"]["loss"] = "auto"
    with pytest.raises(ExportError):
        export_bundle(project, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]  # no staging left behind
