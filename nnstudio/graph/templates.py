"""Ready-made projects a person starts from: the roadmap's worked examples.

A template is an ordinary project file, ``<name>.nnstudio``, in ``assets/templates``.
Its title and description are the project's own; ``training`` says which data set and
hyperparameters it is meant to train with, and ``meta`` holds roadmap facts such as
``{"order": 1, "stage": "perceptron, MLP, activation functions"}``.  Because templates
are project files, they are read by the same checked loader as a person's files and
never execute anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nnstudio.paths import assets_dir

from .challenge_schema import ChallengeError, challenge_of
from .document import Project
from .project_file import SUFFIX, ProjectFileError, load_project


class TemplateError(LookupError):
    """No template has the name asked for; the message lists those that exist."""


@dataclass(frozen=True)
class TemplateInfo:
    name: str  # the file name without ".nnstudio": what `nnstudio new NAME` takes
    title: str
    description: str
    path: Path
    order: int | None = None  # meta["order"], when the template gives one


def templates_dir() -> Path:
    """The folder of template files: ``<assets>/templates``.

    The assets folder is the repository's top-level ``assets/`` unless the environment
    variable ``NNSTUDIO_ASSETS`` points at another one.
    """
    return assets_dir() / "templates"


def _files() -> dict[str, Path]:
    folder = templates_dir()
    if not folder.is_dir():
        return {}
    return {p.name[: -len(SUFFIX)]: p for p in folder.glob(f"*{SUFFIX}") if p.is_file()}


def _sort_key(info: TemplateInfo) -> tuple:
    # templates with an order come first, by that order; the rest follow by name
    return (0, info.order, info.name) if info.order is not None else (1, 0, info.name)


def list_templates() -> list[TemplateInfo]:
    """Every template, in roadmap order (``meta.order``, then name).

    Raises :class:`~nnstudio.graph.project_file.ProjectFileError` if a template file is
    broken: a shipped template that does not load is a bug to see, not to hide.
    """
    infos = []
    for name, path in _files().items():
        project = _load(path)
        order = project.meta.get("order")
        if isinstance(order, bool) or not isinstance(order, int):
            order = None
        infos.append(TemplateInfo(name, project.title, project.description, path, order))
    return sorted(infos, key=_sort_key)


def template_names() -> list[str]:
    return [t.name for t in list_templates()]


def load_template(name: str) -> Project:
    """A fresh :class:`Project` read from template ``name``.

    Only names of files in :func:`templates_dir` are accepted (never a path), so a
    name cannot reach outside the folder.  An unknown name raises
    :class:`TemplateError` listing the available ones.
    """
    path = _files().get(name)
    if path is None:
        available = ", ".join(template_names()) or f"none (no templates in {templates_dir()})"
        raise TemplateError(f"unknown template {name!r}; available: {available}")
    project = _load(path)
    # the project remembers its template, so its challenge is recognised after Save As
    project.meta["template"] = name
    return project


def _load(path: Path) -> Project:
    """Load a template file, refusing a malformed ``meta.challenge`` (a person's own
    project may carry one the app cannot read; a shipped template may not)."""
    project = load_project(path)
    try:
        challenge_of(project.meta)
    except ChallengeError as e:
        raise ProjectFileError(f"{path.name}: {e}") from None
    return project
