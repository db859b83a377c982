"""The main window as a person meets it: docks, menus, status bar, selection, editing
through the inspector, the start page, themes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget

from nnstudio.ui.canvas import GraphCanvas


def trigger(window, name: str) -> None:
    """Choose a menu command (what clicking it in the menu does)."""
    action = window.menu_actions[name]
    assert action.isEnabled(), f"{name} is disabled"
    action.trigger()
    QApplication.processEvents()


def node(window, name: str):
    return window.session.current_graph.find(name)


def test_app_opens_on_an_example_with_every_dock(qtbot, isolated_settings):
    from nnstudio.ui.app import open_window

    window = open_window()
    try:
        qtbot.waitUntil(lambda: window.start_page is not None and window.start_page.isVisible())
        assert isinstance(window.canvas, GraphCanvas)
        assert len(window.session.current_graph) > 0  # the example, not a blank page
        docks = {d.objectName(): d for d in window.findChildren(QDockWidget)}
        assert {"PaletteDock", "InspectorDock", "BottomDock"} <= set(docks)
        assert docks["PaletteDock"].widget() is window.layer_palette
        assert docks["InspectorDock"].widget() is window.inspector
        assert window.bottom_tabs.tabText(0) == "Code"
        assert window.bottom_tabs.widget(0) is window.code_view
        assert window.windowTitle().endswith("[*] — nnstudio")
        assert window.dockWidgetArea(docks["PaletteDock"]) == Qt.DockWidgetArea.LeftDockWidgetArea
        assert window.dockWidgetArea(docks["InspectorDock"]) == Qt.DockWidgetArea.RightDockWidgetArea
        window.start_page.close()
    finally:
        window.session.undo_stack.setClean()
        window.close()
        window.deleteLater()


def test_clicking_a_node_fills_the_inspector_and_status_bar(window, drive):
    canvas = window.canvas
    conv1 = node(window, "conv1")
    drive.click(canvas, drive.node_center(canvas, conv1.id))
    assert canvas.selected_ids() == [conv1.id]
    assert window.inspector.type_label.text() == "Conv2d"
    assert window.inspector.name_edit.text() == "conv1"
    assert window.selection_label.text() == "1 node selected"


def test_several_selected_nodes_are_counted(window):
    trigger(window, "select_all")
    n = len(window.session.current_graph)
    assert window.selection_label.text() == f"{n} nodes selected"
    assert window.inspector.placeholder.text().startswith(f"{n} nodes selected")


def test_status_bar_shows_parameters_errors_and_zoom(window):
    assert window.params_label.text() == "61,706 parameters"
    assert "No errors" in window.errors_label.text()
    window.canvas.set_zoom(0.5)
    assert window.zoom_label.text() == "50 %"
    trigger(window, "zoom_reset")
    assert window.zoom_label.text() == "100 %"
    trigger(window, "zoom_in")
    assert window.zoom_label.text() == "125 %"


def test_inspector_spin_box_edit_is_undone_from_the_edit_menu(window):
    fc3 = node(window, "fc3")
    window.canvas.select_ids([fc3.id])
    spin = window.inspector.editor("out_features").field
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(spin, "5")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert fc3.params["out_features"] == 5
    assert window.isWindowModified()
    assert window.params_label.text() == f"{61706 - (84 * 5 + 5):,} parameters"
    trigger(window, "undo")
    assert fc3.params["out_features"] == 10
    assert spin.value() == 10
    assert not window.isWindowModified()


def test_invalid_name_leaves_document_and_says_why(window):
    conv1 = node(window, "conv1")
    window.canvas.select_ids([conv1.id])
    edit = window.inspector.name_edit
    edit.setFocus()
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(edit, "fc1")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert conv1.name == "conv1"
    assert "already exists" in window.inspector.name_error_text()
    assert not window.isWindowModified()


def test_double_clicking_the_palette_adds_a_layer_to_the_canvas(window):
    g = window.session.current_graph
    before = len(g)
    window.layer_palette.layer_activated.emit("Dropout")  # what double-click/Enter emit
    assert len(g) == before + 1
    added = [n for n in g.nodes if n.type == "Dropout"]
    assert len(added) == 1
    trigger(window, "undo")
    assert len(g) == before


def test_palette_search_then_enter_adds_the_first_match(window):
    g = window.session.current_graph
    search = window.layer_palette.search
    search.setFocus()
    QTest.keyClicks(search, "batchnorm2")
    QTest.keyClick(search, Qt.Key.Key_Return)
    assert [n.type for n in g.nodes].count("BatchNorm2d") == 1


def test_delete_from_edit_menu_and_undo(window):
    g = window.session.current_graph
    relu1 = node(window, "relu1")
    window.canvas.select_ids([relu1.id])
    trigger(window, "delete")
    assert g.find("relu1") is None
    assert "error" in window.errors_label.text()
    trigger(window, "undo")
    assert g.find("relu1") is not None
    assert "No errors" in window.errors_label.text()


def test_edit_actions_need_a_selection(window):
    window.canvas.select_ids([])
    for name in ("cut", "copy", "delete", "duplicate"):
        assert not window.menu_actions[name].isEnabled()
    window.canvas.select_ids([node(window, "fc1").id])
    for name in ("cut", "copy", "delete", "duplicate"):
        assert window.menu_actions[name].isEnabled()


def test_duplicate_shortcut(window):
    g = window.session.current_graph
    before = len(g)
    window.canvas.select_ids([node(window, "fc1").id])
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(g) == before + 1


def test_standard_shortcuts_are_set(window):
    from PySide6.QtGui import QKeySequence

    def keys(name):
        return window.menu_actions[name].shortcuts()

    assert QKeySequence(QKeySequence.StandardKey.Save) in keys("save")
    assert QKeySequence(QKeySequence.StandardKey.Undo) in keys("undo")
    assert QKeySequence("Ctrl+D") in keys("duplicate")
    assert QKeySequence("Ctrl+L") in keys("auto_layout")
    assert QKeySequence("F") in keys("frame_selection")


def test_theme_switch_restyles_the_application(window, qapp):
    from nnstudio.ui.theme import theme

    dark = qapp.styleSheet()
    assert theme().colors["window"] in dark
    trigger(window, "theme_light")
    assert theme().name == "light"
    light = qapp.styleSheet()
    assert light != dark and theme().colors["window"] in light
    assert window.menu_actions["theme_light"].isChecked()
    trigger(window, "theme_dark")
    assert qapp.styleSheet() == dark


def test_dock_toggles_hide_and_show_docks(window):
    action = window.menu_actions["toggle_inspector"]
    assert action.isChecked()
    action.trigger()
    assert window.inspector_dock.isHidden()
    action.trigger()
    assert not window.inspector_dock.isHidden()


def test_bottom_tabs_take_more_panels(window):
    from PySide6.QtWidgets import QLabel

    index = window.add_bottom_tab(QLabel("more"), "More")
    assert index == window.bottom_tabs.count() - 1  # after the panels the window mounts
    assert window.bottom_tabs.tabText(0) == "Code"
    assert window.bottom_tabs.tabText(index) == "More"


def test_start_page_opens_the_chosen_example(window, qtbot):
    trigger(window, "new")
    page = window.start_page
    assert page is not None and page.isVisible()
    page.select_template("perceptron")
    assert "Perceptron" in page.detail_title.text()
    QTest.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert window.session.project.title.startswith("Perceptron")
    assert window.canvas.graph is window.session.current_graph
    assert window.params_label.text() == "3 parameters"
    qtbot.waitUntil(lambda: window.start_page is None)


def test_locked_session_shows_reason_in_inspector(window):
    window.canvas.select_ids([node(window, "conv1").id])
    window.session.set_locked("training is running")
    assert not window.inspector.page.isEnabled()
    assert "training is running" in window.inspector.lock_banner.text()
    window.session.set_locked("")


def test_window_geometry_and_docks_are_restored(make_window):
    first = make_window(size=(700, 520))
    first.inspector_dock.hide()
    first.close()
    second = make_window()
    assert second.inspector_dock.isHidden()
    assert second.size().width() == 700


def _close(window) -> None:
    if window.start_page is not None:
        window.start_page.close()
    window.session.undo_stack.setClean()
    window.close()
    window.deleteLater()


def test_starting_with_a_file_opens_it_without_the_start_page(tmp_path):
    from nnstudio.graph.project_file import save_project
    from nnstudio.graph.templates import load_template
    from nnstudio.ui.app import open_window

    path = tmp_path / "given.nnstudio"
    save_project(load_template("perceptron"), path)
    window = open_window(str(path))
    try:
        QApplication.processEvents()
        assert window.session.path == str(path.resolve())
        assert window.windowTitle() == "given.nnstudio[*] — nnstudio"
        assert window.start_page is None
    finally:
        _close(window)


def test_starting_with_a_broken_file_says_so_and_opens_the_example(tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from nnstudio.ui.app import open_window

    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        staticmethod(lambda parent, title, text, *a, **k: shown.append(text)))
    path = tmp_path / "bad.nnstudio"
    path.write_text("not json")
    window = open_window(str(path))
    try:
        assert shown and "bad.nnstudio" in shown[0] and "not valid JSON" in shown[0]
        assert window.session.path is None
        assert len(window.session.current_graph) > 0
    finally:
        _close(window)


def test_ctrl_c_in_the_code_view_copies_text_not_nodes(window):
    editor = window.code_view.editor
    window.canvas.select_ids([node(window, "fc1").id])
    editor.setFocus()
    QTest.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(editor, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == editor.toPlainText()
    assert window.canvas.selected_ids() == [node(window, "fc1").id]


def test_typing_f_in_a_name_field_types_it(window):
    window.canvas.select_ids([node(window, "fc1").id])
    edit = window.inspector.name_edit
    edit.setFocus()
    edit.end(False)
    QTest.keyClicks(edit, "f")
    assert edit.text() == "fc1f"
