"""From a project to a run: the graph compiled, its dataset loaded, its config checked.

This is where the three rooms meet — the document (what to train), the data (what to
train on) and the trainer (how) — so the window, the command line and the tests all
start a run the same way, and all get the same clear message when the pieces do not
fit ("the graph's Input 'x' takes [B, 2] but dataset 'digits' gives [B, 1, 8, 8]").

Recipes that train several networks name the graphs they need by role (see
:mod:`nnstudio.train.requirements`).  A role is played by the graph named in the
project's ``training["graphs"]`` mapping (``{"generator": "G", "discriminator": "D"}``)
or else by the graph whose name is the role's (case, spaces and punctuation
ignored: "Generator" plays ``generator``).  The model handed to the trainer is then
a :class:`~nnstudio.train.graph_set.GraphSet` of the compiled graphs by role; each
graph's weights are saved to its own file (:meth:`PreparedRun.weights_by_graph`),
which loads unchanged into that graph's exported class.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from nnstudio.data import DatasetError, DatasetSplits, load_dataset
from nnstudio.graph.codegen import CodegenError, GeneratedCode
from nnstudio.graph.compiler import compile_graph
from nnstudio.graph.document import Graph, GraphError, Project
from nnstudio.graph.shapes import fmt_shape
from nnstudio.train.config import TrainConfig
from nnstudio.train.errors import ConfigError
from nnstudio.train.graph_set import GraphSet
from nnstudio.train.recipes import Recipe, recipe_class
from nnstudio.train.requirements import SINGLE, GraphRole, Layout, output_order


class RunSetupError(ValueError):
    """The project cannot be trained as it stands; the message says what to change."""


@dataclass
class PreparedRun:
    """A run ready for the Trainer: ``Trainer(run.model, run.splits, run.config)``.

    ``graph`` is the (first) graph trained; ``graphs`` maps each role of the recipe to
    its graph (``{"model": graph}`` for one-graph recipes), and ``model`` is then a
    :class:`GraphSet` holding one compiled module per role.
    """

    graph: Graph
    graph_snapshot: dict[str, Any]  # the graph as it was when the run started
    model: nn.Module
    splits: DatasetSplits
    config: TrainConfig
    dataset: dict[str, Any] = field(default_factory=dict)  # {"name": ..., options...}
    graphs: dict[str, Graph] = field(default_factory=dict)  # role -> graph
    graph_snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> graph dict

    @property
    def codes(self) -> dict[str, GeneratedCode]:
        """Role -> the generated code of that role's graph."""
        if isinstance(self.model, GraphSet):
            return {role: module.nnstudio_code for role, module in self.model.items()}
        return {SINGLE: self.model.nnstudio_code}

    @property
    def code(self) -> GeneratedCode:
        """The generated code of the (first) graph."""
        return next(iter(self.codes.values()))

    def weights_by_graph(self) -> dict[str, dict[str, torch.Tensor]]:
        """Graph name -> its state dict, which loads into that graph's exported class.

        Save each with ``save_weights(weights_path(project_path, project.graph(name)),
        state)``: a GAN project gets ``<stem>.Generator.pt`` and
        ``<stem>.Discriminator.pt``.
        """
        if isinstance(self.model, GraphSet):
            return self.model.weights_by_graph()
        return {self.graph.name: self.model.state_dict()}


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
                progress: Callable[[int, int, str], bool | None] | None = None,
                graphs: Mapping[str, str] | None = None) -> PreparedRun:
    """Compile the graph(s) the recipe needs, load the dataset and check they fit.

    A one-graph recipe trains ``graph`` (default: the project's first).  A recipe
    that needs graphs by role (GAN: generator and discriminator) finds them through
    ``graphs`` (role -> graph name), else the project's ``training["graphs"]``, else
    by name.  Raises :class:`RunSetupError` with one clear message for every way this
    can fail (graph errors, missing graphs or outputs, unknown dataset, bad options,
    missing files, mismatched shapes).
    """
    config = train_config(project, config_overrides)
    recipe = recipe_class(config.recipe)
    mapping = project.training.get("graphs") if graphs is None else graphs
    layout, chosen = resolve_graphs(project, recipe, graph, mapping)
    spec = dataset_spec(project, dataset)
    options = {k: v for k, v in spec.items() if k != "name"}
    options.setdefault("seed", config.seed)
    try:
        splits = load_dataset(spec["name"], progress=progress, **options)
    except DatasetError as e:
        raise RunSetupError(f"dataset '{spec['name']}': {e}") from None
    modules: dict[str, nn.Module] = {}
    # the initial weights come from torch's generator: seed it so a run repeats exactly
    torch.manual_seed(config.seed)
    for role, g in chosen.items():
        try:
            modules[role] = compile_graph(g)
        except CodegenError as e:
            raise RunSetupError(str(e) if layout.single else f"graph '{g.name}': {e}") from None
    problems = []
    for role, g in chosen.items():
        problem = _check_outputs(recipe, layout, layout.role(role), g, modules[role])
        if problem:
            problems.append(problem)
    if problems:
        raise RunSetupError("; ".join(problems))
    for role, g in chosen.items():
        _check_feed(layout.role(role), g, modules[role].nnstudio_code, splits, layout.single)
        _apply_freeze(g, modules[role])
    if layout.single:
        model: nn.Module = modules[layout.roles[0]]
    else:
        model = GraphSet(modules, {role: g.name for role, g in chosen.items()})
    snapshots = {role: copy.deepcopy(g.to_dict()) for role, g in chosen.items()}
    first = next(iter(chosen))
    return PreparedRun(chosen[first], snapshots[first], model, splits, config, spec,
                       dict(chosen), snapshots)


def resolve_graphs(project: Project, recipe: type[Recipe], graph: Graph | None = None,
                   mapping: Mapping[str, str] | None = None) -> tuple[Layout, dict[str, Graph]]:
    """The layout of ``recipe`` that ``project`` follows, and its graph for each role.

    Layouts are tried in the recipe's order.  One that needs several graphs is taken
    when every role finds its graph and ``graph`` (the one on screen, say) is among
    them or the recipe has no one-graph layout; a one-graph layout takes ``graph``, the
    graph ``mapping`` names for its role, or the project's first.  When no layout fits,
    RunSetupError says what the first one that needs several graphs is missing.
    """
    mapping = _check_mapping(project, recipe, mapping)
    layouts = list(recipe.requires)
    has_single = any(layout.single for layout in layouts)
    first_problem = None
    for layout in layouts:
        if layout.single:
            role = layout.roles[0]
            if graph is not None:
                return layout, {role: graph}
            if role in mapping:
                return layout, {role: project.graph(mapping[role])}
            try:
                return layout, {role: project.graph()}
            except GraphError as e:
                raise RunSetupError(str(e)) from None
        found = {r: _graph_for(project, r, mapping) for r in layout.roles}
        if all(found.values()):
            if graph is None or not has_single or any(g is graph for g in found.values()):
                return layout, found  # type: ignore[return-value]
            continue  # another graph was chosen: train it on its own
        if first_problem is None:
            first_problem = _missing_graphs(project, recipe, layout, found)
    raise RunSetupError(first_problem or f"the {recipe.display_name()} recipe declares no layout")


def _normal(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _check_mapping(project: Project, recipe: type[Recipe],
                   mapping: Mapping[str, str] | None) -> dict[str, str]:
    if not mapping:
        return {}
    if not isinstance(mapping, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise RunSetupError("training.graphs must map roles to graph names, "
                            "e.g. {\"generator\": \"G\", \"discriminator\": \"D\"}")
    roles = {r for layout in recipe.requires for r in layout.roles}
    unknown = sorted(set(mapping) - roles)
    if unknown:
        raise RunSetupError(f"training.graphs names role(s) {', '.join(map(repr, unknown))}, "
                            f"but the {recipe.display_name()} recipe has the roles "
                            f"{', '.join(map(repr, sorted(roles)))}")
    names = [g.name for g in project.graphs]
    for role, name in mapping.items():
        if name not in names:
            raise RunSetupError(f"training.graphs gives the {role} role to graph {name!r}, but "
                                f"the project has no such graph (it has "
                                f"{', '.join(map(repr, names)) or 'none'})")
    return dict(mapping)


def _graph_for(project: Project, role: str, mapping: Mapping[str, str]) -> Graph | None:
    if role in mapping:
        return project.graph(mapping[role])
    for g in project.graphs:
        if _normal(g.name) == _normal(role):
            return g
    return None


def _missing_graphs(project: Project, recipe: type[Recipe], layout: Layout,
                    found: Mapping[str, Graph | None]) -> str:
    missing = [r for r, g in found.items() if g is None]
    have = ", ".join(repr(g.name) for g in project.graphs) or "none"
    named = " or ".join(repr(r) for r in missing)
    return (f"the {recipe.display_name()} recipe needs {len(layout.graphs)} graphs: "
            f"{layout.describe()}; the project has no graph named {named} (it has {have}) "
            "— name the graphs so, or map roles to graphs in the project's training.graphs")


def _check_outputs(recipe: type[Recipe], layout: Layout, role: GraphRole, graph: Graph,
                   module: nn.Module) -> str | None:
    """Why ``graph`` returns the wrong number of outputs for ``role``; or None, after
    noting on ``module`` the order its outputs should be read in when their names say so."""
    code = module.nnstudio_code
    names = [graph.node(oid).name for oid in code.outputs]
    problem = role.count_problem(recipe.display_name(), graph.name, len(names),
                                 layout.single, names)
    if problem is None:
        order = output_order(names, role)
        if order is not None:
            module.nnstudio_output_order = order
    return problem


def _check_feed(role: GraphRole, graph: Graph, code: GeneratedCode, splits: DatasetSplits,
                single: bool) -> None:
    """Raise RunSetupError unless ``graph``'s Input takes what ``role`` feeds it."""
    where = "" if single else f"graph '{graph.name}' ({role.role}): "
    if role.feed == "data":
        try:
            check_input_fits(code, splits)
        except RunSetupError as e:
            raise RunSetupError(f"{where}{e}") from None
        return
    what = "random noise" if role.feed == "noise" else "a latent code"
    if len(code.inputs) != 1:
        raise RunSetupError(f"{where}the {role.role} graph takes {what} through one Input, "
                            f"but it has {len(code.inputs)} Input nodes")
    arg = code.inputs[0][1]
    if code.input_dtypes[arg] != "float":
        raise RunSetupError(f"{where}the {role.role} graph's Input '{arg}' takes {what}, "
                            "which is real-valued: set the Input's dtype to float")


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
