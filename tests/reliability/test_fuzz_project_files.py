"""Fuzzing the project-file loader: whatever bytes a file holds, opening it ends in a
one-line error that names the file, or in a valid document — never an exception of
another kind, never a hang.

A valid document must then behave like one: it saves and reads back identically, shape
inference runs on every graph (errors belong to nodes, they are not raised), and code
generation either writes source that compiles or lists the graph's problems.

Four sources of cases, each a hypothesis strategy:

* mutations of real documents (every template, and a catalog of every layer type): a
  value anywhere replaced by any JSON value, keys dropped or added, list items
  duplicated, wires pointed at nodes and ports that do not exist, or backwards (cycles);
* documents generated from the catalog's own vocabulary — layer types, parameter names,
  port names — with values of every kind, in bounds, at the bounds, beyond them, huge,
  negative, and of the wrong type;
* damaged bytes: truncated files, flipped and inserted bytes, invalid UTF-8, lone
  surrogates, deep nesting;
* arbitrary bytes.

The CI run tries about a thousand cases in well under a minute; the ``slow`` variants
(run by ``python -m benchmarks``, or ``pytest -m slow``) try tens of thousands.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.graph import REGISTRY, CodegenError, Graph, Project, generate, infer_shapes
from nnstudio.graph.project_file import (
    FORMAT,
    ProjectFileError,
    dumps_project,
    loads_project,
    project_to_dict,
)
from nnstudio.graph.templates import list_templates, load_template

LABEL = "fuzz.nnstudio"
CI_EXAMPLES = 300  # per strategy: 1,200 cases in CI
LONG_EXAMPLES = int(os.environ.get("NNSTUDIO_FUZZ_EXAMPLES", "5000"))  # per strategy, slow run
MAX_SECONDS = 5.0  # one case taking longer counts as a hang

TYPES = sorted(spec.type for spec in REGISTRY)
PARAMS = sorted({p.name for spec in REGISTRY for p in spec.params})
PORTS = sorted({p.name for spec in REGISTRY for p in (*spec.inputs, *spec.outputs)}
               | {f"in{i}" for i in range(1, 9)})
KEYS = ["format", "version", "title", "description", "graphs", "graph", "training", "meta",
        "name", "nodes", "edges", "id", "type", "params", "pos", "frozen", "lr_mult", "src",
        "src_port", "dst", "dst_port", *PARAMS]
ODD_TEXT = ["", " ", "\n", "\x00", "\ud800", "a\udfffb", "\u202e", "🔥" * 3, "x" * 300,
            "__import__('os').system('true')", "'; import os #", "n1", "n2", "Linear",
            "Conv9d", "in", "out", "in1", FORMAT, "nan", "1e999"]
ODD_NUMBERS = [0, 1, -1, 2, 3, 7, 8, 99, 100, 2**31, -(2**31), 2**63, 10**30, -(10**30),
               1_000_000, 1_000_001, 10_000_000, 0.5, -0.0, 1e-12, 1e308, -1e308,
               math.inf, -math.inf, math.nan, 1e7, 9_999_999.5]


# ------------------------------------------------------------------ the property
def check(raw: bytes | str) -> str:
    """Open ``raw`` as a project file; assert the outcome is one of the two allowed ones.

    Returns "error" or "valid" (for the statistics of the slow run)."""
    t0 = time.perf_counter()
    try:
        project = loads_project(raw, LABEL)
    except ProjectFileError as e:
        message = str(e)
        assert message.startswith(f"{LABEL}: "), message
        assert "\n" not in message and "\r" not in message, repr(message)
        assert len(message) < 600, message
        outcome = "error"
    else:
        _check_valid(project)
        outcome = "valid"
    elapsed = time.perf_counter() - t0
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s"
    return outcome


def _check_valid(project: Project) -> None:
    text = dumps_project(project)  # anything that loaded can be saved...
    text.encode("utf-8")
    again = loads_project(text.encode("utf-8"), LABEL)  # ...and reads back the same
    assert project_to_dict(again) == project_to_dict(project)
    for graph in project.graphs:
        result = infer_shapes(graph)  # problems are reported per node, never raised
        try:
            gen = generate(graph, result)
        except CodegenError as e:
            assert e.problems
            continue
        compile(gen.source, "<generated>", "exec")  # compiled, never executed


# ------------------------------------------------------------------ seed documents
def _catalog() -> dict:
    """A document holding one node of every layer type, with default parameters."""
    p = Project("catalog")
    g = p.add_graph(Graph("Everything"))
    for i, t in enumerate(TYPES):
        g.add_node(t, f"{t} {i}", pos=(i * 10.0, 0.0))
    return project_to_dict(p)


def _seeds() -> list[dict]:
    seeds = [project_to_dict(load_template(t.name)) for t in list_templates()]
    return seeds + [_catalog()]


SEEDS = _seeds()

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(ODD_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(ODD_TEXT), st.sampled_from(TYPES), st.sampled_from(PORTS))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8),
                                  st.sampled_from(ODD_TEXT)), inner, max_size=5)),
    max_leaves=25)


def _deep(depth: int, kind: str) -> str:
    """JSON text nested ``depth`` deep (built as text: json.dumps would recurse)."""
    if kind == "list":
        return "[" * depth + "0" + "]" * depth
    return '{"a": ' * depth + "0" + "}" * depth


def _locations(doc: Any, path: tuple = ()) -> list[tuple]:
    """Every (path to a container, key or index) in ``doc``."""
    found = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            found.append((path, k))
            found += _locations(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found.append((path, i))
            found += _locations(v, path + (i,))
    return found


def _at(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def mutated_documents(draw) -> str:
    """A real document with one to four things changed anywhere in it."""
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    nests: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "duplicate",
                                   "rewire", "cycle", "nest", "size"]))
        if op in ("rewire", "cycle"):
            graph = draw(st.sampled_from(doc["graphs"])) if isinstance(doc.get("graphs"), list) \
                and doc["graphs"] and all(isinstance(g, dict) for g in doc["graphs"]) else None
            if graph is None or not isinstance(graph.get("nodes"), list) \
                    or not isinstance(graph.get("edges"), list):
                continue
            ids = [n.get("id") for n in graph["nodes"] if isinstance(n, dict)] or ["n1"]
            if op == "rewire":
                graph["edges"].append({
                    "src": draw(st.sampled_from(ids + ["nowhere"])),
                    "src_port": draw(st.sampled_from(PORTS)),
                    "dst": draw(st.sampled_from(ids + ["nowhere"])),
                    "dst_port": draw(st.sampled_from(PORTS))})
            elif graph["edges"]:  # a wire backwards along an existing one
                e = draw(st.sampled_from(graph["edges"]))
                if isinstance(e, dict):
                    graph["edges"].append({"src": e.get("dst"), "src_port": "out",
                                           "dst": e.get("src"), "dst_port": "in"})
            continue
        locations = _locations(doc)
        if not locations:
            break
        path, key = draw(st.sampled_from(locations))
        container = _at(doc, path)
        if op == "replace":
            container[key] = draw(json_values)
        elif op == "delete":
            del container[key]
        elif op == "add":
            if isinstance(container, dict):
                container[draw(st.sampled_from(KEYS))] = draw(json_values)
            else:
                container.insert(key, draw(json_values))
        elif op == "duplicate" and isinstance(container, list):
            container.insert(key, copy.deepcopy(container[key]))
        elif op == "nest":
            nests.append(_deep(draw(st.integers(1, 3000)), draw(st.sampled_from(["list",
                                                                                 "dict"]))))
            container[key] = f"@@deep{len(nests) - 1}@@"
        elif op == "size":
            container[key] = draw(st.sampled_from(ODD_NUMBERS) | st.lists(
                st.sampled_from(ODD_NUMBERS), max_size=7))
    text = json.dumps(doc)
    for i, nested in enumerate(nests):
        text = text.replace(f'"@@deep{i}@@"', nested)
    return text


def usually(n: int) -> st.SearchStrategy[bool]:
    """True n times in n + 1 (and shrinking towards True: the plain case)."""
    return st.sampled_from([True] * n + [False])


def _param_values(param) -> st.SearchStrategy:
    """Values for one parameter: valid ones, edge ones, and wrong ones."""
    edges = [v for v in (param.min, param.max) if v is not None]
    edges += [v + d for v in edges for d in (-1, 1)]
    good: st.SearchStrategy
    if param.kind == "int":
        good = st.integers(int(param.min if param.min is not None else -10),
                           int(min(param.max if param.max is not None else 10, 64)))
    elif param.kind == "float":
        good = st.floats(param.min if param.min is not None else -10.0,
                         param.max if param.max is not None else 10.0)
    elif param.kind == "bool":
        good = st.booleans()
    elif param.kind == "choice":
        good = st.sampled_from(param.choices) if param.choices else st.text(max_size=5)
    else:  # ints
        good = st.lists(st.integers(1, 16), min_size=param.min_len, max_size=param.max_len)
    wrong = st.one_of(st.sampled_from(edges or [0]), scalars,
                      st.lists(st.sampled_from(ODD_NUMBERS), max_size=9))
    return usually(9).flatmap(lambda plain: good if plain else wrong)


FAULTS = ["type", "id", "name", "param", "unknown param", "pos", "frozen", "lr_mult", "wire",
          "training", "meta", "graph name"]


@st.composite
def generated_documents(draw) -> str:
    """A document built from the catalog's vocabulary: parameters of every kind in
    bounds, at them and beyond them; about half the documents also get one fault of
    another kind (a bad type, id, name, position, flag, wire or section)."""
    graphs = []
    for gi in range(draw(st.integers(1, 3))):
        ids = [f"n{i}" for i in range(draw(st.integers(0, 8)))]
        nodes = []
        for i, nid in enumerate(ids):
            type_name = draw(st.sampled_from(TYPES))
            params = {p.name: draw(_param_values(p)) for p in REGISTRY.get(type_name).params
                      if not p.derived and draw(st.booleans())}
            nodes.append({"id": nid, "type": type_name, "name": f"{type_name} {i}",
                          "params": params, "pos": [i * 50.0, 0.0]})
        edges = []
        used = set()
        for _ in range(draw(st.integers(0, max(len(ids) - 1, 0)))):
            # a forward wire into a free input port (shapes may still not fit: that is
            # a problem inference reports, not a file error)
            i = draw(st.integers(0, len(ids) - 2))
            j = draw(st.integers(i + 1, len(ids) - 1))
            ports = [p.name for p in REGISTRY.get(nodes[j]["type"]).inputs
                     if (ids[j], p.name) not in used]
            if ports:
                port = draw(st.sampled_from(ports))
                used.add((ids[j], port))
                edges.append({"src": ids[i], "src_port": "out", "dst": ids[j],
                              "dst_port": port})
        graphs.append({"name": f"G{gi}", "nodes": nodes, "edges": edges})
    doc = {"format": FORMAT, "version": draw(st.sampled_from([1, 1, 1, 0])),
           "title": "generated", "graphs": graphs,
           "training": {"epochs": 3, "lr": 0.01}, "meta": {}}
    if draw(st.booleans()):
        _fault(draw, doc)
    return json.dumps(doc)


def _fault(draw, doc: dict) -> None:
    fault = draw(st.sampled_from(FAULTS))
    graph = draw(st.sampled_from(doc["graphs"]))
    if fault == "training":
        doc["training"] = draw(json_values)
    elif fault == "meta":
        doc["meta"] = draw(json_values)
    elif fault == "graph name":
        graph["name"] = draw(scalars)
    elif fault == "wire":
        ids = [n["id"] for n in graph["nodes"]] or ["n0"]
        graph["edges"].append({"src": draw(st.sampled_from(ids + ["n99", ""])),
                               "src_port": draw(st.sampled_from(PORTS)),
                               "dst": draw(st.sampled_from(ids + ["n99", ""])),
                               "dst_port": draw(st.sampled_from(PORTS))})
    elif graph["nodes"]:
        node = draw(st.sampled_from(graph["nodes"]))
        if fault == "type":
            node["type"] = draw(st.sampled_from(["Conv9d", "", "relu", "Block "]) | scalars)
        elif fault == "id":
            node["id"] = draw(st.sampled_from(ODD_TEXT) | scalars)
        elif fault == "name":
            node["name"] = draw(st.sampled_from(ODD_TEXT) | scalars)
        elif fault == "param":
            node["params"][draw(st.sampled_from(PARAMS))] = draw(scalars)
        elif fault == "unknown param":
            node["params"][draw(st.text(max_size=8) | st.sampled_from(ODD_TEXT))] = 1
        else:
            node[fault] = draw(json_values)


def _good_bytes() -> list[bytes]:
    return [json.dumps(d).encode("utf-8") for d in SEEDS]


@st.composite
def damaged_bytes(draw) -> bytes:
    """A real file truncated, with bytes flipped or inserted, or otherwise mangled."""
    good = bytearray(draw(st.sampled_from(_good_bytes())))
    how = draw(st.sampled_from(["truncate", "flip", "insert", "bom", "surrogate", "nest"]))
    if how == "truncate":
        return bytes(good[:draw(st.integers(0, len(good) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(good) - 1))
            good[i] = draw(st.integers(0, 255))
        return bytes(good)
    if how == "insert":
        i = draw(st.integers(0, len(good)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"NaN",
                                     b"Infinity", b"-", b"[", b"}", b'"', b"\\u", b"\\ud800",
                                     b"1e999999"]) | st.binary(max_size=8))
        return bytes(good[:i]) + junk + bytes(good[i:])
    if how == "bom":
        return b"\xef\xbb\xbf" + bytes(good)
    if how == "surrogate":  # a lone surrogate, escaped as JSON allows
        text = good.decode("utf-8")
        i = text.find('"name": "')
        return (text[:i + 9] + "\\udc80" + text[i + 9:]).encode("utf-8")
    depth = draw(st.integers(1, 200_000))
    return b"[" * depth + b"]" * draw(st.integers(0, depth))


# ------------------------------------------------------------------ the tests
COMMON = {"deadline": None, "derandomize": False, "database": None,
          "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                    HealthCheck.filter_too_much,
                                    HealthCheck.large_base_example]}
STRATEGIES = {
    "mutated": mutated_documents(),
    "generated": generated_documents(),
    "damaged": damaged_bytes(),
    "arbitrary": st.binary(max_size=400) | st.text(max_size=200),
}


def _property(strategy, examples: int):
    @settings(max_examples=examples, **COMMON)
    @given(raw=strategy)
    def run(raw):
        check(raw)
    return run


@pytest.mark.parametrize("source", list(STRATEGIES))
def test_any_file_ends_in_a_clear_error_or_a_valid_document(source):
    _property(STRATEGIES[source], CI_EXAMPLES)()


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("source", list(STRATEGIES))
def test_any_file_ends_in_a_clear_error_or_a_valid_document_long_run(source):
    _property(STRATEGIES[source], LONG_EXAMPLES)()


def test_the_generators_reach_both_outcomes():
    """The fuzzing is not all refusals: a good share of cases are valid documents."""
    outcomes = {"error": 0, "valid": 0}

    @settings(max_examples=150, **COMMON)
    @given(raw=generated_documents() | mutated_documents())
    def run(raw):
        outcomes[check(raw)] += 1

    run()
    assert outcomes["valid"] >= 10 and outcomes["error"] >= 10, outcomes


# ------------------------------------------------------------------ cases fuzzing found
FOUND = [
    ("lone surrogate in a node name", "graphs.0.nodes.1.name", "a\ud800b",
     "graphs[0].nodes[1].name: "),
    ("lone surrogate in the title", "title", "\udfff", "title: "),
    ("lone surrogate in training", "training.note", "x\ud800", "training.note: "),
    ("lone surrogate in a training key", "training.x\udc00", 1, "training"),
    ("newline in a training key", "training.a\nb", math.nan, "numbers must be finite"),
    ("newline in a parameter name", "graphs.0.nodes.1.params.a\nb", 3, "has no parameter"),
    ("graph name over 200 characters", "graphs.0.name", "x" * 201,
     "graphs[0].name: names are at most 200 characters"),
]


@pytest.mark.parametrize(("why", "where", "value", "expected"), FOUND, ids=[f[0] for f in FOUND])
def test_cases_the_fuzzer_found_are_one_line_errors(why, where, value, expected):
    doc = project_to_dict(load_template("mlp"))
    keys = [int(k) if k.isdigit() else k for k in where.split(".")]
    target = doc
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = value
    with pytest.raises(ProjectFileError) as info:
        loads_project(json.dumps(doc), LABEL)
    message = str(info.value)
    assert expected in message and "\n" not in message, message
    check(json.dumps(doc))


def test_a_lone_surrogate_in_a_blocks_graph_name_is_a_one_line_error():
    """Found by the long fuzz run (5,000 damaged files): a block naming its graph with a
    lone surrogate loaded, and then could not be saved."""
    doc = project_to_dict(load_template("vgg11"))
    node = doc["graphs"][0]["nodes"][3]
    assert node["type"] == "Block"
    node["params"]["graph"] = "\ud800" + node["params"]["graph"]
    with pytest.raises(ProjectFileError) as info:
        loads_project(json.dumps(doc), LABEL)
    message = str(info.value)
    assert "graphs[0].nodes[3].params.graph: " in message and "Unicode" in message, message
    check(json.dumps(doc))
