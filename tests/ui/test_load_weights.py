"""File ▸ Load Weights…: a real state-dict file loaded into the drawn MLP where names and
shapes fit, a report naming every tensor that did not, and the next run starting from
the loaded tensors."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nnstudio.graph import compile_graph
from nnstudio.graph.weights import save_weights
from nnstudio.train.project_run import prepare_run
from nnstudio.ui.load_weights import (
    LOADED,
    MISMATCHED,
    MISSING,
    UNEXPECTED,
    WeightsReportDialog,
    match_weights,
)
from nnstudio.ui.session import ProjectSession

from .conftest import dock_of, finish, small_project


@pytest.fixture
def donor_file(tmp_path):
    """A weights file for the MLP template with a 3-class head, no fc3.bias and an extra
    tensor: fc1 and fc2 fit, the rest does not."""
    torch.manual_seed(7)
    state = compile_graph(small_project().graph()).state_dict()
    state = {k: torch.randn_like(v) for k, v in state.items()}
    state["fc3.weight"] = torch.zeros(3, 16)
    del state["fc3.bias"]
    state["extra.weight"] = torch.ones(4)
    path = tmp_path / "donor.pt"
    save_weights(path, state)  # torch.save of a plain state dict
    return path, state


def test_match_weights_lists_every_tensor_with_both_shapes(donor_file):
    path, state = donor_file
    loaded = match_weights(small_project().graph(), path)
    assert loaded.report.loaded == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert loaded.report.mismatched == [("fc3.weight", (2, 16), (3, 16))]
    assert loaded.report.missing == ["fc3.bias"] and loaded.report.unexpected == ["extra.weight"]
    rows = loaded.rows()
    assert rows[0] == ("fc3.weight", "[2, 16]", "[3, 16]", MISMATCHED)
    assert rows[1] == ("fc3.bias", "[2]", "—", MISSING)
    assert rows[2] == ("extra.weight", "—", "[4]", UNEXPECTED)
    assert rows[3] == ("fc1.weight", "[16, 2]", "[16, 2]", LOADED)
    assert set(loaded.state) == set(loaded.report.loaded)
    assert torch.equal(loaded.state["fc2.weight"], state["fc2.weight"])


def _open_from_menu(window, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.menu_actions["load_weights"].trigger()
    return window.findChildren(WeightsReportDialog)[-1]


def test_the_file_menu_loads_weights_shows_the_report_and_the_next_run_starts_from_them(
        train_window, qtbot, monkeypatch, donor_file):
    path, state = donor_file
    window = train_window()
    assert window.menu_actions["load_weights"].text() == "Load &Weights…"
    dialog = _open_from_menu(window, monkeypatch, path)
    assert dialog.isVisible()
    summary = dialog.summary.text()
    assert "4 of 6 tensors" in summary and "donor.pt" in summary
    assert "1 with other shapes" in summary and "1 in the file that the model does not have" \
        in summary
    table = dialog.table
    assert table.rowCount() == 7  # 6 of the model + 1 only in the file
    first = [table.item(0, c).text() for c in range(4)]
    assert first == ["fc3.weight", "[2, 16]", "[3, 16]", MISMATCHED]
    assert "fc3.weight: the model needs [2, 16], the file has [3, 16]" in dialog.report_text()
    dock = dock_of(window)
    # the run the panel prepares next starts from the file's tensors, once
    prepared = prepare_run(window.session.project, config_overrides={"device": "cpu"})
    note = dock.pending_weights.apply(prepared)
    assert note == "'MLP' starts from 4 of 6 tensors loaded from donor.pt"
    assert torch.equal(prepared.model.fc1.weight.detach(), state["fc1.weight"])
    assert dock.pending_weights.apply(prepared) is None
    # through the panel: load again, press Train, the status bar says where it started
    _open_from_menu(window, monkeypatch, path)
    messages = []
    dock.message.connect(messages.append)
    assert dock.start()
    finish(qtbot, dock)
    assert any("starts from 4 of 6 tensors loaded from donor.pt" in m for m in messages)
    dialog.close()


def test_a_checkpoint_instead_of_a_state_dict_is_refused_with_the_reason(
        train_window, monkeypatch, tmp_path, donor_file):
    bad = tmp_path / "checkpoint.pt"
    torch.save({"model": donor_file[1], "epoch": 3}, bad)
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    window = train_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.menu_actions["load_weights"].trigger()
    assert shown and "checkpoint.pt: entry 'model' is dict, not a tensor" in shown[0]
    assert "save only the model's state_dict()" in shown[0]
    assert dock_of(window).pending_weights.get("MLP") is None


def test_weights_wait_only_for_the_project_they_were_loaded_into(qapp, donor_file):
    from nnstudio.ui.load_weights import PendingWeights

    session = ProjectSession(small_project())
    pending = PendingWeights(session)
    pending.set(match_weights(session.current_graph, donor_file[0]))
    assert pending.get("MLP") is not None
    session.set_project(small_project(), None)
    assert pending.get("MLP") is None
    session.undo_stack.clear()
