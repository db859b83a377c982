"""The code preview follows the graph, shows problems instead of stale code, and
exports exactly what it shows."""

from __future__ import annotations

import ast

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from nnstudio.graph import generate
from nnstudio.ui.commands import RemoveNodesCommand, SetParamsCommand


def code_text(window) -> str:
    return window.code_view.editor.toPlainText()


def test_preview_is_the_generated_source(window):
    assert code_text(window) == generate(window.session.current_graph).source
    assert "class LeNet5(nn.Module)" in code_text(window)
    assert "61,706 parameters" in window.code_view.title.text()
    font = window.code_view.editor.font()
    assert font.fixedPitch() or "mono" in font.family().lower()
    assert window.code_view.editor.isReadOnly()


def test_preview_follows_an_edit_after_a_short_pause(window, qtbot):
    g = window.session.current_graph
    window.canvas.select_ids([g.find("fc3").id])
    spin = window.inspector.editor("out_features").field
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(spin, "7")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert window.code_view.pending  # debounced: it says it is updating ...
    assert "updating" in window.code_view.title.text()
    qtbot.waitUntil(lambda: "nn.Linear(84, 7)" in code_text(window), timeout=2000)
    assert "updating" not in window.code_view.title.text()


def test_problems_replace_the_code_until_fixed(window, qtbot):
    s = window.session
    g = s.current_graph
    s.push(RemoveNodesCommand(g, [g.find("flatten").id]))
    view = window.code_view
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.problem_list, timeout=2000)
    texts = [view.problem_list.item(i).text() for i in range(view.problem_list.count())]
    assert any("fc1" in t and "nothing connected" in t for t in texts)
    assert "No code yet" in view.title.text()
    assert not view.copy_button.isEnabled() and not view.export_button.isEnabled()
    s.undo_stack.undo()
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.editor, timeout=2000)
    assert "self.flatten" in code_text(window)


def test_activating_a_problem_selects_its_node(window, qtbot):
    s = window.session
    g = s.current_graph
    s.push(RemoveNodesCommand(g, [g.find("flatten").id]))
    view = window.code_view
    view.refresh_now()
    item = view.problem_list.item(0)
    view.problem_list.itemActivated.emit(item)
    assert window.canvas.selected_ids() == [g.find("fc1").id]
    assert window.inspector.type_label.text() == "Linear"


def test_copy_puts_the_code_on_the_clipboard(window):
    QTest.mouseClick(window.code_view.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == code_text(window)


def test_export_python_writes_the_shown_code(window, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "lenet"
    asked = {}

    def fake_save(parent, caption, start, filters):
        asked["start"] = start
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    g = window.session.current_graph
    window.session.push(SetParamsCommand(g, g.find("fc3").id, {"out_features": 3}))
    window.menu_actions["export_python"].trigger()  # right after the edit: never stale
    written = (tmp_path / "lenet.py").read_text(encoding="utf-8")
    assert "nn.Linear(84, 3)" in written
    assert written == generate(g).source
    ast.parse(written)
    assert asked["start"].endswith("le_net5.py")
    assert "Exported lenet.py" in window.statusBar().currentMessage()


def test_light_theme_recolours_the_code(window):
    from nnstudio.ui.appearance import apply_theme

    before = window.code_view.highlighter.background
    apply_theme("light")
    assert window.code_view.highlighter.background != before
    assert code_text(window) == generate(window.session.current_graph).source
