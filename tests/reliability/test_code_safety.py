"""Generated code is safe whatever a person typed — property tests over arbitrary text.

tests/graph/test_names.py checks a fixed list of hostile names; here hypothesis draws
the text: any Unicode, with code that would leave a mark on disk if it ever ran spliced
in.  Whatever it draws, as node names, graph names, a Block's graph and port names, a
choice parameter's value, or the project title and file name that the training-script
exporter writes into its docstring:

* the generated source compiles, is ASCII, and holds none of the drawn text;
* running it (the file's ``__main__`` demo) builds the model and leaves no mark;
* a parameter string that is not one of the allowed values is refused, never written.
"""

from __future__ import annotations

import ast
import contextlib
import io
import keyword
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.graph import REGISTRY, CodegenError, Graph, GraphError, Project, generate
from nnstudio.graph.params import ParamError
from nnstudio.graph.templates import load_template

MARK = Path("/tmp/nnstudio_code_safety_mark")
PAYLOADS = [
    f"__import__('os').system('touch {MARK}')",
    f'"); open("{MARK}", "w")  #',
    f"'''\nopen('{MARK}', 'w')\n'''",
    f'"""\nopen("{MARK}", "w")\n"""',
    f"\\\nopen('{MARK}', 'w')",
    f"{{{{MODEL_SOURCE}}}}\nopen('{MARK}', 'w')",
    f"#\nopen('{MARK}', 'w')",
    "\r\nexec('1')", "\x00", "\u2028open(1)", "\\N{BULLET}", "%(x)s {0} ${HOME}",
]
EXAMPLES = 60

hostile = st.builds(
    lambda a, payload, b: a + payload + b,
    st.text(max_size=12), st.sampled_from(PAYLOADS), st.text(max_size=12))
any_text = st.one_of(st.text(min_size=1, max_size=60), hostile)
# a Block's port names are one line each (the "names" parameter refuses control characters)
one_line = any_text.map(lambda t: "".join(c for c in t if ord(c) >= 32 and ord(c) != 127))
SETTINGS = {"max_examples": EXAMPLES, "deadline": None, "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@pytest.fixture(autouse=True)
def _no_mark():
    if MARK.exists():
        MARK.unlink()
    yield
    assert not MARK.exists(), "text a person typed was executed"


def usable(text: str) -> bool:
    """Names the document accepts (it refuses empty and over-long names itself)."""
    return bool(text.strip()) and len(text) <= 200


def run_as_main(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<generated>", "exec"), {"__name__": "__main__"})  # noqa: S102
    return out.getvalue()


def assert_safe(source: str, texts: list[str]) -> None:
    """The source compiles and is ASCII, and no drawn text that carried code is in it.

    (Plain drawn text may coincide with pieces of the template — a name "0 " with
    "gelu_00 = " — so only the text that carries a payload is looked for.)"""
    assert source.isascii()
    compile(source, "<generated>", "exec")
    for text in texts:
        if str(MARK) in text:
            assert text not in source, f"{text!r} reached the generated code"
    assert str(MARK) not in source


def small_net(graph_name: str, names: list[str]) -> Graph:
    names = iter(names)
    g = Graph(graph_name)
    x = g.add_node("Input", next(names), {"shape": (4,)})
    fc = g.add_node("Linear", next(names), {"out_features": 3})
    act = g.add_node("GELU", next(names))
    out = g.add_node("Output", next(names))
    g.connect(x.id, "out", fc.id, "in")
    g.connect(fc.id, "out", act.id, "in")
    g.connect(act.id, "out", out.id, "in")
    return g


@settings(**SETTINGS)
@given(names=st.lists(any_text.filter(usable), min_size=4, max_size=4, unique=True),
       graph_name=any_text.filter(usable))
def test_any_node_and_graph_names_give_code_that_compiles_and_runs_nothing_of_theirs(
        names, graph_name):
    g = small_net(graph_name, names)
    gen = generate(g)
    assert_safe(gen.source, [*names, graph_name])
    assert gen.class_name.isidentifier() and not keyword.iskeyword(gen.class_name)
    assert all(a.isidentifier() and not keyword.iskeyword(a) for a in gen.attrs.values())
    assert "tensor(" in run_as_main(gen.source)


CHOICE_PARAMS = [(spec.type, p) for spec in REGISTRY for p in spec.params if p.kind == "choice"]


@settings(**SETTINGS)
@given(case=st.sampled_from(CHOICE_PARAMS), value=any_text)
def test_a_choice_parameter_takes_only_its_listed_values(case, value):
    type_name, param = case
    if value in param.choices:
        assert param.coerce(value) == value
        return
    with pytest.raises(ParamError):
        param.coerce(value)
    g = Graph("Net")
    node = g.add_node(type_name, "n")
    before = dict(node.params)
    with pytest.raises((GraphError, ParamError)):
        g.set_params(node.id, {param.name: value})
    assert node.params == before  # refused: the document is unchanged


@settings(**SETTINGS)
@given(inner_name=one_line.filter(usable),
       ports=st.lists(one_line.filter(usable), min_size=2, max_size=2, unique=True),
       block_name=any_text.filter(usable))
def test_a_blocks_graph_and_port_names_never_reach_the_code(inner_name, ports, block_name):
    project = Project("blocks")
    outer = project.add_graph(Graph("Outer"))
    inner = project.add_graph(small_net(inner_name, [ports[0], "fc", "act", ports[1]]))
    x = outer.add_node("Input", "x", {"shape": (4,)})
    block = outer.add_node("Block", block_name, {"graph": inner.name, "inputs": (ports[0],),
                                                 "outputs": (ports[1],)})
    y = outer.add_node("Output", "y")
    outer.connect(x.id, "out", block.id, ports[0])
    outer.connect(block.id, ports[1], y.id, "in")
    gen = generate(outer)
    assert_safe(gen.source, [inner_name, block_name, *ports])
    assert "tensor(" in run_as_main(gen.source)


@settings(**SETTINGS)
@given(graph=any_text, source=any_text)
def test_a_block_naming_any_graph_or_file_is_refused_or_safe(graph, source, tmp_path_factory):
    project = Project("blocks")
    outer = project.add_graph(Graph("Outer"))
    project.add_graph(small_net("Inner", ["a", "fc", "act", "b"]))
    x = outer.add_node("Input", "x", {"shape": (4,)})
    try:
        block = outer.add_node("Block", "b", {"graph": graph, "source": source})
    except (GraphError, ParamError):
        return  # not a line of text the parameter takes
    y = outer.add_node("Output", "y")
    ports = block.spec.input_ports(block.params)
    if ports:
        outer.connect(x.id, "out", block.id, ports[0].name)
    outs = block.spec.output_ports(block.params)
    if outs:
        outer.connect(block.id, outs[0].name, y.id, "in")
    try:
        gen = generate(outer)
    except CodegenError as e:
        assert e.problems  # no such graph or file: said, not run
        return
    assert_safe(gen.source, [graph, source])


# ------------------------------------------------------------------ the training script
def _module_without_docstring(source: str) -> str:
    tree = ast.parse(source)
    assert isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)
    return ast.dump(ast.Module(body=tree.body[1:], type_ignores=[]))


@pytest.fixture(scope="module")
def script_prepared():
    from nnstudio.export.script import prepare_for_script

    return prepare_for_script(load_template("mlp"))


@settings(**{**SETTINGS, "max_examples": 40})
@given(title=any_text, file_stem=any_text)
def test_the_training_script_keeps_any_title_and_file_name_inside_its_docstring(
        title, file_stem, script_prepared):
    from nnstudio.export.script import render_script

    plain = render_script(script_prepared, "train.py", "plain").text
    stem = file_stem.replace("/", "_").replace("\x00", "_")  # what a file name can hold
    text = render_script(script_prepared, f"{stem}.py", title).text
    # whatever the title and file name held, the code after the docstring is the code
    # of a plain title, except the run folder's name (a repr'd string, so inert)
    clean = text.replace(repr(f"{stem}-run"), repr("train-run"))
    assert _module_without_docstring(clean) == _module_without_docstring(plain)
