"""What the binary exporters share: one graph compiled, its weights loaded, example inputs,
and the comparison of a re-loaded export against the model it came from."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nnstudio.export.python_source import ExportError, pick_graph, weights_problems
from nnstudio.graph.codegen import CodegenError, GeneratedCode, generate
from nnstudio.graph.compiler import build_model
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.weights import load_weights

TOLERANCE = 1e-5  # largest difference an export may show against the model it came from
CHECK_BATCH = 1  # examples the exports are checked on (they are made with 2: the batch is free)

Weights = str | os.PathLike | Mapping[str, torch.Tensor] | None


@dataclass
class LoadedModel:
    graph: Graph
    code: GeneratedCode
    model: nn.Module  # in eval mode, weights loaded


def load_model(project_or_graph: Project | Graph, weights: Weights = None,
               graph: str | None = None) -> LoadedModel:
    """Compile one graph (``graph`` by name, or the only one), load ``weights`` (a file or
    a state dict that must fit exactly) and put it in eval mode; ExportError if not."""
    g = pick_graph(project_or_graph, graph)
    try:
        code = generate(g)
    except CodegenError as e:
        raise ExportError(f"cannot export {g.name!r}: " + "; ".join(e.problems)) from None
    model = build_model(code)
    if weights is not None:
        state = load_weights(weights) if isinstance(weights, (str, os.PathLike)) else weights
        problems = weights_problems(model, state)
        if not problems:
            try:
                model.load_state_dict(state, strict=True)
            except RuntimeError as e:
                problems = [" ".join(str(e).split())]
        if problems:
            raise ExportError(f"the weights do not fit {code.class_name}: " + "; ".join(problems))
    model.eval()
    return LoadedModel(g, code, model)


def example_inputs(loaded: LoadedModel, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Random inputs for every Input, in forward's order (token ids fit every Embedding)."""
    gen = torch.Generator().manual_seed(seed)
    vocab = min([n.params["num_embeddings"] for n in loaded.graph.nodes if n.type == "Embedding"]
                or [10])
    out = []
    for _nid, arg in loaded.code.inputs:
        shape = (batch, *loaded.code.input_shapes[arg])
        if loaded.code.input_dtypes[arg] == "long":
            out.append(torch.randint(0, vocab, shape, generator=gen))
        else:
            out.append(torch.randn(shape, generator=gen))
    return tuple(out)


def flat_outputs(out: Any) -> list[torch.Tensor]:
    """A model's output as a list of tensors (one, or the items of a tuple)."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in flat_outputs(item)]
    raise ExportError(f"the model returned {type(out).__name__}, not tensors")


def max_difference(want: Sequence[Any], got: Sequence[Any]) -> float:
    """Largest absolute difference between two lists of arrays of the same shapes
    (inf when the number or the shapes differ)."""
    if len(want) != len(got):
        return float("inf")
    worst = 0.0
    for a, b in zip(want, got):
        a = torch.as_tensor(a).double()
        b = torch.as_tensor(b).double()
        if a.shape != b.shape:
            return float("inf")
        if a.numel():
            worst = max(worst, float((a - b).abs().max()))
    return worst


def agrees(want: Sequence[Any], difference: float) -> bool:
    """Whether ``difference`` is within :data:`TOLERANCE` of outputs as large as ``want``
    (relative to their largest magnitude when that is above 1: float32 sums over millions
    of weights, in another order, differ in their last digits)."""
    scale = max((float(torch.as_tensor(a).abs().max()) for a in want
                 if torch.as_tensor(a).numel()), default=0.0)
    return difference <= TOLERANCE * max(1.0, scale)


def output_names(loaded: LoadedModel) -> list[str]:
    """Identifiers for the model's outputs, from the Output nodes' names."""
    from nnstudio.graph.names import NameTable

    taken = NameTable({arg for _nid, arg in loaded.code.inputs})
    return [taken.take(loaded.graph.node(oid).name, "output") for oid in loaded.code.outputs]
