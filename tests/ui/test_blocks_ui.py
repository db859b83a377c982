"""Blocks in the editor: collapse a selection into a block (Ctrl+G) and expand it back,
each one undo step; place a project's graph as a block from the palette or quick add;
double-click a block to open its graph; rename a graph and its blocks follow."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio.graph import Graph, Project, infer_shapes
from nnstudio.graph.templates import load_template
from nnstudio.ui.canvas.clipboard import block_key
from nnstudio.ui.session import ProjectSession


def lenet_window(make_window):
    window = make_window(ProjectSession(load_template("lenet5")), size=(1400, 900))
    QApplication.processEvents()
    return window


def ids_named(graph, *names):
    return [graph.find(n).id for n in names]


def test_ctrl_g_collapses_the_selection_into_a_block_and_undo_puts_it_all_back(make_window):
    window = lenet_window(make_window)
    session = window.session
    net = session.current_graph
    before = net.to_dict()
    total = infer_shapes(net).total_params
    canvas = window.canvas
    canvas.select_ids(ids_named(net, "conv2", "relu2", "pool2"))
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key_G, Qt.ControlModifier)
    QApplication.processEvents()

    assert [g.name for g in session.project.graphs] == ["LeNet5", "Block"]
    assert window.canvases.count() == 2  # the new graph has its own tab
    block = net.find("block")
    assert block is not None and block.params["graph"] == "Block"
    assert canvas.selected_ids() == [block.id]
    inner = session.project.graph("Block")
    assert [n.name for n in inner.nodes] == ["conv2", "relu2", "pool2", "x", "out"]
    assert inner.find("x").params["shape"] == (6, 14, 14)  # what reached conv2
    res = session.inference(net)
    assert res.ok and res.total_params == total
    assert res.output_shape(block.id) == ("B", 16, 5, 5)
    QApplication.processEvents()
    assert "self.block = Block()" in window.code_view.source()
    assert session.undo_stack.count() == 1

    session.undo_stack.undo()
    QApplication.processEvents()
    assert net.to_dict() == before
    assert [g.name for g in session.project.graphs] == ["LeNet5"]
    assert window.canvases.count() == 1
    session.undo_stack.redo()
    assert [g.name for g in session.project.graphs] == ["LeNet5", "Block"]
    assert infer_shapes(net).total_params == total


def test_collapse_is_refused_with_a_reason_that_the_window_shows(make_window):
    window = lenet_window(make_window)
    net = window.session.current_graph
    messages = []
    window.session.message.connect(messages.append)
    window.canvas.select_ids(ids_named(net, "conv1", "pool1"))  # relu1 lies between
    window.menu_actions["collapse_block"].trigger()
    assert messages[-1] == ("Cannot collapse into a block: 'relu1' lies between selected "
                            "layers: select it too, or the block would feed itself")
    assert len(window.session.project.graphs) == 1
    assert window.session.undo_stack.count() == 0


def test_expand_block_puts_the_layers_back_in_its_place(make_window):
    window = lenet_window(make_window)
    session, net, canvas = window.session, window.session.current_graph, window.canvas
    canvas.select_ids(ids_named(net, "fc1", "relu3", "fc2"))
    block_id = canvas.collapse_selection("Head")
    total = infer_shapes(net).total_params
    canvas.select_ids([block_id])
    window.menu_actions["expand_block"].trigger()
    assert block_id not in net
    assert {"fc1", "relu3", "fc2"} <= {n.name for n in net.nodes}
    res = infer_shapes(net)
    assert res.ok and res.total_params == total
    assert session.project.graph("Head") is not None  # the graph stays for other uses
    expanded = net.to_dict()
    session.undo_stack.undo()
    assert net.find("block") is not None and net.find("fc1") is None
    session.undo_stack.redo()
    assert net.to_dict() == expanded


def test_the_palette_lists_the_projects_graphs_as_blocks_and_drops_them(make_window, drive):
    p = Project("two")
    net = p.add_graph(Graph("Net"))
    stage = p.add_graph(Graph("Stage"))
    x = stage.add_node("Input", "x", {"shape": (4,)})
    fc = stage.add_node("Linear", "fc", {"out_features": 3})
    out = stage.add_node("Output", "out")
    stage.connect(x.id, "out", fc.id, "in")
    stage.connect(fc.id, "out", out.id, "in")
    window = make_window(ProjectSession(p), size=(1400, 900))
    palette = window.layer_palette
    assert block_key("Stage") in palette.visible_types()
    assert block_key("Net") not in palette.visible_types()  # not inside itself
    palette.set_filter("stage")
    assert block_key("Stage") in palette.visible_types()
    palette.set_filter("")

    canvas = window.canvas
    assert drive.drop_layer(canvas, block_key("Stage"), QPointF(200, 100))
    (block,) = net.block_nodes()
    assert block.params["inputs"] == ("x",) and block.params["outputs"] == ("out",)
    geom = canvas.scene_model.nodes[block.id].geom
    assert [q.name for q in geom.inputs] == ["x"]

    p.graph("Stage").rename("Dense Stage")  # the palette follows
    QApplication.processEvents()
    assert block_key("Dense Stage") in palette.visible_types()
    assert block.params["graph"] == "Dense Stage"


def test_quick_add_offers_the_projects_graphs(session, make_canvas, drive):
    stage = session.project.add_graph(Graph("Stage"))
    stage.add_node("Input", "x", {"shape": (4,)})
    stage.add_node("Output", "out")
    canvas = make_canvas(session)
    drive.quick_add(canvas, "stage", QPointF(0, 0))
    (block,) = session.current_graph.block_nodes()
    assert block.params["graph"] == "Stage"


def test_double_clicking_a_block_opens_the_graph_it_runs(make_window):
    window = lenet_window(make_window)
    net, canvas = window.session.current_graph, window.canvas
    canvas.select_ids(ids_named(net, "flatten", "fc1"))
    block_id = canvas.collapse_selection()
    item = canvas.scene_model.nodes[block_id]
    centre = item.node_rect().center()
    view_pos = canvas.mapFromScene(centre)
    QTest.mouseDClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier, view_pos)
    QApplication.processEvents()
    assert window.session.current_graph.name == "Block"
    assert window.canvas.graph.name == "Block"


def test_the_inspector_edits_a_blocks_graph_from_the_projects_graphs(make_window):
    window = lenet_window(make_window)
    session, net, canvas = window.session, window.session.current_graph, window.canvas
    canvas.select_ids(ids_named(net, "relu1"))
    canvas.collapse_selection("Act")
    canvas.select_ids(ids_named(net, "relu2"))
    canvas.collapse_selection("Act2")
    block = net.find("block")
    canvas.select_ids([block.id])
    QApplication.processEvents()
    editor = window.inspector.editor("graph")
    assert [editor.field.itemText(i) for i in range(editor.field.count())] == ["Act", "Act2"]
    assert window.inspector.editor("inputs").field.text() == "x"
    editor.field.setCurrentText("Act2")
    editor.field.lineEdit().editingFinished.emit()
    assert block.params["graph"] == "Act2"
    assert session.inference(net).ok
    session.undo_stack.undo()
    assert block.params["graph"] == "Act"


def test_renaming_a_graph_renames_its_tab_and_its_blocks_in_one_step(make_window):
    window = lenet_window(make_window)
    session, net, canvas = window.session, window.session.current_graph, window.canvas
    canvas.select_ids(ids_named(net, "conv1", "relu1"))
    canvas.collapse_selection()
    inner_canvas = window.canvases.canvas_for(session.project.graph("Block"))
    assert inner_canvas.rename_graph("First Conv")
    tabs = window.canvases
    assert tabs.tabText(tabs.indexOf(inner_canvas)) == "First Conv"
    assert net.find("block").params["graph"] == "First Conv"
    session.undo_stack.undo()
    assert net.find("block").params["graph"] == "Block"
    assert tabs.tabText(tabs.indexOf(inner_canvas)) == "Block"


def test_editing_a_block_graph_updates_the_canvas_of_the_graph_that_uses_it(make_window):
    from nnstudio.ui.commands import SetParamsCommand

    window = make_window(ProjectSession(load_template("vgg-digits")), size=(1400, 900))
    session = window.session
    net = session.current_graph
    outer = window.canvases.canvas_for(net)
    block = net.find("block2")
    assert outer.scene_model.status(block.id).shape_text == "[B, 64, 2, 2]"
    inner = session.project.graph("VGGBlock")
    conv2 = inner.find("conv2")
    session.push(SetParamsCommand(inner, conv2.id, {"out_channels": 32}))
    QApplication.processEvents()
    # both uses follow, and fc1 now reads 32 x 2 x 2 features
    assert outer.scene_model.status(block.id).shape_text == "[B, 32, 2, 2]"
    assert session.inference(net).ok
    assert session.current_graph is net
    assert "self.fc1 = nn.Linear(128, 128)" in window.code_view.source()
    session.undo_stack.undo()
    QApplication.processEvents()
    assert outer.scene_model.status(block.id).shape_text == "[B, 64, 2, 2]"
