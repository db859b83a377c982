"""Wiring by mouse: drags between ports, refusals, re-plugging, and what wires show."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from nnstudio.graph import Edge, fmt_shape
from nnstudio.ui.commands import SetParamsCommand


def _messages(session) -> list[str]:
    seen: list[str] = []
    session.message.connect(seen.append)
    return seen


def test_dragging_from_an_output_to_an_input_connects(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(300, 40))
    drive.connect(canvas, a.id, "out", b.id, "in")
    assert g.edges == [Edge(a.id, "out", b.id, "in")]
    assert session.undo_stack.count() == 1
    assert session.undo_stack.text(0) == "Connect"


def test_dragging_backwards_from_a_free_input_connects(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(300, 0))
    drive.drag(canvas, drive.port_pos(canvas, b.id, "in", "in"),
               drive.port_pos(canvas, a.id, "out", "out"))
    assert g.edges == [Edge(a.id, "out", b.id, "in")]


def test_dropping_a_wire_anywhere_on_a_node_takes_its_nearest_input(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    add = g.add_node("Add", "add", {}, pos=(300, 0))
    item = canvas.scene_model.nodes[add.id]
    in2 = drive.port_pos(canvas, add.id, "in", "in2")
    drive.drag(canvas, drive.port_pos(canvas, a.id, "out", "out"),
               QPointF(item.node_rect().center().x(), in2.y()))
    assert g.edges == [Edge(a.id, "out", add.id, "in2")]


def test_float_output_into_an_embedding_is_refused_and_changes_nothing(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    emb = g.add_node("Embedding", "embed", {}, pos=(300, 0))
    before = g.to_dict()
    seen = _messages(session)
    target = drive.port_pos(canvas, emb.id, "in", "in")
    drive.drag(canvas, drive.port_pos(canvas, a.id, "out", "out"), target, release=False)
    # while hovering, the port and the wire show the refusal and the reason is given
    item = canvas.scene_model.nodes[emb.id]
    style = canvas.scene_model.style
    assert item._marks[("in", "in")] == style.refused
    assert canvas._drag.rubber.pen().color() == style.refused
    reason = g.connection_problem(a.id, "out", emb.id, "in")
    assert "integer token ids" in reason
    assert seen[-1] == reason
    drive.drag_release(canvas, target)
    assert g.to_dict() == before
    assert session.undo_stack.count() == 0
    assert not item._marks  # feedback cleared
    assert not [it for it in canvas.scene().items() if type(it).__name__ == "RubberWire"]


def test_a_wire_that_would_make_a_cycle_is_refused(session, canvas, drive, build_chain):
    g = session.current_graph
    a, _b, c = build_chain(g, [("Linear", "fc1", {}), ("ReLU", "relu", {}),
                               ("Linear", "fc2", {})])
    before = g.to_dict()
    drive.connect(canvas, c, "out", a, "in")
    assert g.to_dict() == before
    assert session.undo_stack.count() == 0


def test_an_occupied_input_refuses_a_second_wire(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Input", "y", {"shape": (4,)}, pos=(0, 200))
    fc = g.add_node("Linear", "fc", {}, pos=(300, 100))
    g.connect(a.id, "out", fc.id, "in")
    before = g.to_dict()
    seen = _messages(session)
    drive.connect(canvas, b.id, "out", fc.id, "in")
    assert g.to_dict() == before
    assert any("already connected" in m for m in seen)


def test_a_layer_cannot_feed_itself(session, canvas, drive):
    g = session.current_graph
    fc = g.add_node("Linear", "fc", {}, pos=(0, 0))
    seen = _messages(session)
    drive.connect(canvas, fc.id, "out", fc.id, "in")
    assert g.edges == []
    assert seen and "cannot feed itself" in seen[-1]


def test_releasing_a_new_wire_on_empty_canvas_changes_nothing(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    start = drive.port_pos(canvas, a.id, "out", "out")
    drive.drag(canvas, start, start + QPointF(200, 150))
    assert g.edges == []
    assert session.undo_stack.count() == 0


def test_dragging_an_occupied_input_replugs_the_wire_in_one_step(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc1", {}, pos=(300, 0))
    c = g.add_node("Linear", "fc2", {}, pos=(300, 160))
    g.connect(a.id, "out", b.id, "in")
    drive.drag(canvas, drive.port_pos(canvas, b.id, "in", "in"),
               drive.port_pos(canvas, c.id, "in", "in"))
    assert g.edges == [Edge(a.id, "out", c.id, "in")]
    assert session.undo_stack.count() == 1
    session.undo_stack.undo()
    assert g.edges == [Edge(a.id, "out", b.id, "in")]
    assert canvas.scene_model.wires[Edge(a.id, "out", b.id, "in")].isVisible()


def test_dragging_an_occupied_input_onto_nothing_unplugs_it(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(300, 0))
    g.connect(a.id, "out", b.id, "in")
    start = drive.port_pos(canvas, b.id, "in", "in")
    drive.drag(canvas, start, start + QPointF(-120, 200))
    assert g.edges == []
    assert session.undo_stack.text(0) == "Disconnect"
    session.undo_stack.undo()
    assert g.edges == [Edge(a.id, "out", b.id, "in")]


def test_lifting_a_wire_and_putting_it_back_changes_nothing(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(300, 0))
    edge = g.connect(a.id, "out", b.id, "in")
    port = drive.port_pos(canvas, b.id, "in", "in")
    drive.drag(canvas, port, port + QPointF(-80, 60), release=False)
    assert not canvas.scene_model.wires[edge].isVisible()  # lifted while dragging
    drive.drag_release(canvas, port, via=True)
    assert g.edges == [edge]
    assert session.undo_stack.count() == 0
    assert canvas.scene_model.wires[edge].isVisible()


def test_wire_labels_show_the_inferred_shape(session, canvas, build_chain, lenet_layers):
    g = session.current_graph
    ids = build_chain(g, lenet_layers)
    QApplication.processEvents()
    wires = canvas.scene_model.wires
    assert wires[Edge(ids[1], "out", ids[2], "in")].label_text() == "[B, 6, 28, 28]"
    assert wires[Edge(ids[7], "out", ids[8], "in")].label_text() == "[B, 400]"
    result = session.inference(g)
    for edge, wire in wires.items():
        assert wire.label == fmt_shape(result.shapes[(edge.src, edge.src_port)])


def test_wire_label_follows_a_parameter_change(session, canvas, build_chain, lenet_layers):
    g = session.current_graph
    ids = build_chain(g, lenet_layers)
    session.push(SetParamsCommand(g, ids[1], {"out_channels": 8}))
    wire = canvas.scene_model.wires[Edge(ids[1], "out", ids[2], "in")]
    assert wire.label_text() == "[B, 8, 28, 28]"
    session.undo_stack.undo()
    assert wire.label_text() == "[B, 6, 28, 28]"


def test_a_label_that_would_cover_a_node_is_not_drawn(session, canvas):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (1, 28, 28)}, pos=(0, 0))
    b = g.add_node("Flatten", "flatten", {}, pos=(200, 0))  # 20 px apart
    edge = g.connect(a.id, "out", b.id, "in")
    wire = canvas.scene_model.wires[edge]
    assert wire.label == "[B, 1, 28, 28]"
    assert wire.label_text() == ""
    assert not wire.label_item.isVisible()


def test_error_badge_tooltip_is_the_inference_error(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (3, 32, 32)}, pos=(0, 0))
    fc = g.add_node("Linear", "fc", {}, pos=(300, 0))
    item = canvas.scene_model.nodes[fc.id]
    message = session.inference(g).errors[fc.id][0].message
    assert item.badge.isVisible()
    assert item.badge.toolTip() == message
    assert "nothing connected" in message
    drive.connect(canvas, a.id, "out", fc.id, "in")  # Linear on an image: a shape error
    message = session.inference(g).errors[fc.id][0].message
    assert item.badge.toolTip() == message
    assert canvas.scene_model.status(fc.id).errors == (message,)
    session.undo_stack.undo()  # unplugged again
    assert "nothing connected" in item.badge.toolTip()


def test_badge_goes_away_when_the_error_is_fixed(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    fc = g.add_node("Linear", "fc", {}, pos=(300, 0))
    drive.connect(canvas, a.id, "out", fc.id, "in")
    item = canvas.scene_model.nodes[fc.id]
    assert not item.badge.isVisible()
    assert canvas.scene_model.status(fc.id).shape_text == "[B, 10]"
    assert canvas.scene_model.status(fc.id).count_text == "50 params"


def test_wires_follow_a_node_while_it_is_dragged(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(300, 0))
    edge = g.connect(a.id, "out", b.id, "in")
    centre = drive.node_center(canvas, b.id)
    drive.drag(canvas, centre, centre + QPointF(100, 80), release=False)
    wire = canvas.scene_model.wires[edge]
    end = wire.path().pointAtPercent(1.0)
    assert end == drive.port_pos(canvas, b.id, "in", "in")
    assert g.node(b.id).pos == (300.0, 0.0)  # the document waits for the release
    drive.drag_release(canvas, centre + QPointF(100, 80))
    assert g.node(b.id).pos == (400.0, 80.0)


def test_delete_key_removes_a_selected_wire(session, canvas, drive):
    g = session.current_graph
    a = g.add_node("Input", "x", {"shape": (4,)}, pos=(0, 0))
    b = g.add_node("Linear", "fc", {}, pos=(300, 100))
    edge = g.connect(a.id, "out", b.id, "in")
    wire = canvas.scene_model.wires[edge]
    drive.click(canvas, wire.path().pointAtPercent(0.25) + QPointF(0, 3))
    assert wire.selected and canvas.selected_edges() == [edge]
    assert wire.pen().color() == canvas.scene_model.style.wire_selected
    drive.key(canvas, Qt.Key_Delete)
    assert g.edges == []
    assert session.undo_stack.text(0) == "Delete 1 wire"
