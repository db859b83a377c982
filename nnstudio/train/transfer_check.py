"""Does transfer learning pay?  A project whose blocks reuse another project's trained
network, trained as it stands, against the same network trained from scratch.

"From scratch" means: the same graph, the same data (the same few examples per class,
since the split and the selection follow the same seed), the same settings, but every
layer trainable (no node frozen, every learning-rate multiplier 1) and every weight at
PyTorch's default initialisation instead of the reused ones.  The difference between the
two test accuracies is what the reused features are worth; the roadmap benchmark asks
``transfer-digits`` for at least 10 points.

:func:`pretrain_block_weights` is the other half: train a project (``digits-pretrain``)
and write the weights of the graphs its blocks run beside it, where another project's
block (``transfer-digits``) finds them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from nnstudio.graph.document import Graph, Project
from nnstudio.graph.project_file import dumps_project, loads_project
from nnstudio.graph.transfer import block_graph_weights
from nnstudio.graph.weights import save_weights, weights_path
from nnstudio.train.errors import TrainingError
from nnstudio.train.project_run import PreparedRun, RunSetupError, prepare_run
from nnstudio.train.trainer import Trainer


class TransferComparison(NamedTuple):
    """``metric`` on ``split`` of the transfer run and of the from-scratch run."""

    transfer: float
    scratch: float

    @property
    def gain(self) -> float:
        """How much better transfer did (in the metric's units: 0.12 is 12 points)."""
        return self.transfer - self.scratch


def _fit(prepared: PreparedRun, split: str, metric: str, label: str) -> float:
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    if result.stopped_reason == "error":
        raise TrainingError(f"{label}: {result.message}")
    try:
        return float(result.metrics[split][metric])
    except KeyError:
        have = ", ".join(f"{s}.{m}" for s, ms in result.metrics.items() for m in ms) or "none"
        raise TrainingError(f"{label}: the run reported no {split}.{metric} "
                            f"(it reported {have})") from None


def scratch_copy(project: Project) -> Project:
    """A copy of ``project`` (read back from its own file text, so nothing is shared)
    with every node of every graph unfrozen and at learning-rate multiplier 1."""
    copy = loads_project(dumps_project(project), "scratch copy", project.folder)
    for g in copy.graphs:
        for node in g.nodes:
            g.set_training_flags(node.id, frozen=False, lr_mult=1.0)
    return copy


def reinitialise(model: nn.Module, seed: int) -> int:
    """Put every layer of ``model`` back to PyTorch's default initialisation (drawn
    with ``seed``); returns how many layers were reset."""
    torch.manual_seed(seed)
    count = 0
    for module in model.modules():
        reset = getattr(module, "reset_parameters", None)
        if module is not model and callable(reset):
            reset()
            count += 1
    return count


def compare_with_scratch(project: Project, *, graph: Graph | None = None,
                         split: str = "test", metric: str = "accuracy",
                         config_overrides: Mapping[str, Any] | None = None
                         ) -> TransferComparison:
    """Train ``project`` as it stands (reused weights, frozen layers) and the same
    network from scratch; returns both values of ``split``.``metric``.

    Both runs use the project's dataset and settings, with ``config_overrides`` on top
    (default: the CPU).  Raises RunSetupError if the project cannot train or reuses no
    trained network (then there is nothing to compare), TrainingError if a run fails.
    """
    overrides = {"device": "cpu", **(config_overrides or {})}
    prepared = prepare_run(project, graph=graph, config_overrides=overrides)
    if not prepared.code.external_weights:
        raise RunSetupError(f"graph '{prepared.graph.name}' reuses no trained network (no "
                            "block runs another project's graph): there is nothing to "
                            "compare with training from scratch")
    transfer = _fit(prepared, split, metric, "transfer run")

    copy = scratch_copy(project)
    scratch_graph = copy.graph(prepared.graph.name)
    fresh = prepare_run(copy, graph=scratch_graph, config_overrides=overrides)
    reinitialise(fresh.model, fresh.config.seed)
    scratch = _fit(fresh, split, metric, "from-scratch run")
    return TransferComparison(transfer, scratch)


def pretrain_block_weights(project: Project, project_path: str | os.PathLike, *,
                           graph: Graph | None = None,
                           config_overrides: Mapping[str, Any] | None = None
                           ) -> tuple[dict[str, float], dict[str, Path]]:
    """Train ``project`` (saved at ``project_path``) as it says and write, beside that
    file, the weights of each graph its blocks run (``<stem>.<ClassName>.pt``).

    Returns the run's test metrics (validation ones when it has no test split) and the
    files written, by graph name.  Raises RunSetupError / TrainingError as above, and
    RunSetupError when the trained graph has no block to save.
    """
    overrides = {"device": "cpu", **(config_overrides or {})}
    prepared = prepare_run(project, graph=graph, config_overrides=overrides)
    result = Trainer(prepared.model, prepared.splits, prepared.config).fit()
    if result.stopped_reason == "error":
        raise TrainingError(result.message)
    states = block_graph_weights(prepared.graph, prepared.model)
    if not states:
        raise RunSetupError(f"graph '{prepared.graph.name}' has no block running a graph of "
                            "this project: there are no reusable weights to save")
    written = {}
    for name, state in states.items():
        path = weights_path(project_path, project.graph(name))
        save_weights(path, state)
        written[name] = path
    metrics = result.metrics.get("test") or result.metrics.get("val", {})
    return dict(metrics), written
