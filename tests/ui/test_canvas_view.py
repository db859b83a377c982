"""Looking around the canvas (zoom, pan, framing, selection, theme) and the small pure
parts it is built from (fuzzy search, the parameter line, clipboard checks)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio.graph import REGISTRY
from nnstudio.ui.canvas.clipboard import clean_fragment
from nnstudio.ui.canvas.geometry import node_geometry, param_line
from nnstudio.ui.canvas.quick_add import search_catalog
from nnstudio.ui.commands import AddNodeCommand, SetParamsCommand
from nnstudio.ui.theme import THEMES


def test_zoom_is_clamped_between_10_and_400_percent(canvas, qtbot):
    with qtbot.waitSignal(canvas.zoom_changed, timeout=1000) as sig:
        canvas.set_zoom(50)
    assert sig.args == [4.0] and canvas.zoom() == 4.0
    canvas.set_zoom(0.001)
    assert canvas.zoom() == pytest.approx(0.1)
    assert canvas.transform().m11() == pytest.approx(0.1)


def _wheel(canvas, at: QPoint, delta: int):
    ev = QWheelEvent(QPointF(at), QPointF(canvas.viewport().mapToGlobal(at)), QPoint(0, 0),
                     QPoint(0, delta), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(canvas.viewport(), ev)


def test_wheel_zooms_at_the_cursor(session, canvas):
    g = session.current_graph
    g.add_node("Linear", "fc", {}, pos=(0, 0))
    at = QPoint(300, 200)
    under = canvas.mapToScene(at)
    _wheel(canvas, at, 240)
    assert canvas.zoom() == pytest.approx(1.0015 ** 240)
    after = canvas.mapToScene(at)
    assert abs(after.x() - under.x()) < 2 and abs(after.y() - under.y()) < 2
    _wheel(canvas, at, -480)
    assert canvas.zoom() < 1.0


def test_f_frames_the_selection_and_all_when_nothing_is_selected(session, canvas, drive):
    g = session.current_graph
    near = g.add_node("Linear", "fc1", {}, pos=(0, 0))
    far = g.add_node("Linear", "fc2", {}, pos=(5000, 3000))
    canvas.select_ids([far.id])
    drive.key(canvas, Qt.Key_F)
    vis = canvas.mapToScene(canvas.viewport().rect()).boundingRect()
    assert vis.contains(canvas.scene_model.nodes[far.id].node_rect())
    assert not vis.contains(canvas.scene_model.nodes[near.id].node_rect())
    assert canvas.zoom() == 1.0  # never zooms in past 100 % to frame one node
    canvas.select_ids([])
    drive.key(canvas, Qt.Key_F)
    vis = canvas.mapToScene(canvas.viewport().rect()).boundingRect()
    assert vis.contains(canvas.scene_model.nodes_rect())
    assert canvas.zoom() < 0.25


def test_middle_button_drag_pans_without_editing(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Linear", "fc", {}, pos=(0, 0))
    centre = drive.node_center(canvas, a.id)
    drive.show(canvas, centre)
    before = canvas.mapToScene(canvas.viewport().rect().center())
    drive.drag(canvas, centre, centre, steps=1, button=Qt.MiddleButton)
    vp = canvas.viewport()
    p = drive.to_view(canvas, centre)
    QTest.mousePress(vp, Qt.MiddleButton, Qt.NoModifier, p)
    QTest.mouseMove(vp, p + QPoint(150, 90))
    QTest.mouseRelease(vp, Qt.MiddleButton, Qt.NoModifier, p + QPoint(150, 90))
    assert canvas.mapToScene(canvas.viewport().rect().center()) != before
    assert g.node(a.id).pos == (0.0, 0.0)
    assert session.undo_stack.count() == 0


def test_panning_moves_the_view_by_the_drag(session, canvas):
    vp = canvas.viewport()
    start = canvas.mapToScene(vp.rect().center())
    QTest.mousePress(vp, Qt.MiddleButton, Qt.NoModifier, QPoint(500, 300))
    QTest.mouseMove(vp, QPoint(400, 250))
    QTest.mouseRelease(vp, Qt.MiddleButton, Qt.NoModifier, QPoint(400, 250))
    moved = canvas.mapToScene(vp.rect().center()) - start
    assert (moved.x(), moved.y()) == (pytest.approx(100, abs=1), pytest.approx(50, abs=1))
    # space + left drag pans too, and does not start a rubber band
    QTest.keyPress(canvas, Qt.Key_Space)
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, QPoint(500, 300))
    QTest.mouseMove(vp, QPoint(520, 300))
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, QPoint(520, 300))
    QTest.keyRelease(canvas, Qt.Key_Space)
    moved2 = canvas.mapToScene(vp.rect().center()) - start
    assert moved2.x() == pytest.approx(80, abs=1)


def test_rubber_band_selects_nodes_and_reports_their_ids(session, canvas, drive, qtbot):
    g = session.current_graph
    a = g.add_node("Linear", "fc1", {}, pos=(0, 0))
    b = g.add_node("Linear", "fc2", {}, pos=(0, 120))
    g.add_node("Linear", "fc3", {}, pos=(400, 0))
    with qtbot.waitSignal(canvas.selection_changed, timeout=1000):
        drive.drag(canvas, QPointF(-40, -30), QPointF(200, 200))
    assert canvas.selected_ids() == [a.id, b.id]
    assert session.undo_stack.count() == 0


def test_select_all_and_ctrl_click(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Linear", "fc1", {}, pos=(0, 0))
    b = g.add_node("Linear", "fc2", {}, pos=(300, 0))
    seen = []
    canvas.selection_changed.connect(seen.append)
    canvas.select_all()
    assert seen == [[a.id, b.id]]  # one signal for the whole change
    drive.click(canvas, drive.node_center(canvas, a.id), Qt.ControlModifier)
    assert canvas.selected_ids() == [b.id]
    drive.click(canvas, drive.node_center(canvas, a.id))
    assert canvas.selected_ids() == [a.id]


def test_items_follow_the_document_not_the_other_way(session, canvas):
    g = session.current_graph
    cmd = AddNodeCommand(g, "Conv2d", (40, 60))
    session.push(cmd)
    item = canvas.scene_model.nodes[cmd.node_id]
    assert item.pos() == QPointF(40, 60)
    h = item.geom.height
    session.push(SetParamsCommand(g, cmd.node_id, {"padding": 2}))
    assert item.geom.param_line == "16 ch · k3 · p2"
    add = AddNodeCommand(g, "Add", (0, 300))
    session.push(add)
    session.push(SetParamsCommand(g, add.node_id, {"inputs": 4}))
    assert [p.name for p in canvas.scene_model.nodes[add.node_id].geom.inputs] == [
        "in1", "in2", "in3", "in4"]
    assert canvas.scene_model.nodes[add.node_id].geom.height > h
    g.move_node(cmd.node_id, (100, 100))
    assert item.pos() == QPointF(100, 100)
    # items hold no copy of names or parameters: rename shows through the document
    g.rename_node(cmd.node_id, "features")
    assert "features" in item.toolTip()


def test_theme_switch_repaints_with_the_new_colours(canvas):
    try:
        THEMES.set("light")
        assert canvas.scene_model.style.canvas == THEMES.current.color("canvas")
        img_light = canvas.grab().toImage()
        assert img_light.pixelColor(5, 5) == THEMES.current.color("canvas") or \
            img_light.pixelColor(5, 5).lightness() > 200
    finally:
        THEMES.set("dark")
    assert canvas.scene_model.style.canvas == THEMES.current.color("canvas")
    assert canvas.grab().toImage().pixelColor(5, 5).lightness() < 60


def test_canvas_paints_at_every_level_of_detail(session, canvas, build_chain, lenet_layers):
    build_chain(session.current_graph, lenet_layers)
    for z in (0.1, 0.3, 0.5, 1.0, 4.0):
        canvas.set_zoom(z)
        canvas.frame_all() if z < 0.2 else None
        assert not canvas.grab().isNull()


def test_closing_the_canvas_stops_following_the_document(session, make_canvas):
    g = session.current_graph
    canvas = make_canvas(session)
    canvas.close()
    g.add_node("Linear", "fc", {})  # no item, no error
    assert canvas.scene_model.nodes == {}
    canvas.close()  # twice is harmless


def test_a_deleted_canvas_leaves_no_connections(session, qapp):
    from nnstudio.ui.canvas import GraphCanvas

    g = session.current_graph
    before = len(g.node_added)
    canvas = GraphCanvas(session, g)
    assert len(g.node_added) == before + 1
    canvas.deleteLater()  # a tab closed without close()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QApplication.processEvents()
    assert len(g.node_added) == before
    g.add_node("Linear", "fc", {})


def test_locked_edits_change_nothing(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(300, 0))
    session.set_locked("training is running")
    seen = []
    session.message.connect(seen.append)
    drive.connect(canvas, a.id, "out", b.id, "in")
    centre = drive.node_center(canvas, b.id)
    drive.drag(canvas, centre, centre + QPointF(100, 100))
    assert g.edges == [] and g.node(b.id).pos == (300.0, 0.0)
    assert canvas.scene_model.nodes[b.id].pos() == QPointF(300, 0)  # snapped back
    assert any("locked" in m for m in seen)


# ---------------------------------------------------------------- pure parts
@pytest.mark.parametrize("query, first", [
    ("conv2d", "Conv2d"), ("c2d", "Conv2d"), ("lin", "Linear"), ("relu", "ReLU"),
    ("bn2", "BatchNorm2d"), ("lstm", "LSTM"),
])
def test_fuzzy_search_puts_the_likely_layer_first(query, first):
    assert search_catalog(query, REGISTRY)[0].type == first


def test_fuzzy_search_reads_categories_and_docs():
    assert {"BatchNorm1d", "BatchNorm2d", "LayerNorm"} <= {
        s.type for s in search_catalog("normalization", REGISTRY)}
    assert "Softmax" in [s.type for s in search_catalog("probabilities", REGISTRY)][:3]
    assert search_catalog("zzzq", REGISTRY) == []
    assert len(search_catalog("", REGISTRY)) == len(REGISTRY)


def test_parameter_line_is_compact():
    conv = REGISTRY.get("Conv2d")
    params = conv.clean_params({"out_channels": 6, "kernel_size": 5, "padding": 2})
    assert param_line(conv, params) == "6 ch · k5 · p2"
    lin = REGISTRY.get("Linear")
    assert param_line(lin, lin.defaults()) == "10 units"
    assert param_line(REGISTRY.get("ReLU"), {}) == ""


def test_node_geometry_spreads_many_ports_and_centres_one():
    add = REGISTRY.get("Add")
    g = node_geometry(add, add.clean_params({"inputs": 3}))
    assert g.show_port_names and len({p.y for p in g.inputs}) == 3
    relu = node_geometry(REGISTRY.get("ReLU"), {})
    assert not relu.show_port_names
    assert relu.inputs[0].y == relu.outputs[0].y


@pytest.mark.parametrize("bad", [
    {"format": "nnstudio-fragment", "nodes": [{"id": "a", "type": "Nope"}]},
    {"format": "nnstudio-fragment", "nodes": [{"id": "a", "type": "ReLU",
                                               "pos": ["x", 0]}]},
    {"format": "nnstudio-fragment", "nodes": [{"id": 3, "type": "ReLU"}]},
    {"format": "nnstudio-fragment", "nodes": []},
    {"format": "other", "nodes": [{"id": "a", "type": "ReLU"}]},
    [1, 2, 3],
])
def test_clipboard_fragments_are_checked(bad):
    assert clean_fragment(json.loads(json.dumps(bad)), REGISTRY) is None


def test_clipboard_fragment_drops_wires_to_outside_nodes():
    frag = {"format": "nnstudio-fragment", "nodes": [
        {"id": "a", "type": "ReLU", "pos": [0, 0]}],
        "edges": [{"src": "z", "src_port": "out", "dst": "a", "dst_port": "in"}]}
    clean = clean_fragment(frag, REGISTRY)
    assert clean["edges"] == [] and clean["nodes"][0]["type"] == "ReLU"


def test_zoomed_out_the_canvas_drops_small_text_and_thins_wires(session, canvas, build_chain,
                                                                lenet_layers):
    ids = build_chain(session.current_graph, lenet_layers)
    labels = [w.label_item for w in canvas.scene_model.wires.values()]
    assert all(lab.isVisible() for lab in labels)
    canvas.set_zoom(0.3)
    assert not any(lab.isVisible() for lab in labels)
    wire = next(iter(canvas.scene_model.wires.values()))
    assert wire.pen().isCosmetic() and wire.pen().widthF() == 1.0
    canvas.set_zoom(1.5)
    assert all(lab.isVisible() for lab in labels)
    assert not wire.pen().isCosmetic()
    assert canvas.scene_model.nodes[ids[0]].serial < canvas.scene_model.nodes[ids[1]].serial


def test_double_click_on_a_node_activates_it(session, canvas, drive, qtbot):
    g = session.current_graph
    a = g.add_node("Linear", "fc", {}, pos=(0, 0))
    drive.show(canvas, drive.node_center(canvas, a.id))
    with qtbot.waitSignal(canvas.node_activated, timeout=1000) as sig:
        QTest.mouseDClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier,
                          drive.to_view(canvas, drive.node_center(canvas, a.id)))
    assert sig.args == [a.id]
    assert not canvas.quick_add.isVisible()


def test_zoom_gesture_caches_coarsely_then_sharp_again(session, canvas, qtbot):
    from PySide6.QtWidgets import QGraphicsItem

    g = session.current_graph
    a = g.add_node("Linear", "fc", {}, pos=(0, 0))
    item = canvas.scene_model.nodes[a.id]
    canvas.set_zoom(0.6)
    assert item.cacheMode() == QGraphicsItem.ItemCoordinateCache
    qtbot.waitUntil(lambda: item.cacheMode() == QGraphicsItem.DeviceCoordinateCache,
                    timeout=2000)
