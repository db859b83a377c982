"""Project files: everything survives a round trip; a broken file says where it breaks."""

from __future__ import annotations

import json
import os
import stat

import pytest
from graph_testkit import chain

from nnstudio.graph import Graph, Project, generate
from nnstudio.graph import project_file as pf
from nnstudio.graph.project_file import (
    ProjectFileError,
    dumps_project,
    load_project,
    loads_project,
    project_to_dict,
    save_project,
)


def _project() -> Project:
    p = Project("GAN on digits", "two graphs trained against each other — ünïcode ok")
    gen = chain([("Linear", {"out_features": 32, "bias": False}), ("LeakyReLU",
                 {"negative_slope": 0.2}), ("Linear", {"out_features": 64}), ("Tanh", {})],
                shape=(16,), name="generator")
    disc = chain([("Linear", {"out_features": 8}), ("Dropout", {"p": 0.25}),
                  ("Linear", {"out_features": 1})], shape=(64,), name="discriminator")
    for i, n in enumerate(gen.nodes):
        gen.move_node(n.id, (i * 240.5, -13.25 * i))
    first = next(n for n in disc.nodes if n.type == "Linear")
    disc.set_training_flags(first.id, frozen=True, lr_mult=0.25)
    disc.rename_node(first.id, "критик 🔍")
    p.add_graph(gen)
    p.add_graph(disc)
    p.set_training({"recipe": "gan", "epochs": 3, "lr": 2e-4, "betas": [0.5, 0.999],
                    "dataset": {"name": "digits", "split": {"val": 0.2}}, "flag": None})
    p.meta = {"stage": "GANs", "notes": ["a", "b"], "nested": {"ok": True}}
    return p


def _dump(p: Project) -> dict:
    return json.loads(dumps_project(p))


# ---------------------------------------------------------------- round trip
def test_round_trip_keeps_everything(tmp_path):
    p = _project()
    path = tmp_path / "gan.nnstudio"
    save_project(p, path)
    q = load_project(path)
    assert project_to_dict(q) == project_to_dict(p)
    assert (q.title, q.description) == (p.title, p.description)
    assert q.training == p.training and q.meta == p.meta
    for g, h in zip(p.graphs, q.graphs):
        assert g.name == h.name
        for n in g.nodes:
            m = h.node(n.id)
            assert (m.type, m.name, m.params, m.pos, m.frozen, m.lr_mult) == \
                (n.type, n.name, n.params, n.pos, n.frozen, n.lr_mult)
        assert h.edges == g.edges
        assert generate(h).source == generate(g).source
    save_project(q, tmp_path / "again.nnstudio")
    assert (tmp_path / "again.nnstudio").read_bytes() == path.read_bytes()


def test_positions_are_kept_to_a_hundredth_of_a_pixel():
    p = Project()
    g = p.add_graph(Graph("Net"))
    node = g.add_node("ReLU", pos=(1.23456, -9.87654))
    q = loads_project(dumps_project(p))
    assert q.graph().node(node.id).pos == (1.23, -9.88)


def test_every_layer_type_round_trips_with_non_default_params():
    from graph_testkit import LAYER_CASES

    p = Project()
    g = p.add_graph(Graph("Catalog"))
    for type_name, cases in LAYER_CASES.items():
        for i, case in enumerate(cases):
            params = dict(case[1])
            if type_name == "Input":
                params = {"shape": case[0][0], "dtype": case[2] if len(case) > 2 else "float"}
            g.add_node(type_name, f"{type_name} {i}", params)
    q = loads_project(dumps_project(p))
    assert [(n.type, n.name, n.params) for n in q.graph().nodes] == \
        [(n.type, n.name, n.params) for n in g.nodes]


def test_saved_file_is_readable_like_any_other_file(tmp_path):
    path = tmp_path / "a.nnstudio"
    save_project(_project(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o600)  # a person's own restrictive mode is kept
    save_project(_project(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_version_0_files_are_migrated():
    d = _dump(_project())
    d["version"] = 0
    d["graph"] = d.pop("graphs")[0]
    q = loads_project(json.dumps(d))
    assert [g.name for g in q.graphs] == ["generator"]


# ---------------------------------------------------------------- broken files
def _set(path: str, value):
    """A mutation of the saved dict: set the item at a dotted path (ints index lists)."""
    def mutate(d):
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        target = d
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
        return d
    return mutate


def _dup_node_id(d):
    d["graphs"][0]["nodes"][1]["id"] = d["graphs"][0]["nodes"][0]["id"]
    return d


def _dup_node_name(d):
    d["graphs"][0]["nodes"][1]["name"] = d["graphs"][0]["nodes"][0]["name"]
    return d


def _dup_graph_name(d):
    d["graphs"][1]["name"] = d["graphs"][0]["name"]
    return d


def _cycle(d):
    edges = d["graphs"][0]["edges"]
    fc_to_act = edges[1]
    # the Input's wire into the first Linear now comes back from the activation after it
    edges[0] = {"src": fc_to_act["dst"], "src_port": "out", "dst": fc_to_act["src"],
                "dst_port": "in"}
    return d


def _too_many_nodes(d):
    d["graphs"][0]["nodes"] = [{"id": f"n{i}", "type": "ReLU", "name": f"r{i}"}
                               for i in range(pf.MAX_NODES + 1)]
    d["graphs"][0]["edges"] = []
    return d


def _deep_training(d):
    inner: dict = {}
    d["training"] = {"a": inner}
    for _ in range(40):
        inner["a"] = {}
        inner = inner["a"]
    return d


MUTATIONS = [
    ("wrong format marker", _set("format", "something-else"),
     "format: this is not an nnstudio project"),
    ("missing format marker", lambda d: {k: v for k, v in d.items() if k != "format"},
     "format: this is not an nnstudio project"),
    ("newer version", _set("version", 99), "version: made by a newer nnstudio (format 99"),
    ("version as text", _set("version", "1"), "version: expected an integer, got text"),
    ("negative version", _set("version", -1), "version: unknown format version -1"),
    ("graphs not a list", _set("graphs", {}), "graphs: expected a list of graphs"),
    ("no graphs", _set("graphs", []), "graphs: a project needs at least one graph"),
    ("unknown layer type", _set("graphs.0.nodes.1.type", "Conv9d"),
     "graphs[0].nodes[1].type: unknown layer type 'Conv9d'"),
    ("param of the wrong type", _set("graphs.0.nodes.1.params.out_features", "ten"),
     "graphs[0].nodes[1].params.out_features: expected an integer, got 'ten'"),
    ("param out of bounds", _set("graphs.0.nodes.1.params.out_features", -5),
     "graphs[0].nodes[1].params.out_features: must be at least 1, got -5"),
    ("bool param as number", _set("graphs.0.nodes.1.params.bias", 1),
     "graphs[0].nodes[1].params.bias: expected true or false, got 1"),
    ("unknown param", _set("graphs.0.nodes.1.params.width", 3),
     "graphs[0].nodes[1].params.width: Linear has no parameter 'width'"),
    ("dangling edge", _set("graphs.0.edges.0.dst", "n999"),
     "graphs[0].edges[0].dst: no node has id 'n999'"),
    ("bad output port", _set("graphs.0.edges.0.src_port", "nope"),
     "graphs[0].edges[0]: Input 'x' has no output port 'nope'"),
    ("bad input port", _set("graphs.0.edges.0.dst_port", "in7"),
     "graphs[0].edges[0]: Linear 'fc' has no input port 'in7'"),
    ("cycle in edges", _cycle,
     "graphs[0].edges[1]: connecting 'fc' to 'leakyrelu' would make a cycle"),
    ("edge not an object", _set("graphs.0.edges.0", "n1->n2"),
     "graphs[0].edges[0]: expected an object, got text"),
    ("duplicate node ids", _dup_node_id, "graphs[0].nodes[1].id: id 'n1' is used twice"),
    ("duplicate node names", _dup_node_name,
     "graphs[0].nodes[1].name: another node is already named 'x'"),
    ("duplicate graph names", _dup_graph_name,
     "graphs[1].name: another graph is already named 'generator'"),
    ("bad node id", _set("graphs.0.nodes.0.id", "a b/c"), "graphs[0].nodes[0].id: ids are"),
    ("node id with a newline", _set("graphs.0.nodes.0.id", "n1\n"),
     "graphs[0].nodes[0].id: ids are"),
    ("empty node name", _set("graphs.0.nodes.0.name", "  "),
     "graphs[0].nodes[0].name: must not be empty"),
    ("name too long", _set("graphs.0.nodes.0.name", "x" * 201),
     "graphs[0].nodes[0].name: names are at most 200 characters"),
    ("empty graph name", _set("graphs.0.name", ""), "graphs[0].name: must not be empty"),
    ("huge node count", _too_many_nodes,
     f"graphs[0].nodes: {pf.MAX_NODES + 1:,} nodes is more than the {pf.MAX_NODES:,} allowed"),
    ("position not numbers", _set("graphs.0.nodes.0.pos", ["1", 2]),
     "graphs[0].nodes[0].pos: expected two finite numbers"),
    ("position far away", _set("graphs.0.nodes.0.pos", [1e300, 0]),
     "graphs[0].nodes[0].pos: expected two finite numbers"),
    ("frozen as text", _set("graphs.0.nodes.0.frozen", "yes"),
     "graphs[0].nodes[0].frozen: expected true or false, got text"),
    ("lr_mult out of range", _set("graphs.0.nodes.0.lr_mult", 500),
     "graphs[0].nodes[0].lr_mult: expected a number between 0 and 100"),
    ("NaN in training", _set("training.lr", float("nan")), "training.lr: numbers must be finite"),
    ("Infinity in meta", _set("meta.notes", [1, float("inf")]),
     "meta.notes[1]: numbers must be finite"),
    ("training not an object", _set("training", [1, 2]), "training: expected an object"),
    ("deeply nested training", _deep_training, "nested too deeply"),
    ("title not text", _set("title", 5), "title: expected text, got a number"),
    ("top level is a list", lambda d: [d], "expected a JSON object at the top, got a list"),
]


@pytest.mark.parametrize(("why", "mutate", "expected"), MUTATIONS,
                         ids=[m[0] for m in MUTATIONS])
def test_broken_project_is_refused_with_a_one_line_reason(why, mutate, expected, tmp_path):
    data = mutate(_dump(_project()))
    path = tmp_path / "broken.nnstudio"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("broken.nnstudio: ")
    assert expected in msg, msg


RAW = [
    ("truncated JSON", lambda good: good[: len(good) // 2],
     "not valid JSON (line"),
    ("empty file", lambda good: b"", "not valid JSON (line 1, column 1"),
    ("not JSON", lambda good: b"GIF89a this is a picture", "not valid JSON"),
    ("non-UTF-8 bytes", lambda good: b"\xff\xfe" + good, "not a text file (byte 0 is not UTF-8)"),
    ("deeply nested JSON", lambda good: b"[" * 100_000 + b"]" * 100_000,
     "nested too deeply to be a project file"),
    ("integer with thousands of digits", lambda good: b'{"version": ' + b"9" * 5000 + b"}",
     "not valid JSON"),
    ("JSON null", lambda good: b"null", "expected a JSON object at the top, got null"),
]


@pytest.mark.parametrize(("why", "damage", "expected"), RAW, ids=[r[0] for r in RAW])
def test_unreadable_bytes_are_refused_with_a_one_line_reason(why, damage, expected, tmp_path):
    good = dumps_project(_project()).encode("utf-8")
    path = tmp_path / "broken.nnstudio"
    path.write_bytes(damage(good))
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("broken.nnstudio: ")
    assert expected in msg, msg


def test_missing_and_oversized_files_are_refused(tmp_path, monkeypatch):
    with pytest.raises(ProjectFileError, match="no such file"):
        load_project(tmp_path / "nope.nnstudio")
    path = tmp_path / "big.nnstudio"
    save_project(_project(), path)
    monkeypatch.setattr(pf, "MAX_FILE_BYTES", 100)
    with pytest.raises(ProjectFileError, match="too large for a project file"):
        load_project(path)


def test_loading_never_executes_anything(tmp_path):
    # a pickle-looking or code-looking payload is just text that fails validation
    d = _dump(_project())
    d["graphs"][0]["nodes"][1]["type"] = "__import__('os').system('true')"
    with pytest.raises(ProjectFileError, match="unknown layer type"):
        loads_project(json.dumps(d))


# ---------------------------------------------------------------- saving
def test_failed_save_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "work.nnstudio"
    save_project(_project(), path)
    before = path.read_bytes()
    changed = _project()
    changed.title = "changed"

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pf.os, "replace", boom)
    with pytest.raises(OSError, match="No space left"):
        save_project(changed, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["work.nnstudio"]

    monkeypatch.undo()
    monkeypatch.setattr(pf.os, "fsync", boom)  # the write itself fails
    with pytest.raises(OSError):
        save_project(changed, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["work.nnstudio"]

    monkeypatch.undo()
    save_project(changed, path)
    assert load_project(path).title == "changed"


def test_a_project_that_could_not_be_reopened_is_not_saved(tmp_path):
    path = tmp_path / "work.nnstudio"
    save_project(_project(), path)
    before = path.read_bytes()
    bad = _project()
    bad.set_training({"lr": float("nan")})
    with pytest.raises(ProjectFileError, match="training.lr: numbers must be finite"):
        save_project(bad, path)
    assert path.read_bytes() == before


def test_anything_the_document_accepts_can_be_saved_and_reopened():
    p = Project()
    g = p.add_graph(Graph("x" * 200))
    g.add_node("ReLU", "y" * 200, pos=(9_999_999, -9_999_999))
    g.add_node("Linear", node_id="a.b-c_D", lr_mult=100.0)
    q = loads_project(dumps_project(p))
    assert project_to_dict(q) == project_to_dict(p)
