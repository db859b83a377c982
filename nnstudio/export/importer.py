"""Import a PyTorch ``nn.Module`` into the editor: a graph, laid out, with its weights.

``import_pytorch("model.py", "Net", [(1, 3, 32, 32)])`` runs ``model.py`` (see
:mod:`nnstudio.export.import_trace` — this executes the person's code), traces
``Net().forward`` with torch.fx and turns each traced operation into catalog nodes
(:mod:`nnstudio.export.import_convert`, with :mod:`nnstudio.export.import_map` saying
what each operation becomes).

Submodules that are ``nn.Sequential`` or the person's own classes become blocks
(``blocks=True``, the default; :mod:`nnstudio.export.import_blocks`): a Block node in
the graph that calls them, running a graph of its own that two calls of one class
share when they compute the same thing.  With ``blocks=False`` they are inlined: their
layers become nodes of one graph named by their path (``features.0`` →
``features_0``).  Either way each layer node remembers the module path that enclosed it
(:attr:`ImportedModel.scopes`).

Weights follow by module: the state dict of ``features.0`` becomes the entries of its
node's attribute in the generated class (``features_0.weight`` flat, or
``features.conv2d_0.weight`` with blocks).  Before anything is returned the generated
module is built, loaded with those weights and run on the example input next to the
original: outputs must agree (1e-5), so what is imported is what was written.  What
cannot be mapped is collected — every operation, with its name and source line — and
raised together as :class:`ModelImportError`; nothing is written then
(:func:`save_imported` is the only function here that writes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from nnstudio.export.import_blocks import Blocks, group_into_blocks
from nnstudio.export.import_convert import Converter, ModelImportError, Unmapped
from nnstudio.export.import_trace import (
    TraceFailure,
    eval_mode,
    example_inputs,
    instantiate,
    load_class,
    record_values,
    trace,
)
from nnstudio.graph.codegen import CodegenError, generate, render
from nnstudio.graph.codegen_blocks import ClassTable
from nnstudio.graph.compiler import build_model
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.layout import layered_layout
from nnstudio.graph.names import class_name as make_class_name
from nnstudio.graph.project_file import save_project
from nnstudio.graph.shape_inference import ShapeInference
from nnstudio.graph.weights import save_weights, weights_path

__all__ = ["ImportCancelled", "ImportedModel", "ModelImportError", "SavedImport", "Unmapped",
           "graph_class_name", "import_module", "import_pytorch", "parse_target",
           "save_imported"]

# progress(done, total, text) -> False to stop: the data registry's convention, which
# the window's progress dialog speaks
Progress = Callable[[float, float, str], bool]

TOLERANCE = 1e-5
MAX_INPUT_RANK = 5  # dimensions per example an Input node takes


class ImportCancelled(Exception):
    """The ``progress`` callback asked to stop; nothing was imported."""


class _Steps:
    """Counts the import's steps for a ``progress`` callback; stops when it says so."""

    TOTAL = 8

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.done = 0

    def __call__(self, text: str) -> None:
        if self.progress is None:
            return
        if self.progress(self.done, self.TOTAL, text) is False:
            raise ImportCancelled("the import was cancelled")
        self.done = min(self.done + 1, self.TOTAL - 1)


@dataclass
class ImportedModel:
    """What an import gives: a one-graph project and the weights that fit its code."""

    project: Project
    graph: Graph
    state_dict: dict[str, torch.Tensor]  # under the generated class's attribute names
    module_paths: dict[str, str] = field(default_factory=dict)  # node id -> "features.0"
    # node id -> the enclosing module paths, outermost first (("features", "features.2")):
    # nodes sharing a prefix came from one nn.Sequential or user class, i.e. one future block
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scope_types: dict[str, str] = field(default_factory=dict)  # module path -> class name
    max_difference: float = 0.0  # |imported - original| on the example input
    original: nn.Module | None = field(default=None, repr=False)  # the module imported
    n_layers: int = 0  # layer nodes of the model, blocks counted by what they hold
    block_graphs: list[Graph] = field(default_factory=list)  # the graphs blocks run
    n_blocks: int = 0  # Block nodes made (in all graphs)
    notes: list[str] = field(default_factory=list)  # submodules left inlined, and why


# ----------------------------------------------------------------------------- entry points
def parse_target(text: str) -> tuple[Path, str | None]:
    """``"model.py:Net"`` → (Path("model.py"), "Net"); ``"model.py"`` → (path, None)."""
    path, sep, cls = str(text).rpartition(":")
    if not sep or not cls.isidentifier() or not path:
        return Path(text), None
    return Path(path), cls


def import_pytorch(source: str | os.PathLike, class_name: str,
                   input_shapes: Sequence[Sequence[int]],
                   input_dtypes: Sequence[str | None] | None = None, *,
                   blocks: bool = True, progress: Progress | None = None) -> ImportedModel:
    """Run ``source``, build ``class_name()`` and import it (see the module docstring).

    ``input_shapes`` has one shape per argument of ``forward``, batch first
    (``[(1, 3, 32, 32)]``); ``input_dtypes`` "float"/"long" per input, None to guess
    ("long" for inputs that go straight into an ``nn.Embedding``).  ``blocks``: make
    submodules blocks (True) or inline them (False).  ``progress(done, total, text)`` is
    told each step and may answer False to stop the import (:class:`ImportCancelled`).
    Raises :class:`ModelImportError`.
    """
    step = _Steps(progress)
    step(f"running {Path(source).name}")
    try:
        cls = load_class(source, class_name)
        step(f"building {class_name}()")
        model = instantiate(cls, source)
    except TraceFailure as e:
        raise ModelImportError(f"cannot import {class_name}: {e}") from None
    return import_module(model, input_shapes, input_dtypes, name=class_name, source=source,
                         blocks=blocks, progress=step)


def import_module(model: nn.Module, input_shapes: Sequence[Sequence[int]],
                  input_dtypes: Sequence[str | None] | None = None, *, name: str | None = None,
                  source: str | os.PathLike | None = None, blocks: bool = True,
                  progress: Progress | None = None) -> ImportedModel:
    """Import an already built ``model`` (its current weights come along)."""
    name = name or type(model).__name__
    step = progress if isinstance(progress, _Steps) else _Steps(progress)
    shapes = [_check_shape(s, i) for i, s in enumerate(input_shapes)]
    step(f"tracing {name}.forward")
    try:
        gm = trace(model, source, len(shapes))
    except TraceFailure as e:
        raise ModelImportError(f"cannot import {name}: {e}") from None
    # arguments fixed at their defaults (mask=None) trace as placeholders holding them
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder" and not n.args]
    if len(placeholders) != len(shapes):
        args = ", ".join(n.name for n in placeholders)
        raise ModelImportError(f"cannot import {name}: forward takes {len(placeholders)} "
                               f"input(s) ({args}) but {len(shapes)} shape(s) were given")
    dtypes = _input_dtypes(gm, placeholders, input_dtypes)
    vocab = min([m.num_embeddings for m in model.modules() if isinstance(m, nn.Embedding)]
                or [10])
    batch = shapes[0][0]
    runs = []
    step(f"running {name}.forward on example inputs")
    for b, seed in ((batch, 0), (batch + 1, 1)):
        inputs = example_inputs([(b, *s[1:]) for s in shapes], dtypes, vocab, seed)
        try:
            runs.append((inputs, record_values(gm, inputs, source)))
        except TraceFailure as e:
            raise ModelImportError(f"cannot import {name}: {e}") from None
    step("mapping the operations to layers")
    converter = Converter(gm, name, source, runs[0][1], runs[1][1], batch)
    graph = converter.convert(dtypes)
    n_layers = sum(1 for n in graph.nodes if n.type not in ("Input", "Output"))
    project = Project(f"{name} (imported)",
                      f"Imported from {Path(source).name if source else 'Python'}, class "
                      f"{name}, traced with input shape "
                      + "; ".join(",".join(map(str, s)) for s in shapes) + ".")
    project.add_graph(graph)
    grouped = Blocks()
    if blocks:
        step("grouping submodules into blocks")
        grouped = group_into_blocks(project, graph, converter, model)
    for g in (graph, *grouped.graphs):
        for nid, (x, y) in layered_layout(g).items():
            g.move_node(nid, (x, y))
    step("checking the outputs against the original")
    state = _state_dict(project, graph, converter, grouped)
    difference = _check_outputs(graph, state, model, runs[0][0], name)
    project.meta["imported_from"] = {
        "file": Path(source).name if source else "", "class": name,
        "input_shapes": [list(s) for s in shapes], "input_dtypes": list(dtypes),
        "blocks": bool(blocks)}
    return ImportedModel(project, graph, state, converter.module_paths, converter.scopes,
                         converter.scope_types, difference, model, n_layers, grouped.graphs,
                         len(grouped.uses), grouped.notes)


@dataclass(frozen=True)
class SavedImport:
    project_path: Path
    weights_path: Path
    n_tensors: int


def save_imported(imported: ImportedModel, path: str | os.PathLike) -> SavedImport:
    """Write the project to ``path`` and its weights beside it (``<stem>.<Class>.pt``).

    The weights go first; if the project then cannot be written, they are removed, so a
    failed save leaves nothing behind.
    """
    path = Path(path)
    wpath = weights_path(path, imported.graph)
    existed = wpath.exists()
    save_weights(wpath, imported.state_dict)
    try:
        save_project(imported.project, path)
    except BaseException:
        if not existed:
            wpath.unlink(missing_ok=True)
        raise
    return SavedImport(path, wpath, len(imported.state_dict))


# ----------------------------------------------------------------------------- checks
def _check_shape(shape: Sequence[int], i: int) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ModelImportError(f"input shape {i + 1} must be whole numbers, not "
                               f"{shape!r}") from None
    if len(dims) < 2 or any(d < 1 for d in dims):
        raise ModelImportError(f"input shape {','.join(map(str, dims))} must start with the "
                               "batch size and give at least one more positive size, "
                               "e.g. 1,3,32,32")
    if len(dims) - 1 > MAX_INPUT_RANK:
        raise ModelImportError(f"input shape {','.join(map(str, dims))} has more than "
                               f"{MAX_INPUT_RANK} dimensions per example")
    return dims


def _input_dtypes(gm: fx.GraphModule, placeholders: list[fx.Node],
                  given: Sequence[str | None] | None) -> list[str]:
    given = list(given or [])
    if len(given) == 1 and len(placeholders) > 1:
        given = given * len(placeholders)
    out = []
    for i, ph in enumerate(placeholders):
        want = given[i] if i < len(given) else None
        if want is None:
            feeds_embedding = any(
                u.op == "call_module" and isinstance(gm.get_submodule(u.target), nn.Embedding)
                for u in ph.users)
            want = "long" if feeds_embedding else "float"
        if want not in ("float", "long"):
            raise ModelImportError(f"input dtype {want!r}: expected float or long")
        out.append(want)
    return out


# ----------------------------------------------------------------------------- weights
def _state_dict(project: Project, graph: Graph, conv: Converter, grouped: Blocks
                ) -> dict[str, torch.Tensor]:
    """The state dict of the generated class of ``graph``: each layer's module state
    under its attribute path (through the blocks it sits in)."""
    try:
        top_attrs = generate(graph).attrs
    except CodegenError as e:  # a mapping the catalog's shape rules refuse: our bug or theirs
        raise ModelImportError(f"cannot import {graph.name}: the imported graph does not "
                               "check: " + "; ".join(e.problems)) from None
    attrs_of: dict[str, dict[str, str]] = {}
    state: dict[str, torch.Tensor] = {}

    def inner_attrs(g: Graph) -> dict[str, str]:
        # the attribute names a block graph's class gives its layers (as codegen renders
        # a nested class: no reserved class name of its own)
        if g.name not in attrs_of:
            attrs_of[g.name] = render(g, ShapeInference(g).run(), ClassTable(), set()).code.attrs
        return attrs_of[g.name]

    def walk(g: Graph, attrs: dict[str, str], source_of: dict[str, str], prefix: str) -> None:
        for node in g.nodes:
            src = source_of.get(node.name)
            if src is None or node.type in ("Input", "Output"):
                continue
            attr = prefix + attrs[node.id]
            module = conv.weights.get(src)
            if module is not None:
                for key, value in module.state_dict().items():
                    state[f"{attr}.{key}"] = value.detach().clone()
            use = grouped.uses.get(src)
            if use is not None:
                inner = project.graph(use.graph)
                walk(inner, inner_attrs(inner), use.members, attr + ".")

    walk(graph, top_attrs, {n.name: n.id for n in graph.nodes}, "")
    return state


def _check_outputs(graph: Graph, state: dict[str, torch.Tensor], model: nn.Module,
                   inputs: list[torch.Tensor], name: str) -> float:
    """How far the generated module with ``state`` is from ``model`` on ``inputs``;
    raises ModelImportError when the weights do not fit or the outputs differ."""
    imported = build_model(generate(graph))
    try:
        imported.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ModelImportError(f"cannot import {name}: its weights do not fit the imported "
                               f"graph ({' '.join(str(e).split())[:300]})") from None
    with eval_mode(model), eval_mode(imported):
        want = _flat(model(*inputs))
        got = _flat(imported(*inputs))
    if len(want) != len(got) or any(a.shape != b.shape for a, b in zip(want, got)):
        raise ModelImportError(f"cannot import {name}: the imported graph returns "
                               f"{[tuple(t.shape) for t in got]}, the original "
                               f"{[tuple(t.shape) for t in want]}")
    difference = max((float((a.double() - b.double()).abs().max()) for a, b in zip(want, got)
                      if a.numel()), default=0.0)
    scale = max((float(a.double().abs().max()) for a in want if a.numel()), default=0.0)
    if not difference <= TOLERANCE * max(1.0, scale):
        raise ModelImportError(
            f"cannot import {name}: the imported graph's outputs differ from the original's "
            f"by up to {difference:.3g} on the example input; nothing was written (is forward "
            "random in eval mode, e.g. F.dropout without training=self.training?)")
    return difference


def _flat(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in _flat(item)]
    raise ModelImportError(f"forward returned {type(out).__name__}, not tensors")


def graph_class_name(imported: ImportedModel) -> str:
    """The class name the generated code (and the weights file) uses."""
    return make_class_name(imported.graph.name)

