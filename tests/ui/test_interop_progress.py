"""Export and import from the window run behind a progress dialog that can cancel them:
an export that finishes puts its files in place; a cancelled one leaves nothing, not even
a hidden half-written folder, and the window goes on working; an import that fails says
what failed; importing really runs the file's code, as the dialog warns."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

# scikit-learn (and pandas) first imported here, on the main thread: their first import on
# an export's worker thread while the GUI thread collected garbage crashed once (SIGSEGV)
import sklearn.datasets  # noqa: F401
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QProgressDialog, QPushButton

from nnstudio.export.staging import PARTIAL
from nnstudio.graph.project_file import load_project
from nnstudio.graph.templates import load_template
from nnstudio.ui import export_dialog
from nnstudio.ui.export_dialog import ExportDialog
from nnstudio.ui.import_dialog import ImportDialog
from nnstudio.ui.session import ProjectSession

RESNETISH = '''\
import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.Sequential(BasicBlock(4), BasicBlock(4))
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(x.mean(dim=(2, 3)))
'''


def progress_dialogs() -> list[QProgressDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QProgressDialog) and w.isVisible()]


def when_progress_shows(action, seen: list) -> None:
    """Call ``action(dialog)`` once the progress dialog is up; note its title and label."""
    def poll():
        shown = progress_dialogs()
        if not shown:
            QTimer.singleShot(10, poll)
            return
        seen.append((shown[0].windowTitle(), shown[0].labelText()))
        action(shown[0])

    QTimer.singleShot(0, poll)


def click_cancel(dialog: QProgressDialog) -> None:
    (button,) = [b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel"]
    button.click()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(autouse=True)
def _delete_closed_progress_dialogs(qapp):
    """A closed progress dialog is deleted later, when the event loop next runs; tests run
    no loop, and Qt's own show-timer would pop it up again after four seconds."""
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def export_window(make_window, tmp_path):
    """A window on LeNet-5 saved as tmp_path/lenet.nnstudio."""
    window = make_window()
    assert window.files._save_to(str(tmp_path / "lenet.nnstudio"))
    return window


def slow_exporter(real, steps: int = 25, write_first: bool = True):
    """An exporter that reports ``steps`` steps (writing part of its file first, as a
    real exporter may have when it is stopped) and then runs ``real``."""
    def export(session, graph, out, weights, progress):
        if write_first:
            out.write_bytes(b"half a file")
        for i in range(steps):
            progress.check()
            progress(i, steps, f"step {i + 1} of {steps}")
            time.sleep(0.02)
        return real(session, graph, out, weights, progress)
    return export


def test_export_with_progress_completes_and_puts_the_file_in_place(
        export_window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setitem(export_dialog._EXPORTS, "py",
                        slow_exporter(export_dialog._EXPORTS["py"]))
    dialog = ExportDialog(export_window.session, export_window)
    qtbot.addWidget(dialog)
    dialog.set_format("py")
    seen: list = []
    when_progress_shows(lambda d: None, seen)
    assert dialog.run_export()
    assert seen and seen[0][0] == "Export"
    written = tmp_path / "LeNet5.py"
    assert "class LeNet5(nn.Module)" in written.read_text()  # the real file, whole
    assert dialog.status.text() == "Wrote LeNet5.py (class LeNet5)."
    assert not any(name.endswith(PARTIAL) for name in leftovers(tmp_path))
    assert progress_dialogs() == []


def test_cancelling_an_export_leaves_no_file_and_the_dialog_works_on(
        export_window, qtbot, tmp_path, monkeypatch):
    real = export_dialog._EXPORTS["torchscript"]
    monkeypatch.setitem(export_dialog._EXPORTS, "torchscript",
                        slow_exporter(real, steps=10_000))
    dialog = ExportDialog(export_window.session, export_window)
    qtbot.addWidget(dialog)
    dialog.set_format("torchscript")
    before = leftovers(tmp_path)
    seen: list = []
    when_progress_shows(click_cancel, seen)
    t0 = time.monotonic()
    assert not dialog.run_export()
    assert seen and time.monotonic() - t0 < 10
    assert dialog.status.text() == "Export cancelled: nothing was written."
    assert leftovers(tmp_path) == before  # no LeNet5.pt, no hidden partial folder
    assert progress_dialogs() == []
    # the dialog (and the window behind it) go on working
    assert dialog.export_button.isEnabled()
    monkeypatch.setitem(export_dialog._EXPORTS, "torchscript", real)
    assert dialog.run_export()
    assert (tmp_path / "LeNet5.pt").is_file()
    assert export_window.isEnabled() and export_window.session.project.graphs


def test_cancelling_a_bundle_stops_its_training_and_writes_no_folder(
        make_window, qtbot, tmp_path):
    project = load_template("mlp")
    project.training["dataset"]["n_samples"] = 4000
    project.training["config"].update({"epochs": 200, "device": "cpu"})
    window = make_window(ProjectSession(project))
    assert window.files._save_to(str(tmp_path / "mlp.nnstudio"))
    dialog = ExportDialog(window.session, window)
    qtbot.addWidget(dialog)
    dialog.set_format("bundle")
    out = Path(dialog.output.text())
    before = leftovers(tmp_path)

    def cancel_once_training(d):
        # wait until the bundle's training reports its steps, then press Cancel
        def poll():
            if d.labelText().startswith("training for the bundle"):
                seen.append(d.labelText())
                click_cancel(d)
            else:
                QTimer.singleShot(20, poll)
        poll()

    seen: list = []
    when_progress_shows(cancel_once_training, seen)
    t0 = time.monotonic()
    assert not dialog.run_export()
    assert time.monotonic() - t0 < 60  # 200 epochs would take far longer
    assert seen[-1].startswith("training for the bundle: epoch ")  # cancelled while training
    assert dialog.status.text() == "Export cancelled: nothing was written."
    assert not out.exists() and leftovers(tmp_path) == before


def test_an_export_into_a_folder_that_is_not_empty_is_refused_before_any_work(
        export_window, qtbot, tmp_path):
    dialog = ExportDialog(export_window.session, export_window)
    qtbot.addWidget(dialog)
    dialog.set_format("bundle")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    dialog.output.setText(str(full))
    assert not dialog.run_export()
    assert dialog.status.text() == ("Not exported: the folder full is not empty; choose a new "
                                    "or empty folder")
    assert leftovers(full) == ["keep.txt"]


def test_import_error_shows_a_message_naming_the_problem(qtbot, tmp_path):
    source = tmp_path / "broken.py"
    source.write_text("import torch\nraise RuntimeError('no GPU here')\n\n\n"
                      "class Net(torch.nn.Module):\n    pass\n")
    dialog = ImportDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.set_source(str(source))
    dialog.shapes.setText("1,3")
    assert not dialog.run_import()
    text = dialog.problems.toPlainText()
    assert "running broken.py failed at broken.py:2" in text
    assert "RuntimeError: no GPU here" in text
    assert leftovers(tmp_path) == ["broken.py"]
    assert dialog.import_button.isEnabled() and progress_dialogs() == []


def test_importing_runs_the_files_code_as_the_dialog_warns(qtbot, tmp_path):
    source = tmp_path / "net.py"
    source.write_text("from pathlib import Path\n"
                      "Path(__file__).with_name('ran.txt').write_text('the code ran')\n\n"
                      + RESNETISH)
    dialog = ImportDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    warning = dialog.findChild(QLabel, "ImportWarning").text()
    assert "runs the code in this file" in warning
    dialog.set_source(str(source))
    assert not (tmp_path / "ran.txt").exists()  # listing the classes did not run it
    dialog.class_name.setCurrentText("Net")
    dialog.shapes.setText("1,3,8,8")
    assert dialog.run_import()
    assert (tmp_path / "ran.txt").read_text() == "the code ran"


@pytest.mark.parametrize(("blocks", "graphs"), [(True, ["Net", "Blocks", "BasicBlock"]),
                                                (False, ["Net"])])
def test_the_blocks_checkbox_chooses_blocks_or_one_flat_graph(qtbot, tmp_path, blocks, graphs):
    source = tmp_path / "net.py"
    source.write_text(RESNETISH)
    dialog = ImportDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    assert dialog.blocks.isChecked()  # blocks by default
    dialog.set_source(str(source))
    dialog.class_name.setCurrentText("Net")
    dialog.shapes.setText("1,3,8,8")
    dialog.blocks.setChecked(blocks)
    assert dialog.run_import()
    project = load_project(dialog.project_path)
    assert [g.name for g in project.graphs] == graphs


def test_cancelling_an_import_returns_at_once_and_writes_nothing(qtbot, tmp_path):
    source = tmp_path / "slow.py"
    source.write_text("import time\n" + RESNETISH.replace(
        "        self.fc = nn.Linear(4, 2)\n",
        "        self.fc = nn.Linear(4, 2)\n        time.sleep(4)  # a big model to build\n"))
    dialog = ImportDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.set_source(str(source))
    dialog.class_name.setCurrentText("Net")
    dialog.shapes.setText("1,3,8,8")
    seen: list = []
    when_progress_shows(click_cancel, seen)
    t0 = time.monotonic()
    assert not dialog.run_import()
    assert time.monotonic() - t0 < 3.5  # did not wait for the constructor
    assert seen and seen[0][1].startswith(("Importing Net", "building Net", "running slow"))
    assert dialog.problems.toPlainText() == "Import cancelled: nothing was written."
    # the abandoned import ends on its own; it must not write anything either
    (worker,) = [t for t in threading.enumerate() if t.name == "nnstudio: Import from PyTorch"]
    worker.join(30)
    assert not worker.is_alive()
    assert leftovers(tmp_path) == ["slow.py"]


def test_import_is_refused_while_a_run_trains(window, monkeypatch):
    told = []
    monkeypatch.setattr("nnstudio.ui.import_dialog.QMessageBox.information",
                        lambda parent, title, text: told.append(text))
    monkeypatch.setattr(ImportDialog, "exec", lambda self: pytest.fail("the dialog opened"))
    window.session.set_locked("training is running — stop it to edit")
    try:
        window.menu_actions["import_pytorch"].trigger()
    finally:
        window.session.set_locked("")
    assert len(told) == 1 and told[0].startswith("Stop the training first")
