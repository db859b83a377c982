"""`nnstudio train`: a project trained from the command line, as a person runs it."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nnstudio.cli import main
from nnstudio.data import DatasetError
from nnstudio.graph import compile_graph
from nnstudio.graph.project_file import load_project, save_project
from nnstudio.graph.templates import load_template
from nnstudio.graph.weights import load_weights
from nnstudio.train import load_checkpoint
from nnstudio.train.callbacks import EpochInfo, RunInfo, StepInfo, TrainResult
from nnstudio.train.headless import TerminalProgress, parse_dataset_options

REPO = Path(__file__).resolve().parents[1]
FINAL = re.compile(r"^final ([a-z0-9_]+): (\S+)$")


@pytest.fixture
def project(tmp_path):
    """Write template ``name`` as a project file in tmp_path; returns its path."""
    def make(name: str) -> Path:
        path = tmp_path / f"{name}.nnstudio"
        save_project(load_template(name), path)
        return path
    return make


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def final_lines(out: str) -> dict[str, float]:
    """The `final <metric>: <value>` lines, which must end stdout."""
    lines = out.splitlines()
    finals = [m for m in map(FINAL.match, lines) if m]
    assert finals, out
    assert lines[-len(finals):] == [m.group(0) for m in finals], "final lines must come last"
    return {m.group(1): float(m.group(2)) for m in finals}


def assert_one_line_error(rc: int, out: str, err: str, *fragments: str) -> None:
    assert rc == 1, (rc, out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.startswith("nnstudio: ")]
    assert len(lines) == 1 and lines[0] == err.splitlines()[-1], err
    assert lines[0].startswith("nnstudio: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def epochs_in(csv_path: Path) -> list[int]:
    with open(csv_path, newline="", encoding="utf-8") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


# ------------------------------------------------------------------ a whole run
def test_train_writes_metrics_checkpoint_weights_and_final_lines(capsys, project, tmp_path):
    out_dir = tmp_path / "run"
    rc, out, err = run(capsys, "train", project("mlp"), "--epochs", "2", "--out", out_dir)
    assert rc == 0, err
    assert epochs_in(out_dir / "metrics.csv") == [1, 2]
    checkpoint = load_checkpoint(out_dir / "last.pt")
    assert checkpoint["epoch"] == 2
    weights = load_weights(out_dir / "weights.pt")
    assert weights.keys() == checkpoint["model"].keys()
    assert all(torch.equal(weights[k], checkpoint["model"][k]) for k in weights)
    finals = final_lines(out)
    assert {"test_loss", "test_accuracy", "val_loss", "val_accuracy"} <= finals.keys()
    assert 0.5 <= finals["test_accuracy"] <= 1.0
    record = json.loads((out_dir / "run.json").read_text())
    assert record["stopped_reason"] == "completed" and record["dataset"]["name"] == "moons"
    assert record["final"]["test_accuracy"] == pytest.approx(finals["test_accuracy"], abs=1e-6)
    # progress goes to stderr: plain per-epoch lines when stderr is not a terminal
    assert "\r" not in err
    assert [line.split()[1] for line in err.splitlines() if line.startswith("epoch ")] == \
        ["1/2", "2/2"]


def test_the_default_run_folder_is_beside_the_project(capsys, project):
    path = project("perceptron")
    rc, out, err = run(capsys, "train", path, "--epochs", "1")
    assert rc == 0, err
    folder = path.with_name("perceptron-run")
    assert {"metrics.csv", "last.pt", "weights.pt"} <= {p.name for p in folder.iterdir()}
    assert "test_accuracy" in final_lines(out)


def test_command_line_settings_reach_the_run(capsys, project, tmp_path):
    out_dir = tmp_path / "run"
    rc, _, err = run(capsys, "train", project("mlp"), "--epochs", "1", "--lr", "0.05",
                     "--batch-size", "50", "--device", "cpu", "--set", "n_samples=200",
                     "--set", "noise=0.3", "--out", out_dir)
    assert rc == 0, err
    record = json.loads((out_dir / "run.json").read_text())
    assert record["config"]["lr"] == 0.05 and record["config"]["batch_size"] == 50
    assert record["config"]["device"] == "cpu"
    # --set on the project's own dataset keeps its other choices
    assert record["dataset"] == {"name": "moons", "n_samples": 200, "noise": 0.3}
    assert "of 3 steps" in err  # 120 training examples in batches of 50


def test_trained_weights_load_into_the_exported_file_with_identical_outputs(capsys, project,
                                                                           tmp_path):
    path = project("mlp")
    out_dir = tmp_path / "run"
    assert run(capsys, "train", path, "--epochs", "1", "--out", out_dir)[0] == 0
    source = tmp_path / "model.py"
    rc, _, err = run(capsys, "export", path, "-o", source, "--weights", out_dir / "weights.pt")
    assert rc == 0, err

    spec = importlib.util.spec_from_file_location("exported_mlp", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exported = module.MLP()
    exported.load_state_dict(torch.load(source.with_suffix(".pt"), weights_only=True))
    app = compile_graph(load_project(path).graph())
    app.load_state_dict(load_weights(out_dir / "weights.pt"))
    untrained = compile_graph(load_project(path).graph())

    x = torch.randn(64, 2)
    exported.eval(), app.eval(), untrained.eval()
    with torch.no_grad():
        assert torch.equal(exported(x), app(x))
        assert not torch.allclose(untrained(x), app(x))  # the weights are the trained ones


def test_python_dash_m_nnstudio_train_runs(tmp_path):
    path = tmp_path / "perceptron.nnstudio"
    save_project(load_template("perceptron"), path)
    env = {k: v for k, v in os.environ.items() if k != "NNSTUDIO_ASSETS"}
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run([sys.executable, "-m", "nnstudio", "train", str(path), "--epochs", "1"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "test_accuracy" in final_lines(proc.stdout)
    assert "epoch 1/1" in proc.stderr
    assert (tmp_path / "perceptron-run" / "weights.pt").is_file()


# ------------------------------------------------------------------------ resume
def test_resume_continues_the_checkpoint_exactly(capsys, project, tmp_path):
    path = project("mlp")
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    rc, out_whole, _ = run(capsys, "train", path, "--epochs", "2", "--out", whole)
    assert rc == 0
    assert run(capsys, "train", path, "--epochs", "1", "--out", parts)[0] == 0
    rc, out_parts, err = run(capsys, "train", path, "--epochs", "2", "--out", parts, "--resume")
    assert rc == 0, err
    assert "from epoch 2" in err
    trained = [line.split()[1] for line in err.splitlines() if line.startswith("epoch ")]
    assert trained == ["2/2"]  # epoch 1 is not trained again
    assert epochs_in(parts / "metrics.csv") == [1, 2]
    assert load_checkpoint(parts / "last.pt")["epoch"] == 2
    # 1 + 1 epochs give what 2 epochs in one go give
    assert final_lines(out_parts) == final_lines(out_whole)
    a, b = load_weights(whole / "weights.pt"), load_weights(parts / "weights.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_with_other_settings_is_refused(capsys, project, tmp_path):
    path = project("mlp")
    assert run(capsys, "train", path, "--epochs", "1", "--out", tmp_path / "r")[0] == 0
    assert_one_line_error(*run(capsys, "train", path, "--epochs", "2", "--batch-size", "16",
                               "--out", tmp_path / "r", "--resume"), "batch_size", "last.pt")
    assert_one_line_error(*run(capsys, "train", path, "--epochs", "2", "--dataset", "circles",
                               "--out", tmp_path / "r", "--resume"), "'moons'", "'circles'")
    assert_one_line_error(*run(capsys, "train", path, "--epochs", "1",
                               "--out", tmp_path / "r", "--resume"), "already trained 1 of 1")
    assert load_checkpoint(tmp_path / "r" / "last.pt")["epoch"] == 1  # nothing was touched


def test_resume_without_a_checkpoint_is_refused(capsys, project, tmp_path):
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--out", tmp_path / "none",
                               "--resume"), "last.pt", "does not exist")


def test_resume_of_another_model_is_refused(capsys, project, tmp_path):
    out_dir = tmp_path / "r"
    assert run(capsys, "train", project("mlp"), "--epochs", "1", "--out", out_dir)[0] == 0
    wider = load_template("mlp")
    graph = wider.graph()
    first = next(n for n in graph.nodes if n.type == "Linear")
    graph.set_params(first.id, {"out_features": 32})
    save_project(wider, tmp_path / "wider.nnstudio")
    assert_one_line_error(*run(capsys, "train", tmp_path / "wider.nnstudio", "--epochs", "2",
                               "--out", out_dir, "--resume"), "another model")


# ------------------------------------------------------------------------ Ctrl-C
def test_ctrl_c_stops_after_the_step_and_keeps_the_last_checkpoint(capsys, project, tmp_path,
                                                                   monkeypatch):
    out_dir = tmp_path / "r"
    seen = []

    def press_ctrl_c_after_epoch_2(self, e: EpochInfo) -> None:
        seen.append(e.epoch)
        if e.epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)  # handled at once, on this (the main) thread

    monkeypatch.setattr(TerminalProgress, "on_epoch_end", press_ctrl_c_after_epoch_2)
    before = signal.getsignal(signal.SIGINT)
    rc, out, err = run(capsys, "train", project("mlp"), "--epochs", "50", "--out", out_dir)
    assert rc == 130
    assert err.splitlines()[-1] == (f"nnstudio: interrupted: {out_dir / 'last.pt'} holds "
                                    "epoch 2; continue with --resume")
    assert "final" not in out and "Traceback" not in err
    assert signal.getsignal(signal.SIGINT) is before
    assert seen == [1, 2]  # it stopped before epoch 3 ended
    assert load_checkpoint(out_dir / "last.pt")["epoch"] == 2
    assert epochs_in(out_dir / "metrics.csv") == [1, 2]
    assert not (out_dir / "weights.pt").exists()  # no final weights from a stopped run

    monkeypatch.undo()
    rc, out, err = run(capsys, "train", project("mlp"), "--epochs", "3", "--out", out_dir,
                       "--resume")
    assert rc == 0, err
    assert epochs_in(out_dir / "metrics.csv") == [1, 2, 3]


# ------------------------------------------------------------------ error paths
def test_an_unknown_dataset_is_one_line(capsys, project):
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--dataset", "no-such-set"),
                          "no dataset named 'no-such-set'", "moons")


def test_a_dataset_that_does_not_fit_the_input_is_one_line(capsys, project):
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--dataset", "digits"),
                          "takes [B, 2]", "'digits' gives [B, 1, 8, 8]")


def test_a_missing_csv_file_is_one_line(capsys, project, tmp_path):
    missing = tmp_path / "missing.csv"
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--dataset", "csv",
                               "--set", f"path={missing}"), "missing.csv")


@pytest.mark.parametrize(("assignment", "fragment"), [
    ("colour=red", "has no option 'colour'"),
    ("noise=lots", "'noise' takes a number"),
    ("n_samples=1.5", "'n_samples' takes an integer"),
    ("noise", "expected KEY=VALUE"),
])
def test_bad_dataset_options_are_one_line(capsys, project, assignment, fragment):
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--set", assignment), fragment)


def test_bad_settings_are_one_line(capsys, project):
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--epochs", "0"), "epochs")
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--device", "tpu"), "device")
    assert_one_line_error(*run(capsys, "train", project("mlp"), "--graph", "Nope"), "'Nope'")


def test_a_diverging_run_ends_with_the_trainers_message(capsys, project, tmp_path):
    rc, out, err = run(capsys, "train", project("mlp"), "--epochs", "1", "--lr", "1e20",
                       "--out", tmp_path / "r")
    assert_one_line_error(rc, out, err, "The loss became", "learning rate")
    assert not (tmp_path / "r" / "weights.pt").exists()


def test_a_new_run_in_the_same_folder_replaces_the_earlier_one(capsys, project, tmp_path):
    path, out_dir = project("mlp"), tmp_path / "r"
    assert run(capsys, "train", path, "--epochs", "2", "--out", out_dir)[0] == 0
    rc, _, _ = run(capsys, "train", path, "--epochs", "3", "--lr", "1e20", "--out", out_dir)
    assert rc == 1
    # no weights or checkpoint of the earlier run left to be mistaken for this one's
    assert not (out_dir / "weights.pt").exists() and not (out_dir / "last.pt").exists()
    assert json.loads((out_dir / "run.json").read_text())["stopped_reason"] == "error"


def test_a_missing_project_is_one_line(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "train", tmp_path / "nothing.nnstudio"), "nothing.nnstudio")


# ------------------------------------------------------------ dataset options
def test_dataset_options_take_the_registry_types():
    assert parse_dataset_options("moons", ["noise=0.2", "n_samples=300", "normalise=no"]) == \
        {"noise": 0.2, "n_samples": 300, "normalise": False}
    assert parse_dataset_options("csv", ["path=~/data.csv"])["path"] == \
        os.path.expanduser("~/data.csv")
    with pytest.raises(DatasetError, match="at least"):
        parse_dataset_options("moons", ["noise=-1"])


# ---------------------------------------------------------------- progress line
def _feed(progress: TerminalProgress, epochs: int = 2, steps: int = 5) -> None:
    progress.on_train_start(RunInfo(epochs * steps, steps, epochs, 1, "cpu", 10, 10))
    g = 0
    for e in range(1, epochs + 1):
        for s in range(1, steps + 1):
            g += 1
            progress.on_step(StepInfo(e, s, g, epochs * steps, 0.5 / g, 0.01, g * 0.1,
                                      (epochs * steps - g) * 0.1, 320.0))
        progress.on_epoch_end(EpochInfo(e, 0.5 / g, {"loss": 0.4, "accuracy": 0.9}, 0.01, g * 0.1))
    progress.on_train_end(TrainResult("completed", "Completed."))


def _frames(width: int) -> tuple[str, list[str]]:
    stream = io.StringIO()
    _feed(TerminalProgress(stream, tty=True, width=width, min_interval_s=0))
    header, drawn = stream.getvalue().split("\n", 1)
    assert drawn.endswith("\n") and drawn.count("\n") == 1  # one line, ended once at the end
    return header, drawn.rstrip("\n").split("\r")[1:]


def test_on_a_terminal_progress_is_one_line_redrawn_in_place():
    header, frames = _frames(100)
    assert header.startswith("training on cpu: 2 epochs of 5 steps")
    assert len(frames) == 10
    assert frames[-1].rstrip() == ("epoch 2/2  step 10/10  loss 0.0500  320 samples/s  ETA 0:00"
                                   "  val_loss 0.4000  val_accuracy 0.9000")


def test_a_narrow_terminal_drops_whole_parts_instead_of_wrapping():
    _, frames = _frames(40)
    assert all(len(frame) <= 39 for frame in frames)
    assert frames[-1] == "epoch 2/2  step 10/10  loss 0.0500"


def test_off_a_terminal_progress_is_one_plain_line_per_epoch():
    stream = io.StringIO()
    _feed(TerminalProgress(stream, tty=False))
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines[1:] == [
        "epoch 1/2  train_loss 0.1000  val_loss 0.4000  val_accuracy 0.9000  lr 0.01  0.5s",
        "epoch 2/2  train_loss 0.0500  val_loss 0.4000  val_accuracy 0.9000  lr 0.01  1.0s",
    ]


def test_train_says_how_the_run_measured_up_to_the_challenge(capsys, project, tmp_path):
    met = project("perceptron")  # ≥ 95 % with ≤ 3 parameters: met as shipped
    rc, out, _ = run(capsys, "train", met, "--out", tmp_path / "met")
    assert rc == 0
    assert "challenge: Separate the two blobs" in out
    assert re.search(r"challenge achieved: test accuracy \S+ ≥ 0\.95 ✓; 3 parameters ≤ 3 ✓", out), out
    missed = project("mlp")  # ≤ 150 parameters, and the template has 354
    rc, out, _ = run(capsys, "train", missed, "--epochs", "1", "--out", tmp_path / "missed")
    assert rc == 0
    assert "challenge not yet:" in out and "354 parameters > 150 ✗" in out
    final_lines(out)  # the final lines still end the output
