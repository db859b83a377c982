"""Project files (``.nnstudio``): versioned JSON, checked on load, written atomically.

Opening a file never executes anything from it: the JSON is parsed, every field is
checked against what the catalog allows, and any problem is reported as one line that
says where in the file it is ("mlp.nnstudio: graphs[0].nodes[2].params.out_features:
must be at least 1, got -5").  Older format versions are brought up to date by one
migration function per version.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .document import BLOCK, Graph, GraphError, Project
from .document_rules import MAX_NAME, NODE_ID
from .params import ParamError
from .spec import REGISTRY

FORMAT = "nnstudio-project"
VERSION = 1
SUFFIX = ".nnstudio"
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_GRAPHS = 64
MAX_NODES = 20_000
_ID = NODE_ID


class ProjectFileError(ValueError):
    """A project file cannot be read; the message says which file and where."""


def _migrate_0(data: dict) -> dict:
    # version 0 (early drafts) kept graphs under "graph" as a single object
    data = dict(data)
    if "graph" in data and "graphs" not in data:
        data["graphs"] = [data.pop("graph")]
    data["version"] = 1
    return data


MIGRATIONS: dict[int, Callable[[dict], dict]] = {0: _migrate_0}


# ----------------------------------------------------------------------------- writing
def project_to_dict(project: Project) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "title": project.title,
        "description": project.description,
        "graphs": [g.to_dict() for g in project.graphs],
        "training": project.training,
        "meta": project.meta,
    }


def dumps_project(project: Project) -> str:
    """The project as JSON text; refuses (ProjectFileError) what could not be read back."""
    data = project_to_dict(project)
    for key in ("training", "meta"):
        _check_json_plain(data[key], key, _refuse_save)
    try:
        text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as e:
        raise ProjectFileError(f"cannot save the project: {e}") from None
    if not _is_unicode(text):  # an unpaired surrogate cannot be written as UTF-8
        raise ProjectFileError("cannot save the project: it holds text that is not valid "
                               "Unicode (an unpaired surrogate)")
    return text


def _refuse_save(where: str, msg: str):
    raise ProjectFileError(f"cannot save the project: {where}: {msg}")


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and
    the temporary file is renamed over ``path``.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private to its owner; keep the mode a project file had
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write ``project`` to ``path``; from now on its blocks' source paths are relative
    to that file's folder (saved to another folder, they are rewritten to name the same
    files from there)."""
    from .blocks import rebase_sources

    folder = Path(path).resolve().parent
    rebase_sources(project, folder)
    atomic_write(path, dumps_project(project).encode("utf-8"))
    project.folder = folder


# ----------------------------------------------------------------------------- reading
def load_project(path: str | os.PathLike) -> Project:
    """Read and check a project file; raises :class:`ProjectFileError` naming the problem."""
    path = Path(path)
    label = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ProjectFileError(f"{path}: no such file") from None
    except OSError as e:
        raise ProjectFileError(f"{path}: cannot read it ({e.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise ProjectFileError(f"{label}: {size:,} bytes is too large for a project file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ProjectFileError(f"{path}: cannot read it ({e.strerror})") from None
    return loads_project(raw, label, path.resolve().parent)


def loads_project(raw: bytes | str, label: str = "project",
                  folder: str | os.PathLike | None = None) -> Project:
    """Read a project from JSON text; ``folder`` is where its file lies (blocks that reuse
    another project name it relative to that folder)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProjectFileError(
                f"{label}: not a text file (byte {e.start} is not UTF-8)") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ProjectFileError(
            f"{label}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise ProjectFileError(f"{label}: nested too deeply to be a project file") from None
    except ValueError as e:  # e.g. an integer literal with thousands of digits
        raise ProjectFileError(f"{label}: not valid JSON ({str(e)[:80]})") from None
    return project_from_dict(data, label, folder)


def project_from_dict(data: Any, label: str = "project",
                      folder: str | os.PathLike | None = None) -> Project:
    try:
        return _Reader(label, folder).read(data)
    except RecursionError:
        raise ProjectFileError(f"{label}: nested too deeply to be a project file") from None


class _Reader:
    def __init__(self, label: str, folder: str | os.PathLike | None = None):
        self.label = label
        self.folder = Path(folder) if folder is not None else None

    def fail(self, where: str, msg: str):
        raise ProjectFileError(f"{self.label}: {where}: {msg}" if where else f"{self.label}: {msg}")

    def want(self, value, types, where: str, what: str):
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
            self.fail(where, f"expected {what}, got {_kind(value)}")
        return value

    def text(self, value, where: str, allow_empty: bool = True) -> str:
        self.want(value, str, where, "text")
        if len(value) > MAX_NAME * 50:
            self.fail(where, "text is too long")
        if not _is_unicode(value):
            self.fail(where, _NOT_UNICODE)
        if not allow_empty and not value.strip():
            self.fail(where, "must not be empty")
        return value

    def read(self, data: Any) -> Project:
        self.want(data, dict, "", "a JSON object at the top")
        if data.get("format") != FORMAT:
            self.fail("format", f"this is not an nnstudio project (expected \"{FORMAT}\")")
        version = self.want(data.get("version"), int, "version", "an integer")
        if version > VERSION:
            self.fail("version", f"made by a newer nnstudio (format {version}; this one reads "
                                 f"up to {VERSION})")
        if version < 0:
            self.fail("version", f"unknown format version {version}")
        while version < VERSION:
            data = MIGRATIONS[version](data)
            version = data["version"]
        project = Project(self.text(data.get("title", "Untitled"), "title"),
                          self.text(data.get("description", ""), "description"))
        project.folder = self.folder
        graphs = self.want(data.get("graphs"), list, "graphs", "a list of graphs")
        if not graphs:
            self.fail("graphs", "a project needs at least one graph")
        if len(graphs) > MAX_GRAPHS:
            self.fail("graphs", f"{len(graphs)} graphs is more than the {MAX_GRAPHS} allowed")
        for i, gd in enumerate(graphs):
            g = self.graph(gd, f"graphs[{i}]")
            if any(other.name == g.name for other in project.graphs):
                self.fail(f"graphs[{i}].name", f"another graph is already named {g.name!r}")
            try:
                project.add_graph(g)
            except GraphError as e:  # whatever else the document refuses in a graph
                self.fail(f"graphs[{i}].name", str(e))
        self.check_blocks(project)
        for key in ("training", "meta"):
            value = self.want(data.get(key, {}), dict, key, "an object")
            _check_json_plain(value, key, self.fail)
            setattr(project, key, value)
        return project

    def check_blocks(self, project: Project) -> None:
        """Refuse blocks that contain themselves; bring every block's ports in step with
        the graph it runs (a file edited by hand may say otherwise)."""
        for i, g in enumerate(project.graphs):
            for j, n in enumerate(g.nodes):
                target = n.params.get("graph") if n.type == BLOCK else None
                if not target or n.params.get("source"):
                    continue
                path = project.block_path(target, g.name)
                if path is not None:
                    chain = " → ".join(f"'{name}'" for name in [g.name, *path])
                    self.fail(f"graphs[{i}].nodes[{j}].params.graph",
                              f"block '{n.name}' would contain itself ({chain})")
        project.sync_blocks()

    def graph(self, gd: Any, where: str) -> Graph:
        self.want(gd, dict, where, "an object")
        name = self.text(gd.get("name", "Net"), f"{where}.name", allow_empty=False)
        if len(name) > MAX_NAME:
            self.fail(f"{where}.name", f"names are at most {MAX_NAME} characters")
        g = Graph(name)
        nodes = self.want(gd.get("nodes", []), list, f"{where}.nodes", "a list")
        if len(nodes) > MAX_NODES:
            self.fail(f"{where}.nodes", f"{len(nodes):,} nodes is more than the "
                                        f"{MAX_NODES:,} allowed")
        for j, nd in enumerate(nodes):
            self.node(g, nd, f"{where}.nodes[{j}]")
        edges = self.want(gd.get("edges", []), list, f"{where}.edges", "a list")
        for k, ed in enumerate(edges):
            w = f"{where}.edges[{k}]"
            self.want(ed, dict, w, "an object")
            ends = [self.want(ed.get(f), str, f"{w}.{f}", "text")
                    for f in ("src", "src_port", "dst", "dst_port")]
            for f, nid in (("src", ends[0]), ("dst", ends[2])):
                if nid not in g:
                    self.fail(f"{w}.{f}", f"no node has id {nid!r}")
            try:
                g.connect(*ends)
            except GraphError as e:
                self.fail(w, str(e))
        return g

    def node(self, g: Graph, nd: Any, where: str) -> None:
        self.want(nd, dict, where, "an object")
        nid = self.want(nd.get("id"), str, f"{where}.id", "text")
        if not _ID.match(nid):
            self.fail(f"{where}.id", "ids are 1-64 letters, digits, '.', '_' or '-'")
        if nid in g:
            self.fail(f"{where}.id", f"id {nid!r} is used twice")
        type_name = self.want(nd.get("type"), str, f"{where}.type", "text")
        if type_name not in REGISTRY:
            self.fail(f"{where}.type", f"unknown layer type {type_name[:60]!r}")
        spec = REGISTRY.get(type_name)
        name = self.text(nd.get("name", ""), f"{where}.name", allow_empty=False)
        if len(name) > MAX_NAME:
            self.fail(f"{where}.name", f"names are at most {MAX_NAME} characters")
        if g.find(name) is not None:
            self.fail(f"{where}.name", f"another node is already named {name!r}")
        params = self.want(nd.get("params", {}), dict, f"{where}.params", "an object")
        # free text (a block's graph and ports) is text the file must be able to hold again
        _check_json_plain(params, f"{where}.params", self.fail)
        for pname, value in params.items():
            try:
                spec.clean_params({pname: value})
            except ParamError as e:
                self.fail(_key_path(f"{where}.params", pname), str(e).split(": ", 1)[-1])
        pos = nd.get("pos", [0, 0])
        if (not isinstance(pos, list) or len(pos) != 2
                or not all(_finite_number(v) and abs(v) < 1e7 for v in pos)):
            self.fail(f"{where}.pos", "expected two finite numbers [x, y]")
        frozen = self.want(nd.get("frozen", False), bool, f"{where}.frozen", "true or false")
        lr_mult = nd.get("lr_mult", 1.0)
        if not _finite_number(lr_mult) or not 0 <= lr_mult <= 100:
            self.fail(f"{where}.lr_mult", "expected a number between 0 and 100")
        try:
            g.add_node(type_name, name, params, tuple(pos), node_id=nid, frozen=frozen,
                       lr_mult=float(lr_mult))
        except GraphError as e:
            self.fail(where, str(e))


def _finite_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _tuple(t):
    return t if isinstance(t, tuple) else (t,)


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "something else")


_NOT_UNICODE = "text is not valid Unicode (an unpaired surrogate)"


def _is_unicode(text: str) -> bool:
    """False for text holding a lone surrogate (JSON's "\\ud800"): it cannot be saved."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _key_path(where: str, key: str) -> str:
    """``where.key`` for a message: one line, and not too long, whatever the key holds."""
    shown = key if key.isprintable() and _is_unicode(key) else ascii(key)[1:-1]
    return f"{where}.{shown[:40]}{'…' if len(shown) > 40 else ''}"


def _check_json_plain(value, where, fail, depth=0):
    """Reject NaN/inf, text that is not Unicode, and absurd nesting in the free-form
    sections."""
    if depth > 32:
        fail(where, "nested too deeply")
    if isinstance(value, float) and not math.isfinite(value):
        fail(where, "numbers must be finite")
    if isinstance(value, str) and not _is_unicode(value):
        fail(where, _NOT_UNICODE)
    if isinstance(value, dict):
        for k, v in value.items():
            if not _is_unicode(k):
                fail(_key_path(where, k), _NOT_UNICODE)
            _check_json_plain(v, _key_path(where, k), fail, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_json_plain(v, f"{where}[{i}]", fail, depth + 1)
