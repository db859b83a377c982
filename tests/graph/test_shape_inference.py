"""Shape errors belong to a node and a port, say what arrived, and never crash inference."""

from __future__ import annotations

import pytest
from graph_testkit import all_layer_types, chain, single_layer_graph
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.graph import CodegenError, Graph, ShapeInference, generate, infer_shapes


def _only_error(res, node_id):
    assert list(res.errors) == [node_id], res.errors
    (err,) = res.errors[node_id]
    return err


def test_linear_on_image_says_add_a_flatten():
    g = Graph()
    x = g.add_node("Input", params={"shape": (16, 5, 5)})
    fc = g.add_node("Linear", "fc1", {"out_features": 120})
    out = g.add_node("Output")
    g.connect(x.id, "out", fc.id, "in")
    g.connect(fc.id, "out", out.id, "in")
    err = _only_error(infer_shapes(g), fc.id)
    assert err.node == fc.id
    assert err.port == "in"
    assert "Linear 'fc1'" in err.message
    assert "[B, 16, 5, 5]" in err.message
    assert "Flatten" in err.message


def test_a_flatten_fixes_the_linear_and_gives_400_features():
    g = chain([("Flatten", {}), ("Linear", {"out_features": 120})], shape=(16, 5, 5))
    res = infer_shapes(g)
    assert res.ok
    fc = next(n for n in g.nodes if n.type == "Linear")
    assert res.output_shape(fc.id) == ("B", 120)
    assert res.param_counts[fc.id] == 400 * 120 + 120


def test_unconnected_input_names_the_port():
    g = Graph()
    x = g.add_node("Input", params={"shape": (4,)})
    add = g.add_node("Add", "sum", {"inputs": 3})
    g.connect(x.id, "out", add.id, "in2")
    err = _only_error(infer_shapes(g), add.id)
    assert err.port == "in1"
    assert "Add 'sum'" in err.message
    assert "'in1'" in err.message and "'in3'" in err.message
    assert "nothing connected" in err.message


def test_a_lone_layer_says_its_input_is_unconnected():
    g = Graph()
    g.add_node("Reparameterize", "z")
    res = infer_shapes(g)
    (err,) = res.all_errors()
    assert err.message == "Reparameterize 'z' has nothing connected to inputs 'mu', 'logvar'"
    assert err.port == "mu"


def test_kernel_bigger_than_the_image_is_refused_with_the_sizes():
    g = Graph()
    x = g.add_node("Input", params={"shape": (3, 5, 5)})
    conv = g.add_node("Conv2d", "conv1", {"kernel_size": 7})
    g.connect(x.id, "out", conv.id, "in")
    err = _only_error(infer_shapes(g), conv.id)
    assert err.port == "in"
    assert "Conv2d 'conv1'" in err.message
    assert "kernel 7" in err.message and "[B, 3, 5, 5]" in err.message


def test_padding_makes_the_same_kernel_fit():
    g = Graph()
    x = g.add_node("Input", params={"shape": (3, 5, 5)})
    conv = g.add_node("Conv2d", "conv1", {"kernel_size": 7, "padding": 1})
    g.connect(x.id, "out", conv.id, "in")
    assert infer_shapes(g).output_shape(conv.id) == ("B", 16, 1, 1)


def test_pooling_window_bigger_than_the_image_is_refused():
    g, node = single_layer_graph("MaxPool2d", [(3, 2, 2)], {"kernel_size": 3})
    err = _only_error(infer_shapes(g), node.id)
    assert "kernel 3" in err.message and "[B, 3, 2, 2]" in err.message


def test_mismatched_add_names_the_port_that_differs():
    g = Graph()
    a = g.add_node("Input", "a", {"shape": (8,)})
    b = g.add_node("Input", "b", {"shape": (9,)})
    add = g.add_node("Add", "res")
    g.connect(a.id, "out", add.id, "in1")
    g.connect(b.id, "out", add.id, "in2")
    err = _only_error(infer_shapes(g), add.id)
    assert err.port == "in2"
    assert "Add 'res'" in err.message
    assert "[B, 8]" in err.message and "[B, 9]" in err.message


def test_concat_mismatch_outside_the_joined_dim_names_the_port():
    g, node = single_layer_graph("Concat", [(3, 4, 4), (5, 4, 4), (2, 4, 5)],
                                 {"inputs": 3, "dim": 1})
    err = _only_error(infer_shapes(g), node.id)
    assert err.port == "in3"
    assert "[B, 2, 4, 5]" in err.message


def test_concat_along_the_batch_is_refused():
    g, node = single_layer_graph("Concat", [(3,), (3,)], {"dim": 0})
    assert "batch" in _only_error(infer_shapes(g), node.id).message


def test_reparameterize_mismatch_blames_logvar():
    g, node = single_layer_graph("Reparameterize", [(4,), (5,)])
    err = _only_error(infer_shapes(g), node.id)
    assert err.port == "logvar"


@pytest.mark.parametrize(("type_name", "shape", "params", "words"), [
    ("Conv2d", (3, 8), {}, "[B, C, H, W]"),
    ("Conv2d", (3, 8, 8), {"groups": 2}, "groups=2"),
    ("ConvTranspose2d", (3, 8, 8), {"output_padding": 1}, "output_padding 1"),
    ("LSTM", (8,), {}, "[B, T, features]"),
    ("MultiheadAttention", (5, 6), {"num_heads": 4}, "divisible by 4 heads"),
    ("TransformerEncoderLayer", (5, 6), {"nhead": 4}, "divisible by 4 heads"),
    ("PositionalEncoding", (9, 4), {"max_len": 8}, "exceeds max_len 8"),
    ("BatchNorm2d", (3, 4), {}, "[B, C, H, W]"),
    ("LayerNorm", (4,), {"dims": 2}, "last 2 dims"),
    ("Flatten", (3, 4), {"start_dim": 0}, "batch"),
    ("Flatten", (3, 4), {"start_dim": 2, "end_dim": 1}, "comes before"),
    ("Flatten", (3, 4), {"start_dim": 5}, "out of range"),
    ("Unflatten", (12,), {"sizes": (5, 2)}, "do not multiply to 12"),
    ("Unflatten", (12,), {"dim": 0, "sizes": (1,)}, "batch"),
    ("Reshape", (12,), {"shape": (5, -1)}, "cannot reshape"),
    ("Reshape", (12,), {"shape": (5, 3)}, "12 values per example"),
    ("Reshape", (12,), {"shape": (-1, -1)}, "at most one"),
    ("Permute", (3, 4), {"dims": (0, 1)}, "reordering"),
    ("Permute", (3, 4), {"dims": (1, 0, 2)}, "batch"),
    ("Softmax", (4,), {"dim": 2}, "out of range"),
    ("Upsample", (3, 4), {"mode": "bilinear"}, "bilinear"),
    ("PReLU", (3, 4, 4), {"num_parameters": 4}, "channel count"),
    ("AdaptiveAvgPool2d", (4,), {}, "[B, C, H, W]"),
    ("MaxPool2d", (3, 8, 8), {"kernel_size": 2, "padding": 2}, "half the kernel"),
])
def test_bad_inputs_are_errors_that_name_the_layer(type_name, shape, params, words):
    g, node = single_layer_graph(type_name, [shape], params)
    err = _only_error(infer_shapes(g), node.id)
    assert err.message.startswith(f"{type_name} '{node.name}' ")
    assert words in err.message, err.message


def test_an_error_is_reported_where_it_starts_not_downstream():
    g = chain([("Linear", {}), ("ReLU", {}), ("Linear", {})], shape=(3, 4, 4, 2))
    res = infer_shapes(g)
    first = next(n for n in g.nodes if n.type == "Linear")
    assert list(res.errors) == [first.id]
    assert all(nid == g.nodes[0].id for nid, _ in res.shapes)  # only the Input has a shape


def test_codegen_lists_every_problem_instead_of_writing_code():
    g = Graph()
    g.add_node("Linear", "fc")
    with pytest.raises(CodegenError) as info:
        generate(g)
    msg = str(info.value)
    assert "Linear 'fc' has nothing connected" in msg
    assert "needs an Input node" in msg and "needs an Output node" in msg


# every type fed every odd shape: inference may refuse, but it never raises
_ODD_SHAPES = [(1,), (7,), (1, 1), (2, 3), (1, 1, 1), (4, 1, 9), (2, 2, 2, 2),
               (1, 2, 3, 4, 5)]


@pytest.mark.parametrize("type_name", [t for t in all_layer_types() if t != "Input"])
def test_inference_never_raises_for_any_input_shape(type_name):
    for shape in _ODD_SHAPES:
        for dtype in ("float", "long"):
            g = Graph()
            node = g.add_node(type_name)
            for port in node.spec.input_ports(node.params):
                x = g.add_node("Input", params={"shape": shape, "dtype": dtype})
                if g.connection_problem(x.id, "out", node.id, port.name) is None:
                    g.connect(x.id, "out", node.id, port.name)
            res = infer_shapes(g)
            for err in res.all_errors():
                assert err.node == node.id
                assert err.message.startswith(f"{type_name} '{node.name}' ")


def test_incremental_inference_recomputes_only_what_changed(monkeypatch):
    g = chain([("Linear", {"out_features": 8})] * 6, shape=(8,))
    inf = ShapeInference(g)
    inf.run()
    calls = []
    real = ShapeInference._infer_node
    monkeypatch.setattr(ShapeInference, "_infer_node",
                        staticmethod(lambda node, *a: calls.append(node.id) or real(node, *a)))
    assert inf.run().ok and calls == []  # nothing changed: cached result
    linears = [n for n in g.nodes if n.type == "Linear"]
    output = next(n for n in g.nodes if n.type == "Output")
    g.set_params(linears[-1].id, {"out_features": 3})
    res = inf.run()
    # the upstream layers kept their memo; the Output sees a new shape
    assert calls == [linears[-1].id, output.id]
    assert res.output_shape(linears[-1].id) == ("B", 3)
    calls.clear()
    g.set_params(linears[2].id, {"out_features": 5})  # changes the inputs below it
    inf.run()
    assert calls == [n.id for n in linears[2:4]]  # linears[4] still gets [B, 8]


def test_incremental_and_one_shot_inference_agree_after_edits():
    g = chain([("Conv2d", {}), ("ReLU", {}), ("MaxPool2d", {}), ("Flatten", {}),
               ("Linear", {})], shape=(3, 12, 12))
    inf = ShapeInference(g)
    inf.run()
    conv = next(n for n in g.nodes if n.type == "Conv2d")
    for k in (1, 5, 13, 3):
        g.set_params(conv.id, {"kernel_size": k})
        a, b = inf.run(), infer_shapes(g)
        assert a.shapes == b.shapes and a.param_counts == b.param_counts
        assert [e.message for e in a.all_errors()] == [e.message for e in b.all_errors()]


def test_error_message_follows_a_rename():
    g, node = single_layer_graph("Linear", [(3, 4, 4)], name="fc1")
    inf = ShapeInference(g)
    assert "Linear 'fc1'" in inf.run().all_errors()[0].message
    g.rename_node(node.id, "classifier")
    assert "Linear 'classifier'" in inf.run().all_errors()[0].message


# ------------------------------------------------------------------ incremental = full
def _edit_playground() -> Graph:
    """Branches, a merge, a long-token path and a Concat: edits here ripple in many ways."""
    g = Graph()
    x = g.add_node("Input", "x", {"shape": (3, 8, 8)})
    ids = g.add_node("Input", "ids", {"shape": (5,), "dtype": "long"})
    conv = g.add_node("Conv2d", "conv", {"out_channels": 4, "padding": 1})
    pool = g.add_node("MaxPool2d", "pool")
    flat = g.add_node("Flatten", "flat")
    fc = g.add_node("Linear", "fc", {"out_features": 6})
    emb = g.add_node("Embedding", "emb", {"embedding_dim": 6})
    ident = g.add_node("Identity", "same")
    rnn = g.add_node("GRU", "gru", {"hidden_size": 6, "output": "last"})
    add = g.add_node("Add", "sum")
    cat = g.add_node("Concat", "cat", {"dim": -1})
    out = g.add_node("Output", "y")
    for a, b, port in [(x, conv, "in"), (conv, pool, "in"), (pool, flat, "in"),
                       (flat, fc, "in"), (ids, ident, "in"), (ident, emb, "in"),
                       (emb, rnn, "in"), (fc, add, "in1"), (rnn, add, "in2"),
                       (add, cat, "in1"), (fc, cat, "in2"), (cat, out, "in")]:
        g.connect(a.id, "out", b.id, port)
    return g


_EDITS = [
    ("conv", {"kernel_size": 5}), ("conv", {"kernel_size": 3}), ("conv", {"kernel_size": 11}),
    ("conv", {"out_channels": 2}), ("conv", {"groups": 2}), ("pool", {"kernel_size": 4}),
    ("pool", {"kernel_size": 2}), ("fc", {"out_features": 7}), ("fc", {"out_features": 6}),
    ("fc", {"bias": False}), ("emb", {"embedding_dim": 7}), ("emb", {"embedding_dim": 6}),
    ("gru", {"hidden_size": 3, "bidirectional": True}), ("gru", {"hidden_size": 6,
                                                                 "bidirectional": False}),
    ("gru", {"output": "sequence"}), ("gru", {"output": "hidden"}),
    ("cat", {"dim": 0}), ("cat", {"dim": 1}), ("flat", {"start_dim": 2}),
    ("flat", {"start_dim": 1}), ("x", {"shape": (3, 9, 9)}), ("x", {"shape": (3, 8, 8)}),
    ("x", {"shape": (1, 8)}),
]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(range(len(_EDITS) + 3)),
                          st.booleans()), min_size=1, max_size=12))
def test_incremental_inference_agrees_with_a_full_pass_after_any_edits(script):
    g = _edit_playground()
    ids = {n.name: n.id for n in g.nodes}  # names change below; ids do not
    inf = ShapeInference(g)
    inf.run()
    for i, also_run in script:
        if i < len(_EDITS):
            name, params = _EDITS[i]
            g.set_params(ids[name], params)
        elif i == len(_EDITS):
            fc = g.node(ids["fc"])
            g.rename_node(fc.id, "head" if fc.name == "fc" else "fc")
        elif i == len(_EDITS) + 1:
            g.set_training_flags(ids["conv"], frozen=not g.node(ids["conv"]).frozen)
        else:
            same = g.node(ids["same"])
            g.rename_node(same.id, "pass" if same.name == "same" else "same")
        if not also_run:
            continue  # several edits between two runs
        a, b = inf.run(), infer_shapes(g)
        assert a.shapes == b.shapes
        assert a.dtypes == b.dtypes
        assert a.param_counts == b.param_counts
        assert [(e.node, e.port, e.message) for e in a.all_errors()] == \
            [(e.node, e.port, e.message) for e in b.all_errors()]
    a, b = inf.run(), infer_shapes(g)
    assert (a.shapes, a.param_counts) == (b.shapes, b.param_counts)
    assert [e.message for e in a.all_errors()] == [e.message for e in b.all_errors()]


def test_incremental_inference_after_many_edits_falls_back_to_a_full_pass():
    g = chain([("Linear", {"out_features": 4}), ("ReLU", {})], shape=(4,))
    fc = g.find("fc")
    inf = ShapeInference(g)
    inf.run()
    for i in range(3000):  # more edits than the graph remembers
        g.set_params(fc.id, {"out_features": 4 + i % 3})
    assert g.edited_since(0) is None
    assert inf.run().output_shape(fc.id) == ("B", 4 + 2999 % 3)


def test_identity_of_tokens_reports_the_new_name_after_a_rename():
    g = chain([("Identity", {}), ("Linear", {})], shape=(4,), dtype="long")
    inf = ShapeInference(g)
    assert "Identity 'identity'" in inf.run().all_errors()[0].message
    g.rename_node(g.find("identity").id, "pass")
    assert "Identity 'pass'" in inf.run().all_errors()[0].message
