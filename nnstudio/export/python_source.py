"""Export a graph as a PyTorch source file, optionally with weights that fit it.

The file written is exactly ``generate(graph).source``: the text the app executes to
build the model it trains, so nothing is lost or renamed on the way out.  With
weights, the state dict is first checked against the compiled module (every name
present, none extra, every shape equal) and then written as ``<out>.pt`` beside the
source, i.e. ``model.py`` gets ``model.pt``.  Load it with::

    from model import LeNet5
    model = LeNet5()
    model.load_state_dict(torch.load("model.pt", weights_only=True))

Nothing is written unless the graph generates and the weights fit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from nnstudio.graph.blocks import top_level_graphs
from nnstudio.graph.codegen import CodegenError, generate
from nnstudio.graph.compiler import compile_source
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.project_file import atomic_write
from nnstudio.graph.weights import load_weights, save_weights


class ExportError(ValueError):
    """The export cannot be made; the message is one line saying why."""


@dataclass(frozen=True)
class ExportResult:
    source_path: Path
    class_name: str
    weights_path: Path | None = None
    n_tensors: int = 0


def pick_graph(project_or_graph: Project | Graph, graph: str | None = None) -> Graph:
    """The graph to export: ``graph`` by name, or the project's only network (its only
    graph that no block of it runs: a VGG's stages are written inside the VGG)."""
    if isinstance(project_or_graph, Graph):
        if graph is not None and graph != project_or_graph.name:
            raise ExportError(f"the graph is called {project_or_graph.name!r}, not {graph!r}")
        return project_or_graph
    project = project_or_graph
    names = [g.name for g in project.graphs]
    if graph is None:
        networks = top_level_graphs(project)
        if len(networks) == 1:
            return networks[0]
        if len(names) != 1:
            listed = ", ".join(names) or "none"
            raise ExportError(f"the project has {len(names)} graphs ({listed}): "
                              "choose one to export")
        return project.graphs[0]
    for g in project.graphs:
        if g.name == graph:
            return g
    raise ExportError(f"the project has no graph named {graph!r}; it has {', '.join(names)}")


def weights_problems(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> list[str]:
    """Why ``state`` does not fit ``model`` exactly: missing, unexpected, mis-shaped keys."""
    expected = model.state_dict()
    problems = []
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [f"{k} is {list(state[k].shape)}, the model needs {list(v.shape)}"
                  for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing:
        problems.append("missing " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected " + ", ".join(unexpected))
    if mismatched:
        problems.append("shape mismatch: " + "; ".join(mismatched))
    return problems


def export_python(project_or_graph: Project | Graph, out_path: str | os.PathLike,
                  weights: str | os.PathLike | Mapping[str, torch.Tensor] | None = None,
                  graph: str | None = None) -> ExportResult:
    """Write the source of one graph to ``out_path`` (and its weights to ``<out>.pt``).

    ``project_or_graph`` is a Project (its only graph, or the one named ``graph``) or a
    Graph.  ``weights`` is a weights file path or a state dict; it must fit the module
    exactly.  Raises :class:`ExportError` (or ``WeightsError`` for an unreadable
    weights file) before writing anything.
    """
    g = pick_graph(project_or_graph, graph)
    try:
        gen = generate(g)
    except CodegenError as e:
        raise ExportError(f"cannot export {g.name!r}: " + "; ".join(e.problems)) from None
    out_path = Path(out_path)
    state = None
    pt_path = None
    if weights is not None:
        state = load_weights(weights) if isinstance(weights, (str, os.PathLike)) else weights
        model = compile_source(gen)()
        problems = weights_problems(model, state)
        if not problems:
            try:
                model.load_state_dict(state, strict=True)
            except RuntimeError as e:  # a check of PyTorch's that the one above missed
                problems = [" ".join(str(e).split())]
        if problems:
            raise ExportError(f"the weights do not fit {gen.class_name}: "
                              + "; ".join(problems))
        pt_path = out_path.with_suffix(".pt")
        if pt_path == out_path:
            raise ExportError(f"{out_path.name}: the source file needs a name ending in .py")
    atomic_write(out_path, gen.source.encode("utf-8"))
    if state is not None:
        save_weights(pt_path, state)
    return ExportResult(out_path, gen.class_name, pt_path, len(state) if state else 0)
