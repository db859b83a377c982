"""The layer palette: grouped by category, searchable, draggable, activatable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio.graph import REGISTRY
from nnstudio.ui.palette import TYPE_ROLE, LayerPalette

LAYER_MIME = "application/x-nnstudio-layer"


def double_click(widget, pos) -> None:
    """Press, release, double-click, release — what a mouse sends.  (QTest.mouseDClick
    sends no first release, so item views never see a double-click from it.)"""
    pos = QPointF(pos)
    for kind, buttons in ((QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton),
                          (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
                          (QEvent.Type.MouseButtonDblClick, Qt.MouseButton.LeftButton),
                          (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
        QApplication.sendEvent(widget, QMouseEvent(
            kind, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons,
            Qt.KeyboardModifier.NoModifier))


@pytest.fixture
def palette(shown):
    return shown(LayerPalette(), 240, 700)


def test_every_layer_type_is_listed_once_under_its_category(palette):
    assert sorted(palette.visible_types()) == sorted(s.type for s in REGISTRY)
    tree = palette.tree
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        for j in range(top.childCount()):
            assert REGISTRY.get(top.child(j).data(0, TYPE_ROLE)).category == top.text(0)


def test_inputs_come_first_and_each_entry_has_icon_and_doc_tooltip(palette):
    assert palette.tree.topLevelItem(0).text(0) == "Input / Output"
    item = palette.item_for("Conv2d")
    assert item.toolTip(0) == REGISTRY.get("Conv2d").doc
    assert not item.icon(0).isNull()


def test_typing_in_search_filters_by_name(palette, qtbot):
    QTest.keyClicks(palette.search, "conv")
    assert palette.visible_types() == ["Conv1d", "Conv2d", "ConvTranspose2d"]
    palette.search.clear()
    assert len(palette.visible_types()) == len(REGISTRY)


def test_search_matches_category_and_description(palette):
    palette.set_filter("recurrent")
    assert set(palette.visible_types()) == {"RNN", "LSTM", "GRU"}
    palette.set_filter("gating")  # only in Multiply's description
    assert palette.visible_types() == ["Multiply"]


def test_search_with_no_match_says_so(palette):
    palette.set_filter("zzzz")
    assert palette.visible_types() == []
    assert "No layer matches" in palette.doc.text()


def test_drag_carries_layer_mime_with_type_name(palette):
    item = palette.item_for("Linear")
    mime = palette.tree.mimeData([item])
    assert bytes(mime.data(LAYER_MIME)).decode() == "Linear"
    assert LAYER_MIME in palette.tree.mimeTypes()


def test_categories_are_not_draggable(palette):
    top = palette.tree.topLevelItem(0)
    assert not top.flags() & Qt.ItemFlag.ItemIsDragEnabled
    assert palette.item_for("Linear").flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_enter_in_search_adds_first_match(palette, qtbot):
    QTest.keyClicks(palette.search, "lstm")
    with qtbot.waitSignal(palette.layer_activated, timeout=1000) as blocker:
        QTest.keyClick(palette.search, Qt.Key.Key_Return)
    assert blocker.args == ["LSTM"]


def test_double_click_adds_the_layer(palette, qtbot):
    item = palette.item_for("Dropout")
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    with qtbot.waitSignal(palette.layer_activated, timeout=1000) as blocker:
        double_click(palette.tree.viewport(), rect.center())
    assert blocker.args == ["Dropout"]


def test_selecting_an_entry_shows_its_description(palette):
    palette.tree.setCurrentItem(palette.item_for("GELU"))
    assert "Transformers" in palette.doc.text()
