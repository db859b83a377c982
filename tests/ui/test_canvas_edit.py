"""Editing on the canvas: adding, moving, deleting, clipboard, layout — each one undo step
that undo reverses exactly."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from nnstudio.graph import Edge, Graph
from nnstudio.ui.canvas import FRAGMENT_MIME
from nnstudio.ui.commands import SetParamsCommand


def test_drop_from_the_palette_adds_a_node_at_the_drop_point(session, canvas, drive):
    g = session.current_graph
    at = QPointF(250, 130)
    assert drive.drop_layer(canvas, "Conv2d", at)
    [node] = g.nodes
    assert node.type == "Conv2d"
    assert canvas.scene_model.nodes[node.id].node_rect().contains(at)
    assert node.pos[0] % 20 == 0 and node.pos[1] % 20 == 0  # snapped to the grid
    assert canvas.selected_ids() == [node.id]
    assert session.undo_stack.count() == 1
    session.undo_stack.undo()
    assert g.nodes == [] and not canvas.scene_model.nodes


def test_dropping_a_layer_onto_a_wire_inserts_it(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (8,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(600, 0))
    edge = g.connect(a.id, "out", b.id, "in")
    wire = canvas.scene_model.wires[edge]
    before = g.to_dict()
    assert drive.drop_layer(canvas, "ReLU", wire.path().pointAtPercent(0.3))
    relu = g.find("relu")
    assert relu is not None
    assert set(g.edges) == {Edge(a.id, "out", relu.id, "in"), Edge(relu.id, "out", b.id, "in")}
    assert session.undo_stack.count() == 1
    assert session.undo_stack.text(0) == "Insert ReLU"
    session.undo_stack.undo()
    assert g.to_dict() == before


def test_a_layer_that_cannot_sit_on_the_wire_is_added_beside_it(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (8,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(600, 0))
    edge = g.connect(a.id, "out", b.id, "in")
    wire = canvas.scene_model.wires[edge]
    assert drive.drop_layer(canvas, "Embedding", wire.path().pointAtPercent(0.5))
    assert g.edges == [edge]  # a float wire cannot feed token ids
    assert g.find("embed") is not None
    assert session.undo_stack.count() == 1


def test_a_drop_of_something_else_is_ignored(session, canvas):
    mime = QMimeData()
    mime.setText("Conv2d")
    from PySide6.QtGui import QDropEvent

    ev = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(canvas.viewport(), ev)
    assert session.current_graph.nodes == []


def test_unknown_layer_type_adds_nothing(session, canvas):
    seen = []
    session.message.connect(seen.append)
    assert canvas.add_node_at("Transmogrifier", QPointF(0, 0)) is None
    assert session.current_graph.nodes == [] and seen


def test_quick_add_finds_a_layer_by_fuzzy_search_and_adds_it_at_the_point(
        session, canvas, drive):
    g = session.current_graph
    at = QPointF(-140, 60)
    drive.quick_add(canvas, "c2d", at)
    [node] = g.nodes
    assert node.type == "Conv2d"
    assert canvas.scene_model.nodes[node.id].node_rect().contains(at)
    assert not canvas.quick_add.isVisible()


def test_tab_opens_quick_add_and_escape_closes_it(canvas, drive):
    drive.key(canvas, Qt.Key_Tab)
    assert canvas.quick_add.isVisible()
    assert canvas.quick_add.list.count() > 20
    drive.key(canvas.quick_add.edit, Qt.Key_Escape)
    assert not canvas.quick_add.isVisible()


def test_double_click_on_empty_canvas_opens_quick_add(canvas):
    from PySide6.QtTest import QTest

    QTest.mouseDClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier,
                      canvas.viewport().rect().center())
    assert canvas.quick_add.isVisible()


def test_moving_nodes_by_drag_is_one_undo_step_and_undo_restores_exactly(
        session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Linear", "fc1", {}, pos=(13.5, 7.25))
    b = g.add_node("Linear", "fc2", {}, pos=(300, 100))
    canvas.select_ids([a.id, b.id])
    centre = drive.node_center(canvas, a.id)
    drive.drag(canvas, centre, centre + QPointF(107, 52), steps=8)
    assert session.undo_stack.count() == 1
    assert session.undo_stack.text(0) == "Move 2 nodes"
    new_a, new_b = g.node(a.id).pos, g.node(b.id).pos
    assert new_a[0] % 20 == 0 and new_a[1] % 20 == 0  # the dragged node snaps
    assert (new_b[0] - 300, new_b[1] - 100) == (new_a[0] - 13.5, new_a[1] - 7.25)
    session.undo_stack.undo()
    assert g.node(a.id).pos == (13.5, 7.25)
    assert g.node(b.id).pos == (300.0, 100.0)
    assert canvas.scene_model.nodes[a.id].pos() == QPointF(13.5, 7.25)
    session.undo_stack.redo()
    assert (g.node(a.id).pos, g.node(b.id).pos) == (new_a, new_b)


def test_without_snapping_nodes_move_by_the_exact_drag(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Linear", "fc1", {}, pos=(0, 0))
    canvas.snap_to_grid = False
    centre = drive.node_center(canvas, a.id)
    drive.drag(canvas, centre, centre + QPointF(37, 11))
    assert g.node(a.id).pos == (37.0, 11.0)


def test_a_click_without_moving_pushes_nothing(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Linear", "fc1", {}, pos=(0, 0))
    drive.click(canvas, drive.node_center(canvas, a.id))
    assert canvas.selected_ids() == [a.id]
    assert session.undo_stack.count() == 0


def test_delete_removes_nodes_with_their_wires_and_undo_restores_both(
        session, canvas, drive, build_chain, canonical_dict):
    g = session.current_graph
    ids = build_chain(g, [("Input", "x", {"shape": (4,)}), ("Linear", "fc", {}),
                          ("ReLU", "relu", {}), ("Output", "output", {})])
    before = canonical_dict(g)
    drive.click(canvas, drive.node_center(canvas, ids[1]))
    drive.key(canvas, Qt.Key_Delete)
    assert ids[1] not in g and len(g.edges) == 1
    assert len(canvas.scene_model.wires) == 1
    assert session.undo_stack.count() == 1
    session.undo_stack.undo()
    assert canonical_dict(g) == before
    assert set(canvas.scene_model.wires) == set(g.edges)
    assert set(canvas.scene_model.nodes) == set(ids)


def test_undo_of_a_delete_restores_the_node_order_too(session, canvas, build_chain):
    g = session.current_graph
    ids = build_chain(g, [("Input", "x", {"shape": (4,)}), ("Linear", "fc", {}),
                          ("ReLU", "relu", {})])
    before = g.to_dict()
    canvas.select_ids([ids[1]])
    canvas.delete_selection()
    session.undo_stack.undo()
    assert g.to_dict() == before


def test_deleting_nodes_and_a_wire_together_is_one_step(session, canvas, build_chain,
                                                       canonical_dict, drive):
    g = session.current_graph
    ids = build_chain(g, [("Input", "x", {"shape": (4,)}), ("Linear", "fc", {}),
                          ("ReLU", "relu", {}), ("Output", "output", {})])
    before = canonical_dict(g)
    canvas.select_ids([ids[3]])
    wire = canvas.scene_model.wires[Edge(ids[0], "out", ids[1], "in")]
    drive.click(canvas, wire.path().pointAtPercent(0.5), Qt.ControlModifier)
    assert canvas.selected_ids() == [ids[3]] and wire.selected
    canvas.delete_selection()
    assert ids[3] not in g
    assert g.edges == [Edge(ids[1], "out", ids[2], "in")]
    assert session.undo_stack.count() == 1
    assert session.undo_stack.text(0) == "Delete output and 1 wire"
    session.undo_stack.undo()
    assert canonical_dict(g) == before


def test_backspace_also_deletes(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Linear", "fc", {}, pos=(0, 0))
    canvas.select_ids([a.id])
    drive.key(canvas, Qt.Key_Backspace)
    assert g.nodes == []


def _fragment_types(graph: Graph):
    return sorted((n.type, n.name) for n in graph.nodes)


def test_copy_paste_across_graphs_and_sessions(session, second_session, make_canvas,
                                               build_chain):
    g1 = session.current_graph
    ids = build_chain(g1, [("Input", "x", {"shape": (1, 28, 28)}),
                           ("Conv2d", "conv1", {"out_channels": 6, "kernel_size": 5}),
                           ("ReLU", "relu1", {})])
    g2 = session.project.add_graph(Graph("Other"))
    c1 = make_canvas(session, g1)
    c2 = make_canvas(session, g2)
    c3 = make_canvas(second_session)
    c1.select_ids(ids[1:])
    c1.copy_selection()
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasFormat(FRAGMENT_MIME)
    assert json.loads(mime.text())["format"] == "nnstudio-fragment"

    for canvas, sess in ((c2, session), (c3, second_session)):
        g = canvas.graph
        canvas.paste()
        assert _fragment_types(g) == [("Conv2d", "conv1"), ("ReLU", "relu1")]
        conv = g.find("conv1")
        assert conv.params == g1.node(ids[1]).params
        assert g.edges == [Edge(conv.id, "out", g.find("relu1").id, "in")]
        assert sorted(canvas.selected_ids()) == sorted(n.id for n in g.nodes)
        # a second paste into the same graph gets fresh names and does not overlap
        canvas.paste()
        assert len(g.nodes) == 4 and len({n.name for n in g.nodes}) == 4
        assert len({n.pos for n in g.nodes}) == 4
        sess.undo_stack.undo()
        sess.undo_stack.undo()
        assert g.nodes == []
    assert len(g1.nodes) == 3  # the source is untouched


def test_paste_ignores_text_that_is_not_a_fragment(session, canvas):
    seen = []
    session.message.connect(seen.append)
    for text in ("hello", "[1, 2]", json.dumps({"format": "nnstudio-fragment",
                                                "nodes": [{"id": "a", "type": "Nope"}]})):
        QGuiApplication.clipboard().setText(text)
        canvas.paste()
    assert session.current_graph.nodes == []
    assert session.undo_stack.count() == 0
    assert len(seen) == 3


def test_paste_of_bad_parameters_is_refused_whole(session, canvas):
    frag = {"format": "nnstudio-fragment", "version": 1, "nodes": [
        {"id": "a", "type": "Linear", "name": "fc", "params": {"out_features": 4},
         "pos": [0, 0]},
        {"id": "b", "type": "Linear", "name": "fc2", "params": {"out_features": -3},
         "pos": [0, 0]}], "edges": []}
    QGuiApplication.clipboard().setText(json.dumps(frag))
    canvas.paste()
    assert session.current_graph.nodes == []


def test_cut_then_paste_brings_the_nodes_back(session, canvas, build_chain):
    g = session.current_graph
    ids = build_chain(g, [("Linear", "fc", {"out_features": 7}), ("ReLU", "relu", {})])
    canvas.select_ids(ids)
    canvas.cut_selection()
    assert g.nodes == []
    assert session.undo_stack.text(0) == "Cut 2 nodes"
    canvas.paste()
    assert _fragment_types(g) == [("Linear", "fc"), ("ReLU", "relu")]
    assert g.find("fc").params["out_features"] == 7
    assert len(g.edges) == 1


def test_duplicate_copies_beside_the_original_and_selects_the_copy(session, canvas,
                                                                  build_chain):
    g = session.current_graph
    ids = build_chain(g, [("Linear", "fc", {}), ("ReLU", "relu", {})])
    canvas.select_ids(ids)
    canvas.duplicate_selection()
    assert len(g.nodes) == 4 and len(g.edges) == 2
    new = canvas.selected_ids()
    assert len(new) == 2 and not set(new) & set(ids)
    assert g.node(new[0]).pos == (40.0, 40.0)
    assert session.undo_stack.text(0) == "Duplicate 2 nodes"
    canvas.duplicate_selection()  # a copy of the copy steps on again
    assert {n.pos for n in g.nodes} >= {(80.0, 80.0)}


def test_auto_layout_is_one_step_called_auto_layout(session, canvas, build_chain,
                                                    lenet_layers):
    g = session.current_graph
    ids = build_chain(g, lenet_layers)
    for i, nid in enumerate(ids):
        g.move_node(nid, (0.0, i * 7.0))  # a heap
    before = {nid: g.node(nid).pos for nid in ids}
    canvas.auto_layout()
    assert session.undo_stack.count() == 1
    assert session.undo_stack.text(0) == "Auto-layout"
    xs = [g.node(nid).pos[0] for nid in ids]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    # every wire has room for its shape label after auto-layout
    assert all(w.label and w.label_text() == w.label for w in canvas.scene_model.wires.values())
    session.undo_stack.undo()
    assert {nid: g.node(nid).pos for nid in ids} == before


@pytest.mark.parametrize("snap", [True, False])
def test_undo_everything_back_to_empty_then_redo_to_an_identical_document(
        session, canvas, drive, snap):
    g = session.current_graph
    canvas.snap_to_grid = snap
    drive.drop_layer(canvas, "Input", QPointF(0, 0))
    x = g.nodes[0]
    session.push(SetParamsCommand(g, x.id, {"shape": (1, 28, 28)}))
    drive.drop_layer(canvas, "Conv2d", QPointF(300, 0))
    conv = g.find("conv")
    drive.quick_add(canvas, "Flatten", QPointF(600, 0))
    flat = g.find("flatten")
    drive.quick_add(canvas, "Linear", QPointF(900, 0))
    fc = g.find("fc")
    drive.connect(canvas, x.id, "out", conv.id, "in")
    drive.connect(canvas, conv.id, "out", flat.id, "in")
    drive.connect(canvas, flat.id, "out", fc.id, "in")
    wire = canvas.scene_model.wires[Edge(conv.id, "out", flat.id, "in")]
    drive.drop_layer(canvas, "ReLU", wire.path().pointAtPercent(0.5))  # insert
    centre = drive.node_center(canvas, fc.id)
    drive.drag(canvas, centre, centre + QPointF(33, 71))  # move
    canvas.select_ids([fc.id])
    canvas.duplicate_selection()
    canvas.select_ids([flat.id])
    canvas.delete_selection()
    canvas.auto_layout()
    final = g.to_dict()
    steps = session.undo_stack.count()
    assert steps >= 12
    while session.undo_stack.canUndo():
        session.undo_stack.undo()
    assert g.to_dict()["nodes"] == [] and g.to_dict()["edges"] == []
    assert not canvas.scene_model.nodes and not canvas.scene_model.wires
    while session.undo_stack.canRedo():
        session.undo_stack.redo()
    assert g.to_dict() == final
    assert set(canvas.scene_model.nodes) == {n.id for n in g.nodes}
    assert set(canvas.scene_model.wires) == set(g.edges)
    for n in g.nodes:
        assert canvas.scene_model.nodes[n.id].pos() == QPointF(*n.pos)
