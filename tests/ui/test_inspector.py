"""The inspector edits the selected node through the undo stack and shows what the
document says: values, shapes, parameter count, errors, refusals."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from nnstudio.ui.inspector import Inspector


@pytest.fixture
def inspector(lenet_session, qtbot):
    w = Inspector(lenet_session)
    qtbot.addWidget(w)
    w.resize(320, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def node_id(session, name: str) -> str:
    return session.current_graph.find(name).id


def select(inspector, name: str) -> None:
    inspector.set_selection([node_id(inspector.session, name)])


def type_into(widget, text: str) -> None:
    """Click into ``widget``, select what is there, type ``text`` and press Enter."""
    widget.setFocus()
    QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Return)


def test_nothing_selected_says_how_to_start(inspector):
    assert inspector.stack.currentWidget() is inspector.placeholder
    assert "Select a layer" in inspector.placeholder.text()


def test_several_selected_says_how_many(inspector, lenet_session):
    inspector.set_selection([node_id(lenet_session, n) for n in ("conv1", "relu1", "pool1")])
    assert inspector.placeholder.text().startswith("3 nodes selected")


def test_selected_node_fills_type_doc_shapes_and_count(inspector, lenet_session):
    select(inspector, "conv1")
    assert inspector.stack.currentWidget() is inspector.scroll
    assert inspector.type_label.text() == "Conv2d"
    assert inspector.name_edit.text() == "conv1"
    assert "convolution" in inspector.doc_label.text().lower()
    shapes = inspector.shapes_label.text()
    assert "[B, 1, 28, 28]" in shapes and "[B, 6, 28, 28]" in shapes
    assert "156" in shapes  # 6 × (1 × 5 × 5) + 6
    assert inspector.editor("out_channels").field.value() == 6
    assert inspector.editor("bias").field.isChecked()


def test_widgets_follow_parameter_kinds(inspector):
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

    select(inspector, "conv1")
    spin = inspector.editor("kernel_size").field
    assert isinstance(spin, QSpinBox) and (spin.minimum(), spin.maximum()) == (1, 99)
    assert isinstance(inspector.editor("bias").field, QCheckBox)
    select(inspector, "image")
    assert isinstance(inspector.editor("shape").field, QLineEdit)
    assert inspector.editor("shape").field.text() == "1, 28, 28"
    assert isinstance(inspector.editor("dtype").field, QComboBox)
    inspector.session.current_graph.add_node("Dropout", "drop")
    select(inspector, "drop")
    assert isinstance(inspector.editor("p").field, QDoubleSpinBox)
    assert inspector.editor("p").field.text() == "0.5"


def test_spin_box_edit_is_one_undoable_command(inspector, lenet_session):
    select(inspector, "conv1")
    spin = inspector.editor("out_channels").field
    count = lenet_session.undo_stack.count()
    type_into(spin, "32")
    node = lenet_session.current_graph.find("conv1")
    assert node.params["out_channels"] == 32
    assert lenet_session.undo_stack.count() == count + 1
    assert "[B, 32, 28, 28]" in inspector.shapes_label.text()
    lenet_session.undo_stack.undo()
    assert node.params["out_channels"] == 6
    assert spin.value() == 6  # undo moved the widget back ...
    assert lenet_session.undo_stack.count() == count + 1  # ... without pushing anything


def click_check(check) -> None:
    """Click a check box on its box (a wide one is not clicked in its empty middle)."""
    QTest.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(7, check.height() // 2))


def test_checkbox_and_combo_edits(inspector, lenet_session):
    select(inspector, "conv1")
    click_check(inspector.editor("bias").field)
    assert lenet_session.current_graph.find("conv1").params["bias"] is False
    lenet_session.current_graph.add_node("Upsample", "up")
    select(inspector, "up")
    combo = inspector.editor("mode").field
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert lenet_session.current_graph.find("up").params["mode"] == "bilinear"


def test_choice_refused_by_document_reverts_and_says_why(inspector, lenet_session):
    select(inspector, "image")
    combo = inspector.editor("dtype").field
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)  # "long" would feed token ids to a Conv2d
    assert lenet_session.current_graph.find("image").params["dtype"] == "float"
    assert combo.currentText() == "float"
    assert "disconnect it first" in inspector.param_error("dtype")


def test_ints_field_parses_text_and_reports_bad_input_inline(inspector, lenet_session):
    select(inspector, "image")
    field = inspector.editor("shape").field
    type_into(field, "3,32,32")
    image = lenet_session.current_graph.find("image")
    assert image.params["shape"] == (3, 32, 32)
    assert field.text() == "3, 32, 32"
    count = lenet_session.undo_stack.count()
    type_into(field, "3, 32, a")
    assert "integers separated by commas" in inspector.param_error("shape")
    assert image.params["shape"] == (3, 32, 32)
    assert lenet_session.undo_stack.count() == count
    type_into(field, "1, 28, 28")
    assert inspector.param_error("shape") == ""


def test_refused_name_shows_inline_and_leaves_document(inspector, lenet_session):
    select(inspector, "conv1")
    count = lenet_session.undo_stack.count()
    type_into(inspector.name_edit, "conv2")
    assert "already exists" in inspector.name_error_text()
    assert lenet_session.current_graph.find("conv1") is not None
    assert lenet_session.undo_stack.count() == count
    type_into(inspector.name_edit, "features")
    assert inspector.name_error_text() == ""
    assert lenet_session.current_graph.find("features") is not None


def test_empty_name_is_refused(inspector, lenet_session):
    select(inspector, "fc1")
    type_into(inspector.name_edit, "   ")
    assert "empty" in inspector.name_error_text()
    assert lenet_session.current_graph.find("fc1") is not None


def test_shape_error_of_node_is_shown_in_red(inspector, lenet_session):
    g = lenet_session.current_graph
    select(inspector, "conv2")
    assert inspector.node_error.isHidden()
    g.set_params(g.find("image").id, {"shape": (1, 4, 4)})  # 2 × 2 maps reach a 5 × 5 kernel
    assert not inspector.node_error.isHidden()
    assert "conv2" in inspector.node_error.text()


def test_frozen_and_learning_rate_go_through_the_stack(inspector, lenet_session):
    select(inspector, "fc1")
    node = lenet_session.current_graph.find("fc1")
    click_check(inspector.frozen_check)
    assert node.frozen
    type_into(inspector.lr_spin, "0.1")
    assert node.lr_mult == pytest.approx(0.1)
    lenet_session.undo_stack.undo()
    lenet_session.undo_stack.undo()
    assert (node.frozen, node.lr_mult) == (False, 1.0)
    assert not inspector.frozen_check.isChecked()
    assert inspector.lr_spin.value() == 1.0


def test_layers_without_weights_hide_transfer_learning(inspector):
    select(inspector, "relu1")
    assert inspector.training_box.isHidden()
    assert not inspector.no_params.isHidden()


def test_locked_session_makes_inspector_read_only(inspector, lenet_session):
    select(inspector, "conv1")
    lenet_session.set_locked("training is running")
    assert not inspector.page.isEnabled()
    assert not inspector.lock_banner.isHidden()
    assert "training is running" in inspector.lock_banner.text()
    lenet_session.set_locked("")
    assert inspector.page.isEnabled() and inspector.lock_banner.isHidden()


def test_node_removed_by_undo_empties_inspector(inspector, lenet_session):
    from nnstudio.ui.commands import AddNodeCommand

    g = lenet_session.current_graph
    cmd = AddNodeCommand(g, "Linear", (0, 300))
    lenet_session.push(cmd)
    inspector.set_selection([cmd.node_id])
    assert inspector.type_label.text() == "Linear"
    lenet_session.undo_stack.undo()
    assert inspector.stack.currentWidget() is inspector.placeholder
