"""Which template challenges this person has achieved, kept in QSettings by template name.

The Training panel records an achievement when a run of a project made from a
template meets that template's challenge *as shipped* (a goal edited in the file does
not count); the start page marks those templates with ✓.  A record remembers the goal
it was earned for, so a template whose goal later changes is not marked for the old one.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from PySide6.QtCore import QSettings

from nnstudio.graph.challenge_schema import ChallengeError, challenge_of
from nnstudio.graph.project_file import ProjectFileError
from nnstudio.graph.templates import TemplateError, load_template

GROUP = "challenges/achieved"


def _key(template: str) -> str:
    # QSettings treats "/" as a group separator; template names are file names
    return f"{GROUP}/{template.replace('/', '_')}"


def shipped_goal(template: str) -> dict[str, Any] | None:
    """The challenge template ``template`` ships with now (None: no template or goal)."""
    try:
        project = load_template(template)
        challenge_of(project.meta)
    except (TemplateError, ProjectFileError, ChallengeError):
        return None
    return project.meta.get("challenge")


def record(template: str, challenge: dict[str, Any], summary: str) -> bool:
    """Remember that ``challenge`` of ``template`` was achieved (with the figures in
    ``summary``); only when it is the template's own challenge.  Returns whether it was
    recorded."""
    if shipped_goal(template) != challenge:
        return False
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    QSettings().setValue(_key(template), json.dumps(
        {"goal": challenge.get("goal", ""), "summary": summary, "when": when},
        ensure_ascii=False))
    return True


def achievement(template: str, goal: str | None = None) -> dict[str, str] | None:
    """``{"goal", "summary", "when"}`` if ``template``'s challenge was achieved (for
    ``goal``, when given: an achievement of an older goal does not count)."""
    raw = QSettings().value(_key(template), "")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return None  # a settings file edited by hand: as if never achieved
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str)
                                             for k in ("goal", "summary", "when")):
        return None
    if goal is not None and data["goal"] != goal:
        return None
    return data


def forget(template: str) -> None:
    QSettings().remove(_key(template))
