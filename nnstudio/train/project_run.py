"""From a project to a run: the graph compiled, its dataset loaded, its config checked.

This is where the three rooms meet — the document (what to train), the data (what to
train on) and the trainer (how) — so the window, the command line and the tests all
start a run the same way, and all get the same clear message when the pieces do not
fit ("the graph's Input 'x' takes [B, 2] but dataset 'digits' gives [B, 1, 8, 8]").
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from nnstudio.data import DatasetError, DatasetSplits, load_dataset
from nnstudio.graph.codegen import CodegenError, GeneratedCode
from nnstudio.graph.compiler import compile_graph
from nnstudio.graph.document import Graph, Project
from nnstudio.graph.shapes import fmt_shape
from nnstudio.train.config import TrainConfig
from nnstudio.train.errors import ConfigError


class RunSetupError(ValueError):
    """The project cannot be trained as it stands; the message says what to change."""


@dataclass
class PreparedRun:
    graph: Graph
    graph_snapshot: dict[str, Any]  # the graph as it was when the run started
    model: nn.Module
    splits: DatasetSplits
    config: TrainConfig
    dataset: dict[str, Any] = field(default_factory=dict)  # {"name": ..., options...}

    @property
    def code(self) -> GeneratedCode:
        return self.model.nnstudio_code


def dataset_spec(project: Project, override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The project's dataset section ({"name": ..., options}), with ``override`` applied."""
    spec = dict(project.training.get("dataset") or {})
    if override:
        if "name" in override and override["name"] != spec.get("name"):
            spec = {}  # another dataset: the old one's options do not apply
        spec.update(override)
    if not spec.get("name"):
        raise RunSetupError("the project names no dataset to train on; choose one")
    return spec


def train_config(project: Project, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """The project's training configuration with ``overrides`` on top, validated."""
    data = dict(project.training.get("config") or {})
    data.update(overrides or {})
    try:
        return TrainConfig.from_dict(data)
    except ConfigError as e:
        raise RunSetupError(f"training settings: {e}") from None


def prepare_run(project: Project, *, graph: Graph | None = None,
                dataset: Mapping[str, Any] | None = None,
                config_overrides: Mapping[str, Any] | None = None,
                progress: Callable[[int, int, str], bool | None] | None = None) -> PreparedRun:
    """Compile ``graph`` (default: the project's first), load its dataset and check they fit.

    Raises :class:`RunSetupError` with one clear message for every way this can fail
    (graph errors, unknown dataset, bad options, missing files, mismatched shapes).
    """
    graph = graph or project.graph()
    config = train_config(project, config_overrides)
    spec = dataset_spec(project, dataset)
    options = {k: v for k, v in spec.items() if k != "name"}
    options.setdefault("seed", config.seed)
    try:
        splits = load_dataset(spec["name"], progress=progress, **options)
    except DatasetError as e:
        raise RunSetupError(f"dataset '{spec['name']}': {e}") from None
    try:
        model = compile_graph(graph)
    except CodegenError as e:
        raise RunSetupError(str(e)) from None
    check_input_fits(model.nnstudio_code, splits)
    _apply_freeze(graph, model)
    return PreparedRun(graph, copy.deepcopy(graph.to_dict()), model, splits, config, spec)


def check_input_fits(code: GeneratedCode, splits: DatasetSplits) -> None:
    """Raise RunSetupError unless the graph's single Input takes the dataset's examples."""
    info = splits.info
    if len(code.inputs) != 1:
        raise RunSetupError(
            f"this recipe feeds one input, but the graph has {len(code.inputs)} Input nodes")
    arg = code.inputs[0][1]
    want = tuple(code.input_shapes[arg])
    got = tuple(info.input_shape)
    if want != got:
        raise RunSetupError(
            f"the graph's Input '{arg}' takes {fmt_shape(('B',) + want)} but dataset "
            f"'{info.name}' gives {fmt_shape(('B',) + got)}: set the Input's shape to "
            f"{', '.join(map(str, got))}")
    wants_ids = code.input_dtypes[arg] == "long"
    has_ids = info.input_dtype.startswith("int")
    if wants_ids != has_ids:
        what = "integer token ids" if wants_ids else "real values"
        gives = "integer token ids" if has_ids else "real values"
        raise RunSetupError(f"the graph's Input '{arg}' takes {what} but dataset "
                            f"'{info.name}' gives {gives}: change the Input's dtype")


def _apply_freeze(graph: Graph, model: nn.Module) -> None:
    """Frozen nodes keep their weights: their parameters get requires_grad=False."""
    attrs = model.nnstudio_code.attrs
    for node in graph.nodes:
        if node.frozen and node.id in attrs:
            sub = getattr(model, attrs[node.id], None)
            if isinstance(sub, nn.Module):
                for p in sub.parameters():
                    p.requires_grad_(False)
