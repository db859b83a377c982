"""File ▸ Import from PyTorch… and File ▸ Export As…: the dialogs say what they do, write
what the command line writes, and show problems instead of half-written files."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtWidgets import QDialog, QLabel

from nnstudio.graph.weights import load_weights, save_weights, weights_path
from nnstudio.ui.export_dialog import ExportDialog
from nnstudio.ui.import_dialog import ImportDialog

MODEL = '''\
import torch
from torch import nn


class Helper:
    pass


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.body(x))
'''


def test_import_dialog_warns_lists_classes_and_imports(qtbot, tmp_path):
    source = tmp_path / "net.py"
    source.write_text(MODEL)
    dialog = ImportDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    text = dialog.findChild(QLabel, "ImportWarning").text()
    assert "runs the code in this file" in text
    dialog.set_source(str(source))
    assert [dialog.class_name.itemText(i) for i in range(dialog.class_name.count())] == [
        "Net", "Helper"]  # modules first; the file was read, not run
    assert dialog.output.text() == str(tmp_path / "net.nnstudio")
    dialog.shapes.setText("1,3")
    dialog.blocks.setChecked(False)  # flat: every layer a node of one graph
    assert dialog.run_import()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.project_path == str(tmp_path / "net.nnstudio")
    assert set(load_weights(tmp_path / "net.Net.pt")) == {
        "body_0.weight", "body_0.bias", "head.weight", "head.bias"}


def test_import_dialog_shows_what_cannot_be_imported_and_writes_nothing(qtbot, tmp_path):
    source = tmp_path / "odd.py"
    source.write_text("import torch\nfrom torch import nn\n\n\nclass Odd(nn.Module):\n"
                      "    def forward(self, x):\n        return torch.cumsum(x, 1)\n")
    dialog = ImportDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.set_source(str(source))
    dialog.shapes.setText("2,4")
    assert not dialog.run_import()
    assert dialog.problems.isVisibleTo(dialog)
    assert "cumsum at odd.py:7" in dialog.problems.toPlainText()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.py"]
    dialog.shapes.setText("two,four")
    assert not dialog.run_import()
    assert "is not a shape" in dialog.problems.toPlainText()


def test_file_menu_import_opens_the_imported_project(window, monkeypatch, tmp_path):
    source = tmp_path / "net.py"
    source.write_text(MODEL)

    def fill_and_import(dialog):
        dialog.set_source(str(source))
        dialog.shapes.setText("4,3")
        return QDialog.DialogCode.Accepted if dialog.run_import() else QDialog.DialogCode.Rejected

    monkeypatch.setattr(ImportDialog, "exec", fill_and_import)
    action = window.menu_actions["import_pytorch"]
    assert action.text() == "&Import from PyTorch…" and "runs" in action.statusTip()
    action.trigger()
    assert window.session.path == str((tmp_path / "net.nnstudio").resolve())
    assert window.session.project.graph().name == "Net"


def test_export_dialog_writes_torchscript_with_the_saved_weights(window, qtbot, tmp_path):
    project_path = tmp_path / "lenet.nnstudio"
    assert window.files._save_to(str(project_path))
    graph = window.session.current_graph
    model_weights = weights_path(project_path, graph)
    torch.manual_seed(0)
    from nnstudio.graph import compile_graph

    state = compile_graph(graph).state_dict()
    save_weights(model_weights, state)
    dialog = ExportDialog(window.session, window)
    qtbot.addWidget(dialog)
    dialog.set_format("torchscript")
    assert dialog.output.text() == str(tmp_path / "LeNet5.pt")
    assert dialog.with_weights.isEnabled() and dialog.with_weights.isChecked()
    assert model_weights.name in dialog.with_weights.text()
    assert dialog.run_export()
    assert Path(dialog.written).is_file() and "TorchScript" in dialog.status.text()
    dialog.set_format("script")
    assert not dialog.with_weights.isVisibleTo(dialog)  # the script trains its own
    assert dialog.output.text() == str(tmp_path / "train.py")


def test_export_dialog_reports_a_graph_that_cannot_export(window, qtbot, tmp_path):
    graph = window.session.current_graph
    for node in list(graph.nodes):
        if node.type == "Output":
            graph.remove_node(node.id)
    dialog = ExportDialog(window.session, window)
    qtbot.addWidget(dialog)
    dialog.set_format("torchscript")
    dialog.output.setText(str(tmp_path / "net.pt"))
    assert not dialog.run_export()
    assert dialog.status.text().startswith("Not exported:")
    assert "Output" in dialog.status.text()
    assert not (tmp_path / "net.pt").exists()


def test_onnx_is_offered_only_when_the_package_is_there(window, qtbot, monkeypatch):
    from nnstudio.export import onnx_export

    monkeypatch.setattr(onnx_export, "onnx_available", lambda: False)
    dialog = ExportDialog(window.session, window)
    qtbot.addWidget(dialog)
    index = next(i for i in range(dialog.format.count()) if dialog.format.itemData(i) == "onnx")
    item = dialog.format.model().item(index)
    assert not item.isEnabled() and "pip install" in item.toolTip()
    assert window.menu_actions["export_as"].text() == "Export &As…"
