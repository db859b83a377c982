"""Whatever a person calls things, the generated code is safe, valid and stable."""

from __future__ import annotations

import contextlib
import io
import keyword
import re

import pytest
from graph_testkit import chain, check_shapes_and_counts

from nnstudio.graph import Graph, Project, generate
from nnstudio.graph.names import NameTable, class_name, identifier
from nnstudio.graph.project_file import dumps_project, loads_project

SENTINEL = "/tmp/nnstudio_pwned_by_a_name"

HOSTILE = [
    f"__import__('os').system('touch {SENTINEL}')",
    f'x"); import os; os.system("touch {SENTINEL}")  #',
    f"'''\nimport os\nos.system('touch {SENTINEL}')\n'''",
    f'"""; open("{SENTINEL}", "w"); """',
    f"\\\nimport os; os.system('touch {SENTINEL}')",
    "a\\nb\\\\c\\'d",
    "line one\nline two\r\nthree",
    "class", "def", "lambda", "None", "True", "self", "forward", "super", "__init__",
    "__class__", "__dict__", "_", "__", "model", "torch", "nn", "math", "PositionalEncoding",
    "l", "I", "O",
    "Ünïcødé Ñame", "名前", "слой", "🔥🔥", "שכבה עברית", "\u202eevil\u202c", "\u200b",
    "0day", "123", "-", "...", "   padded   ", "\t", "a" * 200,
    "{x}", "%s", "${HOME}", "`rm -rf /`",
]


@pytest.fixture(autouse=True)
def _no_sentinel():
    import os
    if os.path.exists(SENTINEL):
        os.unlink(SENTINEL)
    yield
    assert not os.path.exists(SENTINEL), "a name was executed as code"


def _hostile_graph(graph_name: str, names: list[str]) -> Graph:
    """Input → Linear → ReLU → Add(skip) → Output, plus a second head, with every node
    (Inputs and Outputs included) named from ``names``."""
    pool = iter(names)

    def nm():
        return next(pool)

    g = Graph(graph_name)
    x = g.add_node("Input", nm(), {"shape": (6,)})
    fc = g.add_node("Linear", nm(), {"out_features": 6})
    act = g.add_node("ReLU", nm())
    add = g.add_node("Add", nm())
    head = g.add_node("Linear", nm(), {"out_features": 2})
    out1 = g.add_node("Output", nm())
    out2 = g.add_node("Output", nm())
    g.connect(x.id, "out", fc.id, "in")
    g.connect(fc.id, "out", act.id, "in")
    g.connect(act.id, "out", add.id, "in1")
    g.connect(x.id, "out", add.id, "in2")
    g.connect(add.id, "out", head.id, "in")
    g.connect(head.id, "out", out1.id, "in")
    g.connect(add.id, "out", out2.id, "in")
    return g


def _chunks(seq, n):
    usable = [s for s in seq if s.strip()]  # whitespace-only names are auto-named
    for i in range(0, len(usable), n):
        chunk = usable[i:i + n]
        yield chunk + [f"pad{j}" for j in range(n - len(chunk))]


def _run_as_main(source: str) -> str:
    """Execute the generated file as a script (its ``__main__`` demo), return stdout."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(source, "<generated>", "exec"), {"__name__": "__main__"})  # noqa: S102
    return buf.getvalue()


def _assert_clean_source(source: str, texts: list[str]):
    assert source.isascii(), "only ASCII identifiers may reach the generated file"
    compile(source, "<generated>", "exec")
    for text in texts:
        # a name made only of identifier characters may legitimately coincide with a
        # word of the template ("class", "self"); anything else must not appear at all
        if not re.fullmatch(r"\w+", text):
            assert text not in source, f"{text!r} leaked into the generated code"
    assert SENTINEL not in source


@pytest.mark.parametrize("names", list(_chunks(HOSTILE, 7)),
                         ids=lambda names: ascii(names[0])[:30])
def test_hostile_node_names_give_safe_code_that_runs(names):
    g = _hostile_graph("Net", names)
    gen = generate(g)
    _assert_clean_source(gen.source, names)
    for ident in gen.attrs.values():
        assert ident.isidentifier() and not keyword.iskeyword(ident)
    assert len(set(gen.attrs.values())) == len(gen.attrs)
    check_shapes_and_counts(g)
    assert "tensor(" in _run_as_main(gen.source)


@pytest.mark.parametrize("graph_name", [n for n in HOSTILE if n.strip()],
                         ids=lambda n: ascii(n)[:30])
def test_hostile_graph_names_give_a_valid_class(graph_name):
    g = _hostile_graph(graph_name, [f"n{i}" for i in range(7)])
    gen = generate(g)
    _assert_clean_source(gen.source, [graph_name])
    assert gen.class_name.isidentifier() and not keyword.iskeyword(gen.class_name)
    assert re.search(rf"^class {gen.class_name}\(nn\.Module\):$", gen.source, re.MULTILINE)
    check_shapes_and_counts(g)
    _run_as_main(gen.source)


def test_a_graph_named_like_a_helper_class_still_builds_its_helper():
    g = chain([("PositionalEncoding", {}), ("Linear", {})], shape=(5, 8),
              name="PositionalEncoding")
    gen = generate(g)
    assert gen.class_name != "PositionalEncoding"
    assert gen.source.count("class PositionalEncoding(nn.Module)") == 1
    check_shapes_and_counts(g)


def test_an_input_named_model_does_not_break_the_demo_block():
    g = Graph()
    x = g.add_node("Input", "model", {"shape": (3,)})
    out = g.add_node("Output")
    g.connect(x.id, "out", out.id, "in")
    assert "tensor(" in _run_as_main(generate(g).source)


def test_names_that_collide_as_identifiers_stay_distinct():
    g = chain([("ReLU", {}), ("ReLU", {}), ("ReLU", {})], shape=(2,))
    relus = [n for n in g.nodes if n.type == "ReLU"]
    for node, name in zip(relus, ["fc 1", "fc-1", "fc_1"]):
        g.rename_node(node.id, name)
    gen = generate(g)
    assert [gen.attrs[n.id] for n in relus] == ["fc_1", "fc_1_2", "fc_1_3"]


def test_identifier_rules():
    assert identifier("conv 1") == "conv_1"
    assert identifier("class") == "class_"
    assert identifier("__init__") == "init"
    assert identifier("1st layer") == "layer_1st_layer"
    assert identifier("🔥") == "layer"
    assert identifier("l") == "l_"  # never an ambiguous l/O/I
    assert class_name("my cool net") == "MyCoolNet"
    assert class_name("i") == "INet"
    assert class_name("") == "Net"
    table = NameTable({"model"})
    assert [table.take(t) for t in ("model", "model", "x")] == ["model_2", "model_3", "x"]


def test_many_same_identifiers_are_numbered_quickly():
    table = NameTable()
    names = [table.take("层") for _ in range(3000)]  # all become the fallback "layer"
    assert len(set(names)) == 3000 and names[:3] == ["layer", "layer_2", "layer_3"]


# ---------------------------------------------------------------- determinism
def _build(name="Net"):
    return _hostile_graph(name, ["x", "fc", "act", "add", "head", "y", "z"])


def test_same_graph_gives_the_same_text():
    assert generate(_build()).source == generate(_build()).source
    g = _build()
    assert generate(g).source == generate(g).source


def test_save_and_load_gives_the_same_text():
    p = Project("t")
    p.add_graph(_hostile_graph(HOSTILE[1], HOSTILE[2:9]))
    text = dumps_project(p)
    q = loads_project(text.encode())
    assert dumps_project(q) == text
    assert generate(q.graph()).source == generate(p.graph()).source
    assert [n.name for n in q.graph().nodes] == HOSTILE[2:9]


def test_moving_nodes_does_not_change_the_code():
    g = _build()
    before = generate(g).source
    for n in g.nodes:
        g.move_node(n.id, (n.pos[0] + 50, 3))
    assert generate(g).source == before


def test_demo_block_token_ids_fit_a_small_vocabulary():
    g = chain([("Embedding", {"num_embeddings": 3, "embedding_dim": 2})], shape=(4,),
              dtype="long")
    source = generate(g).source
    assert "torch.randint(0, 3, (2, 4))" in source
    for _ in range(5):  # random ids: several runs make an out-of-range id likely if wrong
        _run_as_main(source)
