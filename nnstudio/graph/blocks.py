"""Blocks: a node that runs another graph as one layer.

A ``Block`` node names a graph — of its own project (``graph``), or of another project
file (``source``, a path relative to this project's file, plus ``graph``; the trained
weights saved beside that file come with it).  The block's input ports are the Input
nodes of that graph, in order, and its output ports its Output nodes, each named after
its node; the document keeps them in step when the inner graph changes.

Blocks are shape-polymorphic: the shape set on an inner Input node is only its default
(what the inner graph shows in its own tab).  Each use infers the inner graph again with
the shapes that arrive on the block's inputs, so one "VGG stage" serves at 56×56 and at
28×28.  Its parameter count is the inner graph's total at that use.

A block cannot contain itself, directly or through other blocks: the document refuses
such an edit, and inference reports it (for a file that says so) without recursing.

Generated code: one nested ``nn.Module`` class per block graph, written before the class
that uses it (see :mod:`nnstudio.graph.codegen`).

Nothing here executes anything from a file: another project is read by the checked
loader, and its weights only at compile time, with ``weights_only=True``.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from .document import BLOCK, Graph, Node, Project
from .shapes import Shape, ShapeError, fmt_shape
from .spec import Ctx

SOURCE_SUFFIX = ".nnstudio"
MAX_DEPTH = 16  # blocks within blocks (across files too) before we call it a loop
_RESULTS_PER_GRAPH = 32  # inner inferences remembered per graph (one per input shape)


@dataclass(frozen=True)
class Target:
    """The graph a block runs, found."""

    graph: Graph
    key: Hashable  # the same graph always has the same key (codegen: one class per key)
    label: str  # "'VGGStage'" or "'LeNet5' of digits.nnstudio", for messages
    source: Path | None = None  # the other project file, when it comes from one


def is_block(node: Node) -> bool:
    return node.type == BLOCK


def interface(graph: Graph) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names of ``graph``'s Input nodes and of its Output nodes, in insertion order:
    the ports of a block that runs it."""
    ins = tuple(n.name for n in graph.nodes if n.type == "Input")
    outs = tuple(n.name for n in graph.nodes if n.type == "Output")
    return ins, outs


# ----------------------------------------------------------------------------- finding
def resolve(holder: Graph, params: Mapping[str, Any]) -> Target:
    """The graph a Block node of ``holder`` with ``params`` runs.

    Raises ShapeError saying why it cannot be found (no graph chosen, no such graph,
    the holder is in no project, a missing or broken source file).
    """
    name, source = params.get("graph", ""), params.get("source", "")
    project = holder.project
    if source:
        other, path = load_source(project, source)
        try:
            graph = other.graph(name or None)
        except Exception:  # noqa: BLE001  (GraphError: no such graph)
            have = ", ".join(f"'{g.name}'" for g in other.graphs)
            raise ShapeError(f"uses graph '{name}' of {source}, which has no such graph "
                             f"(it has {have})") from None
        return Target(graph, ("file", str(path), graph.name),
                      f"'{graph.name}' of {path.name}", path)
    if not name:
        raise ShapeError("runs no graph yet: choose one of the project's graphs")
    if project is None:
        raise ShapeError(f"runs graph '{name}', but this graph belongs to no project")
    for g in project.graphs:
        if g.name == name:
            return Target(g, ("project", id(project), id(g)), f"'{name}'")
    have = ", ".join(f"'{g.name}'" for g in project.graphs if g is not holder) or "none"
    raise ShapeError(f"runs graph '{name}', which this project does not have "
                     f"(its other graphs: {have})")


# a source file is read once per change on disk: path -> (mtime_ns, size, project)
_SOURCES: dict[str, tuple[int, int, Project]] = {}
_SOURCES_LOCK = threading.Lock()


def source_path(project: Project | None, source: str) -> Path:
    """Where a block's ``source`` lies: relative to the folder of ``project``'s file."""
    if PurePosixPath(source).is_absolute() or PureWindowsPath(source).is_absolute() \
            or PureWindowsPath(source).drive:
        raise ShapeError(f"source {source!r} must be a path relative to this project's file")
    if not source.endswith(SOURCE_SUFFIX):
        raise ShapeError(f"source {source!r} must name a {SOURCE_SUFFIX} project file")
    folder = project.folder if project is not None else None
    if folder is None:
        raise ShapeError(f"uses {source}, but this project has no file yet: save it first "
                         "(a source is found relative to the project file)")
    return (Path(folder) / source).resolve()


def load_source(project: Project | None, source: str) -> tuple[Project, Path]:
    """The project in file ``source`` (relative to ``project``'s file), read as data."""
    from .project_file import ProjectFileError, load_project

    path = source_path(project, source)
    try:
        st = path.stat()
    except OSError:
        raise ShapeError(f"uses {source}, which does not exist (looked in "
                         f"{path.parent})") from None
    with _SOURCES_LOCK:
        cached = _SOURCES.get(str(path))
    if cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
        return cached[2], path
    try:
        other = load_project(path)
    except ProjectFileError as e:
        raise ShapeError(f"cannot read {source}: {e}") from None
    with _SOURCES_LOCK:
        _SOURCES[str(path)] = (st.st_mtime_ns, st.st_size, other)
    return other, path


def source_stamp(project: Project | None, source: str) -> tuple:
    """What changes when the file behind ``source`` changes (for caches)."""
    try:
        path = source_path(project, source)
        st = path.stat()
    except (ShapeError, OSError):
        return (source, None)
    return (str(path), st.st_mtime_ns, st.st_size)


# ----------------------------------------------------------------------------- document hooks
def derive_params(params: dict[str, Any], holder: Graph) -> dict[str, Any]:
    """A Block's ports from the graph it runs (``LayerSpec.derive``); unchanged when
    that graph cannot be found yet (a file being read, a missing source)."""
    if not params.get("graph") and not params.get("source"):
        return {**params, "inputs": (), "outputs": ()}
    try:
        target = resolve(holder, params)
    except ShapeError:
        return params
    ins, outs = interface(target.graph)
    if (ins, outs) == (params.get("inputs"), params.get("outputs")):
        return params
    return {**params, "inputs": ins, "outputs": outs}


def context_key(node: Node, holder: Graph) -> Hashable:
    """What a Block's shapes depend on besides its parameters and inputs: the graph it
    runs (found or not, and its version, which moves whenever a graph inside it moves)
    and, for a source file, the file on disk."""
    params = node.params
    project = holder.project
    key: tuple = (holder.name, id(project))
    if params.get("source"):
        key += source_stamp(project, params["source"])
        return key
    if project is not None:
        for g in project.graphs:
            if g.name == params.get("graph"):
                return key + (id(g), g.version)
    return key + (None,)


# ----------------------------------------------------------------------------- inference
_active = threading.local()  # the graphs being inferred inside blocks, innermost last
# graph -> {(version, source stamp, input shapes): result}
_RESULTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RESULTS_LOCK = threading.Lock()


def _stack() -> list:
    stack = getattr(_active, "stack", None)
    if stack is None:
        stack = _active.stack = []
    return stack


def inner_result(target: Target, in_shapes: Sequence[Shape]):
    """Shape inference of the graph ``target`` runs, with ``in_shapes`` arriving on its
    Input nodes (in order) instead of their own shapes.  Cached per graph version."""
    from .shape_inference import ShapeInference

    graph = target.graph
    inputs = [n for n in graph.nodes if n.type == "Input"]
    key = (graph.version, tuple(tuple(s) for s in in_shapes))
    with _RESULTS_LOCK:
        per_graph = _RESULTS.get(graph)
        hit = per_graph.get(key) if per_graph is not None else None
    if hit is not None:
        return hit
    stack = _stack()
    if target.key in stack or len(stack) >= MAX_DEPTH:
        raise ShapeError(f"runs {target.label}, which (through its blocks) runs the graph "
                         "this block is in: a block cannot contain itself")
    stack.append(target.key)
    try:
        overrides = {n.id: tuple(s) for n, s in zip(inputs, in_shapes)}
        result = ShapeInference(graph, input_shapes=overrides).run()
    finally:
        stack.pop()
    with _RESULTS_LOCK:
        per_graph = _RESULTS.setdefault(graph, {})
        if len(per_graph) >= _RESULTS_PER_GRAPH:
            per_graph.pop(next(iter(per_graph)))
        per_graph[key] = result
    return result


def _check_cycle(holder: Graph, params: Mapping[str, Any], target: Target) -> None:
    if params.get("source") or holder.project is None:
        return
    if target.graph is holder:
        raise ShapeError(f"runs '{holder.name}', the graph it is in: a block cannot "
                         "contain itself")
    path = holder.project.block_path(target.graph.name, holder.name)
    if path is not None:
        chain = " → ".join(f"'{g}'" for g in path)
        raise ShapeError(f"runs {chain}, the graph it is in: a block cannot contain itself")


def use(ctx: Ctx) -> tuple[Target, Any]:
    """The target of the Block in ``ctx`` and its inner inference for ``ctx.in_shapes``;
    raises ShapeError when the block cannot run as drawn."""
    holder, params = ctx.graph, ctx.params
    if holder is None:
        raise ShapeError("runs another graph, so it needs the graph that holds it")
    target = resolve(holder, params)
    _check_cycle(holder, params, target)
    inputs = [n for n in target.graph.nodes if n.type == "Input"]
    outputs = [n for n in target.graph.nodes if n.type == "Output"]
    ins, outs = interface(target.graph)
    if (ins, outs) != (tuple(params["inputs"]), tuple(params["outputs"])):
        raise ShapeError(f"has ports ({', '.join(params['inputs'])} → "
                         f"{', '.join(params['outputs'])}) that no longer match {target.label} "
                         f"({', '.join(ins)} → {', '.join(outs)}): choose its graph again")
    if not inputs:
        raise ShapeError(f"runs {target.label}, which has no Input node")
    if not outputs:
        raise ShapeError(f"runs {target.label}, which has no Output node")
    for n, got in zip(inputs, ctx.in_dtypes or ()):
        want = n.params["dtype"]
        if got not in ("any", want):
            words = {"long": "integer token ids", "float": "real values"}
            raise ShapeError(f"input '{n.name}' takes {words[want]} (the Input of "
                             f"{target.label}), but gets {words.get(got, got)}", n.name)
    for n, shape in zip(inputs, ctx.in_shapes):
        if len(shape) != len(n.params["shape"]) + 1:
            raise ShapeError(
                f"input '{n.name}' gets {fmt_shape(shape)}, but {target.label} is drawn for "
                f"{fmt_shape(('B', *n.params['shape']))}: the ranks differ", n.name)
    result = inner_result(target, ctx.in_shapes)
    if not result.ok:
        first = result.all_errors()[0].message
        more = len(result.all_errors()) - 1
        extra = f" (and {more} more)" if more else ""
        raise ShapeError(f"cannot run {target.label} on {', '.join(map(fmt_shape, ctx.in_shapes))}"
                         f": {first}{extra}")
    return target, result


def output_sources(graph: Graph) -> list[tuple[str, str]]:
    """(node id, port) feeding each Output node of ``graph``, in Output order."""
    out = []
    for n in graph.nodes:
        if n.type == "Output":
            e = graph.edge_into(n.id, "in")
            out.append((e.src, e.src_port) if e is not None else (None, None))
    return out


def infer(ctx: Ctx) -> list[Shape]:
    """The Block's shape rule: the shapes reaching the inner Output nodes."""
    target, result = use(ctx)
    srcs = output_sources(target.graph)
    ctx.out_dtypes = [result.dtypes.get(s, "any") for s in srcs]
    return [result.shapes[s] for s in srcs]


def count(ctx: Ctx) -> int:
    """The Block's parameter count: the inner graph's total at this use."""
    return use(ctx)[1].total_params


def uses_of(project: Project, name: str) -> list[tuple[Graph, Node]]:
    """(graph, Block node) for each block of ``project`` that runs graph ``name``."""
    return project.block_uses(name)


def top_level_graphs(project: Project) -> list[Graph]:
    """The graphs of ``project`` that no block of it runs: the networks themselves (a
    summary's total counts these, since a block graph's parameters are already in the
    count of every block that runs it)."""
    used = {n.params.get("graph") for g in project.graphs for n in g.block_nodes()
            if not n.params.get("source")}
    return [g for g in project.graphs if g.name not in used]


def clear_caches() -> None:
    """Forget source files read and inner inferences (tests; a file replaced on disk
    in the same nanosecond)."""
    with _SOURCES_LOCK:
        _SOURCES.clear()
    with _RESULTS_LOCK:
        _RESULTS.clear()


def rebase_sources(project: Project, folder: str | os.PathLike) -> int:
    """Rewrite the ``source`` of every block of ``project`` so that it names the same file
    from ``folder`` (where the project is about to be saved) as it did from the
    project's current folder; returns how many changed.  Saving a project elsewhere
    must not lose the trained networks its blocks reuse."""
    old = project.folder
    if old is None or Path(old).resolve() == Path(folder).resolve():
        return 0
    changed = 0
    for g in project.graphs:
        for n in g.block_nodes():
            source = n.params.get("source")
            if not source:
                continue
            try:
                target = source_path(project, source)
            except ShapeError:
                continue  # not a path we can follow: leave it as the person wrote it
            new = relative_source(folder, target)
            if new != source:
                g.set_params(n.id, {"source": new})
                changed += 1
    return changed


def relative_source(project_folder: str | os.PathLike, path: str | os.PathLike) -> str:
    """``path`` written the way a block's ``source`` holds it: relative to the project's
    folder, with forward slashes (so the file opens on every system)."""
    rel = os.path.relpath(Path(path).resolve(), Path(project_folder).resolve())
    return PurePosixPath(*Path(rel).parts).as_posix()
