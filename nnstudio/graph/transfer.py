"""Reusing trained weights: a block's weights from another project, a state dict loaded
into a drawn network wherever names and shapes fit, and the weights of a project's block
graphs taken out of its trained model so other projects can reuse them.

Weights files are state dicts read with ``torch.load(weights_only=True)`` (see
:mod:`nnstudio.graph.weights`): nothing from them runs.  torch is imported inside the
functions, as in :mod:`~nnstudio.graph.weights`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .codegen import CodegenError
from .weights import WeightsError, load_weights

if TYPE_CHECKING:
    from torch import Tensor, nn

    from .document import Graph


@dataclass
class WeightsReport:
    """What :func:`load_matching_weights` did.

    ``loaded``: names copied into the model; ``missing``: the model's names the file does
    not have (they keep their values); ``unexpected``: the file's names the model does not
    have; ``mismatched``: (name, the model's shape, the file's shape) for names in both
    whose shapes differ (not copied).
    """

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every tensor of the model came from the file, and the file had nothing else."""
        return not (self.missing or self.unexpected or self.mismatched)

    def __str__(self) -> str:
        lines = [f"loaded {len(self.loaded)} tensor{'s' * (len(self.loaded) != 1)}"]
        if self.missing:
            lines.append("not in the file (kept as they were): " + ", ".join(self.missing))
        if self.unexpected:
            lines.append("in the file but not in the model: " + ", ".join(self.unexpected))
        for name, want, got in self.mismatched:
            lines.append(f"{name}: the model needs {list(want)}, the file has {list(got)} "
                         "(not loaded)")
        return "\n".join(lines)


def load_matching_weights(model: nn.Module,
                          state_dict: Mapping[str, Tensor] | str | os.PathLike
                          ) -> WeightsReport:
    """Copy into ``model`` every tensor of ``state_dict`` (a mapping, or a weights file)
    whose name and shape fit; returns exactly which did not.

    For "load weights into a drawn network": a network drawn after a published one
    takes the published weights for every layer it shares, and the report lists the
    layers that were left as they were (a new head, say).
    """
    import torch

    if isinstance(state_dict, (str, os.PathLike)):
        state_dict = load_weights(state_dict)
    own = model.state_dict()
    report = WeightsReport()
    fitting: dict[str, Tensor] = {}
    for name, value in state_dict.items():
        if name not in own:
            report.unexpected.append(name)
        elif tuple(own[name].shape) != tuple(value.shape):
            report.mismatched.append((name, tuple(own[name].shape), tuple(value.shape)))
        else:
            fitting[name] = value
    report.missing = [name for name in own if name not in state_dict]
    with torch.no_grad():
        model.load_state_dict(fitting, strict=False)
    report.loaded = [name for name in own if name in fitting]
    return report


def load_block_weights(model: nn.Module, entries: Sequence[tuple[str, str]]) -> None:
    """Load each weights file of ``entries`` ((submodule path, file)) into that submodule
    of ``model``, which must fit it exactly; raises CodegenError saying which does not."""
    problems = []
    for path, file in entries:
        sub = model.get_submodule(path)
        name = Path(file).name
        if not Path(file).is_file():
            problems.append(f"block '{path}' reuses a trained network, but its weights file "
                            f"{name} is not beside {Path(file).parent}: train and save that "
                            "project first")
            continue
        try:
            state = load_weights(file)
        except WeightsError as e:
            problems.append(f"block '{path}': {e}")
            continue
        report = WeightsReport()
        own = sub.state_dict()
        report.missing = [k for k in own if k not in state]
        report.unexpected = [k for k in state if k not in own]
        report.mismatched = [(k, tuple(v.shape), tuple(state[k].shape)) for k, v in own.items()
                             if k in state and tuple(state[k].shape) != tuple(v.shape)]
        if not report.complete:
            detail = str(report).split("\n", 1)[-1].replace("\n", "; ")
            problems.append(f"block '{path}': {name} does not fit the graph it runs ({detail}); "
                            "was the source project changed after it was trained?")
            continue
        sub.load_state_dict(state, strict=True)
    if problems:
        raise CodegenError(problems)


def block_graph_weights(graph: Graph, model: nn.Module) -> dict[str, dict[str, Tensor]]:
    """The trained weights of each graph that a block of ``graph`` runs: graph name ->
    the state dict of that block's submodule in ``model`` (``graph`` compiled).

    Saved as ``<stem>.<ClassName>.pt`` beside the project (:func:`~.weights.weights_path`
    of the block's graph), they are what a block of *another* project that runs this
    graph loads: train a network once, reuse its feature extractor elsewhere.  Blocks
    that run another project's graph are left out (their weights are that project's).
    A graph run by two blocks of ``graph`` has two sets of weights and raises
    ValueError naming both.
    """
    attrs = model.nnstudio_code.attrs
    found: dict[str, dict[str, Tensor]] = {}
    used_by: dict[str, str] = {}
    for node in graph.block_nodes():
        name = node.params.get("graph", "")
        if node.params.get("source") or not name:
            continue
        if name in used_by:
            raise ValueError(f"graph '{name}' is run by two blocks ('{used_by[name]}' and "
                             f"'{node.name}'), each with its own weights: which to save is "
                             "ambiguous")
        used_by[name] = node.name
        sub = model.get_submodule(attrs[node.id])
        found[name] = {k: v.detach().cpu().clone() for k, v in sub.state_dict().items()}
    return found
