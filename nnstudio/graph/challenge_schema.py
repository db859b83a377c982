"""A template's challenge: a goal the app checks by itself after a run (data, not code).

A project's ``meta.challenge`` reads, for example::

    {"goal": "Reach 98 % test accuracy with at most 50,000 parameters.",
     "metric": "test.accuracy", "at_least": 0.98,
     "limits": {"max_parameters": 50000, "max_seconds": 120}}

``metric`` names a value the run reports, ``<split>.<name>`` of
``TrainResult.metrics`` ("val.loss", "test.sequence_accuracy"); exactly one of
``at_least`` and ``at_most`` gives the bound it must reach; ``limits`` are optional.
This module only reads and checks that data (it lives with the document, so that the
template list can refuse a broken one); :mod:`nnstudio.train.challenges` judges a run
against it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SPLITS = ("train", "val", "test")
KEYS = ("goal", "metric", "at_least", "at_most", "limits")
LIMIT_KEYS = ("max_parameters", "max_seconds")
MAX_GOAL = 500
_METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class ChallengeError(ValueError):
    """A challenge is not well formed; the message names the field and what is wrong."""


@dataclass(frozen=True)
class Challenge:
    """A checked challenge.  ``op`` is "at_least" or "at_most"."""

    goal: str
    split: str
    metric: str
    op: str
    target: float
    max_parameters: int | None = None
    max_seconds: float | None = None

    @property
    def key(self) -> str:
        """``"<split>.<metric>"``, as written in the file."""
        return f"{self.split}.{self.metric}"

    def to_dict(self) -> dict[str, Any]:
        """The challenge as ``meta.challenge`` holds it (parsing it gives it back)."""
        data: dict[str, Any] = {"goal": self.goal, "metric": self.key, self.op: self.target}
        limits: dict[str, Any] = {}
        if self.max_parameters is not None:
            limits["max_parameters"] = self.max_parameters
        if self.max_seconds is not None:
            limits["max_seconds"] = self.max_seconds
        if limits:
            data["limits"] = limits
        return data


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def parse_challenge(data: Any, where: str = "meta.challenge") -> Challenge:
    """Check ``data`` (a ``meta.challenge`` value) and return it as a :class:`Challenge`.

    Raises :class:`ChallengeError` whose message begins with the bad field's path,
    e.g. ``meta.challenge.metric: expected "<split>.<name>" ...``.
    """
    def fail(field: str, msg: str):
        raise ChallengeError(f"{where}.{field}: {msg}" if field else f"{where}: {msg}")

    if not isinstance(data, Mapping):
        fail("", f"expected an object, got {_kind(data)}")
    unknown = [str(k) for k in data if k not in KEYS]
    if unknown:
        fail(unknown[0][:60], f"unknown field (a challenge has {', '.join(KEYS)})")
    goal = data.get("goal")
    if not isinstance(goal, str):
        fail("goal", f"expected one sentence of text, got {_kind(goal)}")
    if not goal.strip():
        fail("goal", "must not be empty")
    if len(goal) > MAX_GOAL:
        fail("goal", f"is {len(goal)} characters; at most {MAX_GOAL}")
    metric = data.get("metric")
    if not isinstance(metric, str):
        fail("metric", f"expected text \"<split>.<name>\" such as \"test.accuracy\", "
                       f"got {_kind(metric)}")
    split, dot, name = metric.partition(".")
    if not dot or split not in SPLITS or not _METRIC_NAME.fullmatch(name):
        fail("metric", f"expected \"<split>.<name>\" with split {', '.join(SPLITS)} "
                       f"(such as \"test.accuracy\"), got {metric[:80]!r}")
    bounds = [k for k in ("at_least", "at_most") if k in data]
    if len(bounds) != 1:
        fail("at_least" if not bounds else "at_most",
             "give exactly one of at_least and at_most" if bounds
             else "missing: give at_least or at_most, the bound the metric must reach")
    op = bounds[0]
    target = data[op]
    if not _number(target):
        fail(op, f"expected a finite number, got {_kind(target)}")
    max_parameters = max_seconds = None
    limits = data.get("limits", {})
    if not isinstance(limits, Mapping):
        fail("limits", f"expected an object, got {_kind(limits)}")
    unknown = [str(k) for k in limits if k not in LIMIT_KEYS]
    if unknown:
        fail(f"limits.{unknown[0][:60]}",
             f"unknown limit (limits are {' and '.join(LIMIT_KEYS)})")
    if "max_parameters" in limits:
        max_parameters = limits["max_parameters"]
        if isinstance(max_parameters, bool) or not isinstance(max_parameters, int):
            fail("limits.max_parameters", f"expected a whole number, got {_kind(max_parameters)}")
        if max_parameters < 1:
            fail("limits.max_parameters", f"must be at least 1, got {max_parameters}")
    if "max_seconds" in limits:
        max_seconds = limits["max_seconds"]
        if not _number(max_seconds):
            fail("limits.max_seconds", f"expected a finite number, got {_kind(max_seconds)}")
        if max_seconds <= 0:
            fail("limits.max_seconds", f"must be more than 0, got {max_seconds}")
    return Challenge(goal.strip(), split, name, op, target, max_parameters, max_seconds)


def challenge_of(meta: Mapping[str, Any], where: str = "meta.challenge") -> Challenge | None:
    """The challenge in a project's ``meta``, or None when it has none.

    Raises :class:`ChallengeError` when there is one and it is not well formed.
    """
    if "challenge" not in meta:
        return None
    return parse_challenge(meta["challenge"], where)
