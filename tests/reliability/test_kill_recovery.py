"""kill -9, for real: the application and a headless training run are killed in child
processes, and what they were doing comes back.

* The editor: a project is opened and edited in the real application (offscreen), the
  autosave timer writes the unsaved work, SIGKILL ends the process with no chance to
  clean up; the next start finds the work pending, offers it, and opens it as unsaved.
* ``nnstudio train``: SIGKILL after the first checkpoint; ``--resume`` finishes the run
  and the metrics cover every epoch once.
"""

from __future__ import annotations

import csv
import json
import signal
import sys
import time

import pytest
from reliability_kit import child_env, spawn

from nnstudio.graph.project_file import save_project
from nnstudio.graph.templates import load_template
from nnstudio.train import load_checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

EDIT_AND_WAIT = """
import sys
from nnstudio.ui.app import create_application, open_window
from nnstudio.ui.commands import SetParamsCommand

app = create_application([])
window = open_window(sys.argv[1])
graph = window.session.current_graph
linear = next(n for n in graph.nodes if n.type == "Linear")
assert window.session.push(SetParamsCommand(graph, linear.id, {"out_features": 13}))
print("edited", flush=True)
app.exec()
"""

START_AND_REPORT = """
import json
from PySide6.QtCore import QTimer
from nnstudio.ui.app import create_application, open_window
from nnstudio.ui.recovery import RecoveryStore

app = create_application([])
before = [(e.title, e.origin) for e in RecoveryStore().pending()]
window = open_window()

def report():
    s = window.session
    linear = next(n for n in s.current_graph.nodes if n.type == "Linear")
    print(json.dumps({"pending_before": before, "title": s.project.title, "path": s.path,
                      "dirty": s.dirty, "modified": window.isWindowModified(),
                      "width": linear.params["out_features"],
                      "start_page": window.start_page is not None,
                      "pending_after": len(window.recovery.pending())}), flush=True)
    window.session.undo_stack.setClean()  # close without the unsaved-changes question
    window.close()

import time
deadline = time.monotonic() + 20

def wait_for_the_offer():  # it comes once the window has been painted
    if window.session.dirty or time.monotonic() > deadline:
        report()
    else:
        QTimer.singleShot(50, wait_for_the_offer)

wait_for_the_offer()
app.exec()
"""


def _wait_for(predicate, timeout: float, proc=None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            _out, err = proc.communicate()
            pytest.fail(f"the child ended (status {proc.returncode}) before {what}:\n{err}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.timeout(180)
def test_kill_9_of_the_editor_then_the_next_start_offers_the_unsaved_work(tmp_path):
    project_path = tmp_path / "mine.nnstudio"
    save_project(load_template("mlp"), project_path)
    recovery = tmp_path / "recovery"
    env = child_env(tmp_path, NNSTUDIO_AUTOSAVE_MS="200")

    editor = spawn(["-c", EDIT_AND_WAIT, str(project_path)], env)
    try:
        _wait_for(lambda: any(recovery.glob("*.nnstudio")), 90, editor,
                  "the autosave of the edit")
        editor.send_signal(signal.SIGKILL)
        editor.wait(10)
    finally:
        if editor.poll() is None:
            editor.kill()
    assert editor.returncode == -signal.SIGKILL
    left = sorted(p.suffix for p in recovery.iterdir())
    assert left == [".json", ".lock", ".nnstudio"], left  # the lock of a dead process

    # the next start, told to answer "recover" (the dialog is tested in test_recovery.py)
    env = child_env(tmp_path, NNSTUDIO_RECOVERY_ANSWER="recover")
    second = spawn(["-c", START_AND_REPORT], env)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["pending_before"] == [[load_template("mlp").title, str(project_path.resolve())]]
    assert report["width"] == 13  # the edit that was never saved
    assert report["path"] == str(project_path.resolve())
    assert report["dirty"] and report["modified"]
    assert not report["start_page"] and report["pending_after"] == 0
    # the second session closed cleanly: nothing is left to offer
    assert list(recovery.iterdir()) == []
    assert "Traceback" not in err


def _epochs(path) -> list[int]:
    with open(path, newline="", encoding="utf-8") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.timeout(240)
def test_kill_9_of_nnstudio_train_then_resume_finishes_the_run(tmp_path):
    project_path = tmp_path / "mlp.nnstudio"
    save_project(load_template("mlp"), project_path)
    out_dir = tmp_path / "run"
    epochs = 4
    # enough data that an epoch takes a while: there is time to kill between checkpoints
    args = ["-m", "nnstudio", "train", str(project_path), "--epochs", str(epochs),
            "--batch-size", "16", "--set", "n_samples=40000", "--out", str(out_dir)]
    env = child_env(tmp_path)
    checkpoint = out_dir / "last.pt"

    trainer = spawn(args, env)
    try:
        _wait_for(checkpoint.exists, 150, trainer, "the first checkpoint")
        trainer.send_signal(signal.SIGKILL)
        trainer.wait(10)
    finally:
        if trainer.poll() is None:
            trainer.kill()
    assert trainer.returncode == -signal.SIGKILL
    # written atomically: the checkpoint of the killed run is whole
    reached = load_checkpoint(checkpoint)["epoch"]
    assert 1 <= reached < epochs, "the run ended before it could be killed"
    assert not (out_dir / "weights.pt").exists()

    resumed = spawn([*args, "--resume"], env)
    out, err = resumed.communicate(timeout=200)
    assert resumed.returncode == 0, err
    assert load_checkpoint(checkpoint)["epoch"] == epochs
    assert _epochs(out_dir / "metrics.csv") == list(range(1, epochs + 1))
    assert (out_dir / "weights.pt").exists()
    record = json.loads((out_dir / "run.json").read_text())
    assert record["stopped_reason"] == "completed"
    assert record["resumed_from_epoch"] == reached
    assert "final test_accuracy" in out
