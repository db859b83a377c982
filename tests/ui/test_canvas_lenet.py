"""The whole path a learner takes: LeNet-5 drawn on an empty canvas by hand gives the same
PyTorch source as LeNet-5 built through the document API."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from nnstudio.graph import Graph, generate
from nnstudio.ui.commands import RenameNodeCommand, SetParamsCommand


def test_lenet_drawn_by_hand_generates_the_same_code_as_the_api(
        session, canvas, drive, lenet_layers, build_chain):
    g = session.current_graph
    ids: list[str] = []
    for i, (type_name, name, params) in enumerate(lenet_layers):
        at = QPointF(i * 300.0, (i % 3) * 40.0)
        if i % 2:
            drive.quick_add(canvas, type_name, at)  # Tab, type, Enter
        else:
            assert drive.drop_layer(canvas, type_name, at)  # from the palette
        [nid] = canvas.selected_ids()  # a new node is selected, for the inspector
        node = g.node(nid)
        assert node.type == type_name
        # the inspector's part: parameters and the name, as undoable commands
        if params:
            assert session.push(SetParamsCommand(g, nid, params))
        if node.name != name:
            assert session.push(RenameNodeCommand(g, nid, name))
        if ids:
            drive.connect(canvas, ids[-1], "out", nid, "in")
        ids.append(nid)

    assert [g.node(n).name for n in ids] == [name for _, name, _ in lenet_layers]
    assert len(g.edges) == len(lenet_layers) - 1
    assert session.inference(g).ok
    reference = Graph("Net")
    build_chain(reference, lenet_layers)
    assert generate(g).source == generate(reference).source
    assert "nn.Conv2d(1, 6, kernel_size=5, padding=2)" in generate(g).source

    # the canvas shows what the code says
    wires = canvas.scene_model.wires
    labels = [w.label for w in sorted(wires.values(), key=lambda w: ids.index(w.edge.src))]
    assert labels[:4] == ["[B, 1, 28, 28]", "[B, 6, 28, 28]", "[B, 6, 28, 28]",
                          "[B, 6, 14, 14]"]
    assert canvas.scene_model.status(ids[8]).count_text == "48.1k params"  # fc1: 400·120+120
