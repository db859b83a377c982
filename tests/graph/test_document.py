"""The document: edits that are refused say why, accepted edits notify observers."""

from __future__ import annotations

import pytest
from graph_testkit import chain

from nnstudio.graph import Graph, GraphError, Project, infer_shapes
from nnstudio.graph.document import Edge
from nnstudio.graph.document_rules import MAX_NAME


def _abc():
    g = Graph()
    a = g.add_node("Input", "a", {"shape": (4,)})
    b = g.add_node("ReLU", "b")
    c = g.add_node("Tanh", "c")
    g.connect(a.id, "out", b.id, "in")
    g.connect(b.id, "out", c.id, "in")
    return g, a, b, c


class Recorder:
    """Connects to every signal of a graph and records (signal name, args)."""

    NAMES = ("node_added", "node_removed", "node_changed", "node_moved", "edge_added",
             "edge_removed", "renamed", "changed")

    def __init__(self, graph: Graph):
        self.events: list[tuple] = []
        for name in self.NAMES:
            getattr(graph, name).connect(lambda *args, _n=name: self.events.append((_n, *args)))

    def names(self) -> list[str]:
        return [e[0] for e in self.events]


# ---------------------------------------------------------------- refusing wires
def test_cycle_is_refused_with_a_reason():
    g = Graph()
    a = g.add_node("ReLU", "a")
    b = g.add_node("ReLU", "b")
    c = g.add_node("ReLU", "c")
    g.connect(a.id, "out", b.id, "in")
    g.connect(b.id, "out", c.id, "in")
    reason = g.connection_problem(c.id, "out", a.id, "in")
    assert reason == "connecting 'c' to 'a' would make a cycle"
    with pytest.raises(GraphError, match="would make a cycle"):
        g.connect(c.id, "out", a.id, "in")
    assert len(g.edges) == 2


def test_a_layer_cannot_feed_itself():
    g = Graph()
    a = g.add_node("Add", "a")
    assert g.connection_problem(a.id, "out", a.id, "in1") == "a layer cannot feed itself"


def test_an_input_port_takes_one_wire():
    g, a, _b, c = _abc()
    with pytest.raises(GraphError, match="input 'in' of 'c' is already connected"):
        g.connect(a.id, "out", c.id, "in")


def test_unknown_ports_and_nodes_are_refused():
    g, a, b, c = _abc()
    assert g.connection_problem(a.id, "nope", c.id, "in") == \
        "Input 'a' has no output port 'nope'"
    assert g.connection_problem(b.id, "out", c.id, "in9") == "Tanh 'c' has no input port 'in9'"
    assert g.connection_problem("n99", "out", c.id, "in") == \
        "both ends must be nodes of this graph"


def test_real_values_into_an_embedding_are_refused():
    g = Graph()
    x = g.add_node("Input", "pixels", {"shape": (4,)})
    emb = g.add_node("Embedding", "emb")
    reason = g.connection_problem(x.id, "out", emb.id, "in")
    assert reason == "'emb' input 'in' takes integer token ids, but 'pixels' gives " \
                     "real-valued tensors"
    with pytest.raises(GraphError):
        g.connect(x.id, "out", emb.id, "in")


def test_token_ids_into_a_linear_are_refused():
    g = Graph()
    x = g.add_node("Input", "ids", {"shape": (4,), "dtype": "long"})
    fc = g.add_node("Linear", "fc")
    assert "takes real-valued tensors" in g.connection_problem(x.id, "out", fc.id, "in")


def test_token_ids_through_an_identity_into_a_linear_are_a_shape_error():
    g = chain([("Identity", {}), ("Linear", {})], shape=(4,), dtype="long")
    res = infer_shapes(g)
    (err,) = res.all_errors()
    assert err.message.startswith("Linear 'fc' input 'in' takes real-valued tensors")
    assert "Identity 'identity' passes on integer token ids" in err.message


def test_switching_an_input_to_token_ids_under_a_linear_is_refused():
    g = chain([("Linear", {})], shape=(4,))
    x = g.nodes[0]
    with pytest.raises(GraphError, match="takes real-valued tensors.*disconnect it first"):
        g.set_params(x.id, {"dtype": "long"})
    assert x.params["dtype"] == "float"


# ---------------------------------------------------------------- signals
def test_adding_a_node_emits_node_added_then_changed():
    g = Graph()
    rec = Recorder(g)
    node = g.add_node("ReLU")
    assert rec.events == [("node_added", node), ("changed",)]


def test_connect_and_disconnect_emit_edge_signals():
    g, _a, _b, c = _abc()
    d = g.add_node("ReLU", "d")
    rec = Recorder(g)
    e = g.connect(c.id, "out", d.id, "in")
    assert rec.events == [("edge_added", e), ("changed",)]
    rec.events.clear()
    g.disconnect(e)
    assert rec.events == [("edge_removed", e), ("changed",)]


def test_removing_a_node_emits_its_edges_then_the_node():
    g, _a, b, _c = _abc()
    rec = Recorder(g)
    g.remove_node(b.id)
    assert rec.names() == ["edge_removed", "edge_removed", "node_removed", "changed"]
    assert rec.events[2] == ("node_removed", b)


def test_param_edit_rename_and_flags_emit_node_changed():
    g, _a, _b, _c = _abc()
    lin = g.add_node("Linear", "fc")
    rec = Recorder(g)
    g.set_params(lin.id, {"out_features": 3})
    g.rename_node(lin.id, "head")
    g.set_training_flags(lin.id, frozen=True, lr_mult=0.5)
    assert rec.events == [("node_changed", lin.id), ("changed",)] * 3


def test_moving_a_node_does_not_claim_a_shape_change():
    g, _a, b, _c = _abc()
    rec = Recorder(g)
    version = g.version
    old = g.move_node(b.id, (10.5, -3))
    assert old == (0.0, 0.0) and b.pos == (10.5, -3.0)
    assert rec.events == [("node_moved", b.id)]
    assert g.version == version


def test_no_op_edits_emit_nothing():
    g, _a, _b, _c = _abc()
    lin = g.add_node("Linear", "fc")
    rec = Recorder(g)
    assert g.set_params(lin.id, {"out_features": 10}) == {}
    assert g.rename_node(lin.id, "fc") == "fc"
    g.set_training_flags(lin.id, frozen=False, lr_mult=1.0)
    assert rec.events == []


def test_renaming_the_graph_emits_renamed():
    g = Graph("A")
    rec = Recorder(g)
    assert g.rename("B") == "A"
    assert rec.events == [("renamed", "B"), ("changed",)]


def test_project_forwards_graph_changes():
    p = Project()
    g = p.add_graph(Graph("Net"))
    seen = []
    p.changed.connect(lambda: seen.append("project"))
    g.add_node("ReLU")
    assert seen == ["project"]
    p.remove_graph("Net")
    seen.clear()
    g.add_node("ReLU")
    assert seen == []  # a removed graph no longer reports to the project


# ---------------------------------------------------------------- editing
def test_remove_node_returns_its_wires_for_undo():
    g, a, b, c = _abc()
    before = g.to_dict()
    edges = g.remove_node(b.id)
    assert set(edges) == {Edge(a.id, "out", b.id, "in"), Edge(b.id, "out", c.id, "in")}
    assert g.edges == [] and b.id not in g
    g.add_node(b.type, b.name, b.params, b.pos, node_id=b.id)
    for e in edges:
        g.connect(e.src, e.src_port, e.dst, e.dst_port)
    restored = g.to_dict()
    assert sorted(restored["edges"], key=str) == sorted(before["edges"], key=str)
    assert {n["id"]: n for n in restored["nodes"]} == {n["id"]: n for n in before["nodes"]}


def test_set_params_refuses_to_strand_a_wire():
    g = Graph()
    x = g.add_node("Input", params={"shape": (4,)})
    add = g.add_node("Add", "sum", {"inputs": 3})
    for port in ("in1", "in2", "in3"):
        g.connect(x.id, "out", add.id, port)
    with pytest.raises(GraphError, match="disconnect input 'in3' of 'sum' first"):
        g.set_params(add.id, {"inputs": 2})
    assert add.params["inputs"] == 3
    g.disconnect(g.edge_into(add.id, "in3"))
    assert g.set_params(add.id, {"inputs": 2}) == {"inputs": 3}


def test_set_params_checks_bounds_and_names_the_node():
    g, _a, _b, _c = _abc()
    lin = g.add_node("Linear", "fc")
    with pytest.raises(GraphError, match="Linear 'fc': out_features: must be at least 1"):
        g.set_params(lin.id, {"out_features": 0})
    with pytest.raises(GraphError, match="has no parameter 'width'"):
        g.set_params(lin.id, {"width": 3})
    assert lin.params["out_features"] == 10


def test_ints_parameters_accept_text_like_a_person_types_it():
    g = Graph()
    x = g.add_node("Input", params={"shape": "3x32x32"})
    assert x.params["shape"] == (3, 32, 32)
    r = g.add_node("Reshape", params={"shape": "4, -1"})
    assert r.params["shape"] == (4, -1)
    with pytest.raises(GraphError, match="expected integers separated by commas"):
        g.add_node("Input", params={"shape": "3 by 4"})


def test_default_names_are_unique_and_reuse_freed_numbers():
    g = Graph()
    names = [g.add_node("Linear").name for _ in range(4)]
    assert names == ["fc", "fc1", "fc2", "fc3"]
    g.remove_node(g.find("fc1").id)
    assert g.add_node("Linear").name == "fc1"
    assert g.add_node("Linear").name == "fc4"
    g.rename_node(g.find("fc2").id, "head")
    assert g.add_node("Linear").name == "fc2"


def test_unique_name_counts_on_from_a_numbered_base():
    g = Graph()
    g.add_node("ReLU", "conv3")
    assert g.unique_name("conv3") == "conv1"
    assert g.unique_name("other") == "other"


def test_duplicate_names_and_ids_are_refused():
    g, _a, b, _c = _abc()
    with pytest.raises(GraphError, match="a node named 'b' already exists"):
        g.add_node("ReLU", "b")
    with pytest.raises(GraphError, match="already exists"):
        g.add_node("ReLU", node_id=b.id)
    with pytest.raises(GraphError, match="node ids are"):
        g.add_node("ReLU", node_id="has space")


def test_rename_collisions_are_refused():
    g, _a, _b, c = _abc()
    with pytest.raises(GraphError, match="a node named 'a' already exists"):
        g.rename_node(c.id, "a")
    with pytest.raises(GraphError, match="cannot be empty"):
        g.rename_node(c.id, "   ")
    with pytest.raises(GraphError, match=f"at most {MAX_NAME}"):
        g.rename_node(c.id, "x" * (MAX_NAME + 1))
    assert c.name == "c"
    g.rename_node(c.id, "renamed")
    assert g.find("renamed") is c and g.find("c") is None


def test_graph_rename_refuses_a_name_taken_in_its_project():
    p = Project()
    g1 = p.add_graph(Graph("generator"))
    p.add_graph(Graph("discriminator"))
    with pytest.raises(GraphError, match="a graph named 'discriminator' already exists"):
        g1.rename("discriminator")
    with pytest.raises(GraphError, match="cannot be empty"):
        g1.rename("")
    assert g1.name == "generator"
    with pytest.raises(GraphError, match="already exists"):
        p.add_graph(Graph("generator"))


def test_unknown_types_and_bad_positions_are_refused():
    g = Graph()
    with pytest.raises(GraphError, match="unknown layer type 'Conv9d'"):
        g.add_node("Conv9d")
    with pytest.raises(GraphError, match="off the canvas"):
        g.add_node("ReLU", pos=(float("nan"), 0))
    node = g.add_node("ReLU")
    with pytest.raises(GraphError, match="off the canvas"):
        g.move_node(node.id, (float("inf"), 0))
    with pytest.raises(GraphError, match="between 0 and 100"):
        g.set_training_flags(node.id, lr_mult=101)


def test_topological_order_follows_wires_then_insertion():
    g = Graph()
    c = g.add_node("ReLU", "c")
    a = g.add_node("Input", "a", {"shape": (2,)})
    b = g.add_node("ReLU", "b")
    assert g.topological_order() == [c.id, a.id, b.id]
    g.connect(b.id, "out", c.id, "in")
    g.connect(a.id, "out", b.id, "in")
    assert g.topological_order() == [a.id, b.id, c.id]
    order = g.topological_order()
    order.reverse()  # callers get a copy they may change
    assert g.topological_order() == [a.id, b.id, c.id]


def test_pasting_a_subgraph_makes_fresh_ids_and_names_and_drops_outside_wires():
    g, a, b, c = _abc()
    data = g.to_dict()
    data["nodes"] = [n for n in data["nodes"] if n["id"] in (b.id, c.id)]
    new = g.add_subgraph(data, offset=(100, 0))
    assert len(new) == 2 and not set(new) & {a.id, b.id, c.id}
    pasted = [g.node(nid) for nid in new]
    assert [n.name for n in pasted] == ["b1", "c1"]
    assert pasted[0].pos == (100.0, 0.0)
    assert len(g.edges) == 3  # b→c copied, a→b left behind


def test_to_dict_from_dict_round_trip_keeps_everything():
    g = chain([("Conv2d", {"out_channels": 4, "stride": 2}), ("Flatten", {})],
              shape=(3, 8, 8), name="Model")
    conv = next(n for n in g.nodes if n.type == "Conv2d")
    g.move_node(conv.id, (12.25, -7.5))
    g.set_training_flags(conv.id, frozen=True, lr_mult=0.1)
    h = Graph.from_dict(g.to_dict())
    assert h.to_dict() == g.to_dict()
    assert h.node(conv.id).frozen and h.node(conv.id).lr_mult == 0.1


def test_pasting_a_node_with_a_name_of_the_longest_length_keeps_it_in_bounds():
    g = Graph()
    long = "y" * MAX_NAME
    g.add_node("ReLU", long)
    new = g.add_subgraph({"nodes": [{"id": "a", "type": "ReLU", "name": long}], "edges": []})
    name = g.node(new[0]).name
    assert len(name) == MAX_NAME and name.endswith("1") and name != long
